// The Upstash REST server's own latency during the run, asked from outside the Worker: a PING every
// `everyMs`, timed from this process. Beside the Worker's Redis timeouts it tells where a slow
// answer waited: in the stack (the probe is slow too) or in workerd (the probe is not).

export interface RedisProbe {
  /** Stops probing; answers each PING's milliseconds. */
  stop(): Promise<number[]>;
}

const everyMs = 250;

export function probeRedis(url: string, token: string): RedisProbe {
  const latencies: number[] = [];
  let stopped = false;
  const probing = (async () => {
    while (!stopped) {
      const started = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: '["PING"]',
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`the Upstash REST server answered ${response.status}`);
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  // Its failure is reported by stop(), not as an unhandled rejection before it.
  probing.catch(() => {});
  return {
    stop: async () => {
      stopped = true;
      await probing;
      return latencies;
    },
  };
}
