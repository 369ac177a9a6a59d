// A proxy in front of the local Upstash REST server that notes every request reaching it: the
// round trips to Redis a request makes, and the commands each carried.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

export interface CountedRedisRequest {
  path: string;
  /** Upper-cased command names; a pipeline carries several. */
  commands: string[];
  args: string[][];
  /** When the request arrived and when its answer left (performance.now()). */
  startedAt: number;
  endedAt: number;
}

/**
 * How many times a caller waited on Redis: requests in flight together are one round trip, a
 * request sent after an earlier one's answer is another.
 */
export function roundTripsOf(requests: readonly CountedRedisRequest[]): number {
  let trips = 0;
  let lastAnswer = Number.NEGATIVE_INFINITY;
  for (const request of [...requests].sort((a, b) => a.startedAt - b.startedAt)) {
    if (request.startedAt >= lastAnswer) trips += 1;
    lastAnswer = Math.max(lastAnswer, request.endedAt);
  }
  return trips;
}

/** The Upstash REST requests a request makes, counted by a proxy in front of the local server. */
export async function countingRedisProxy(target: string) {
  const requests: CountedRedisRequest[] = [];
  const server: Server = createServer(async (incoming, outgoing) => {
    const startedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const parsed = JSON.parse(body) as unknown[];
    // A pipeline is a list of commands; a single command is one list of arguments.
    const commands = (Array.isArray(parsed[0]) ? parsed : [parsed]) as string[][];
    const counted: CountedRedisRequest = {
      path: incoming.url ?? '',
      commands: commands.map(([name]) => String(name).toUpperCase()),
      args: commands.map((command) => command.map(String)),
      startedAt,
      endedAt: Number.POSITIVE_INFINITY,
    };
    requests.push(counted);
    const answer = await fetch(`${target}${incoming.url}`, {
      method: 'POST',
      // The official client asks for base64-encoded replies; without the header they would come
      // back plain, and it would decode them into garbage.
      headers: {
        authorization: incoming.headers.authorization ?? '',
        ...(incoming.headers['upstash-encoding'] !== undefined && {
          'upstash-encoding': String(incoming.headers['upstash-encoding']),
        }),
      },
      body,
    });
    outgoing.writeHead(answer.status, { 'content-type': 'application/json' });
    const text = await answer.text();
    counted.endedAt = performance.now();
    outgoing.end(text);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((closed) => server.close(closed)),
  };
}
