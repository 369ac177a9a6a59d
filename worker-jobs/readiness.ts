// Readiness: can this copy reach Redis (job state) and the SMTP server right now? Both probes run
// at once, each cut off at HEALTH_TIMEOUT_MS, so a hung backend cannot hang the probe.
import { withTimeout } from '../src/lib/timeout.ts';
import type { WorkerDeps } from './deps.ts';

const probes = {
  redis: async ({ redis }: WorkerDeps) => {
    const reply = await redis.ping();
    if (reply !== 'PONG') throw new Error(`PING answered ${String(reply)}`);
  },
  smtp: ({ mailer }: WorkerDeps) => mailer.verify(),
};

export type WorkerBackend = keyof typeof probes;

export interface WorkerReadiness {
  failing: WorkerBackend[];
  /** Each failure's text, for the log line only. */
  faults: Partial<Record<WorkerBackend, string>>;
}

export async function checkWorkerReadiness(deps: WorkerDeps): Promise<WorkerReadiness> {
  const backends = Object.keys(probes) as WorkerBackend[];
  const outcomes = await Promise.allSettled(
    backends.map((backend) => withTimeout(probes[backend](deps), deps.config.HEALTH_TIMEOUT_MS)),
  );
  const readiness: WorkerReadiness = { failing: [], faults: {} };
  outcomes.forEach((outcome, index) => {
    const backend = backends[index] as WorkerBackend;
    if (outcome.status === 'fulfilled') return;
    readiness.failing.push(backend);
    readiness.faults[backend] = String(outcome.reason);
  });
  return readiness;
}
