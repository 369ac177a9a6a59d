// The backends' HTTP replies, replayed in-process: what the app does with a reply is ours to make
// faster, the socket work of Node's fetch is not. Inside `run`, globalThis.fetch answers a request
// it has seen before with the reply recorded for it, without a socket; a request it has not seen
// goes out for real once and its reply is recorded. @upstash/redis looks the global fetch up at
// each request and sends its commands as a JSON body, so a reply is keyed by method, URL and body:
// the client's two concurrent /pipeline requests (reads, writes) each find their own, whichever
// leaves first. The body's bare numbers are masked in the key: the rate limiter's script takes the
// clock as an argument, so they change from request to request, while the commands and keys, which
// tell requests apart, are strings. The replay's own work (the key, a Response) is counted with
// the app's: it stands for the Response a real fetch builds.

interface RecordedReply {
  status: number;
  headers: [string, string][];
  body: ArrayBuffer;
}

export interface Replay {
  /** Runs `work` with globalThis.fetch replaying; the real fetch is back when it settles. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** How many requests went out for real because no reply was recorded for them (yet). */
  readonly fetched: number;
}

/** A JSON number as an array element: `,1796589938024]` */
const bareNumber = /([[,])-?\d+(?:\.\d+)?(?=[,\]])/g;

function keyOf(input: string | URL | Request, init: RequestInit | undefined): string {
  if (input instanceof Request) throw new Error('replay: keys requests by init, not a Request');
  const body = init?.body ?? '';
  if (typeof body !== 'string') throw new Error('replay: keys requests by a string body');
  return `${init?.method ?? 'GET'} ${String(input)}\n${body.replace(bareNumber, '$1#')}`;
}

export function createReplay(): Replay {
  const realFetch = globalThis.fetch;
  const replies = new Map<string, RecordedReply>();
  let fetched = 0;

  const replayingFetch = async (input: string | URL | Request, init?: RequestInit) => {
    const key = keyOf(input, init);
    let reply = replies.get(key);
    if (reply === undefined) {
      fetched += 1;
      const response = await realFetch(input, init);
      reply = {
        status: response.status,
        headers: [...response.headers],
        body: await response.arrayBuffer(),
      };
      replies.set(key, reply);
    }
    // Response copies the bytes, so one recording serves every replay.
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  };

  return {
    async run(work) {
      globalThis.fetch = replayingFetch;
      try {
        return await work();
      } finally {
        globalThis.fetch = realFetch;
      }
    },
    get fetched() {
      return fetched;
    },
  };
}
