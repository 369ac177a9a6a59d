// The CPU time of a login: the whole handler path (createApp on Node: rate limit, validation, the
// user look-up, PBKDF2 at 100,000 iterations, the session's JWT and refresh token), and the hash
// alone beside it, both the median of several runs in one process. DESIGN gives password hashing
// the only exemption from the CPU budget, so the figures are printed, not judged.
import { hashPassword, PASSWORD_ITERATIONS, verifyPassword } from '../src/lib/passwords.ts';
import {
  benchAccount,
  benchApp,
  loginBenchAccount,
  median,
  registerBenchAccount,
  startStackProcess,
} from './app-on-stack.ts';
import type { Benchmark } from './benchmark.ts';

const runs = 15;
const warmUp = 3;

/** CPU (user + system, every thread of this process: PBKDF2 runs on libuv's pool) and wall time. */
async function measure(work: () => Promise<unknown>): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs };
}

async function medians(
  work: () => Promise<unknown>,
  after: () => Promise<unknown> = async () => {},
) {
  for (let i = 0; i < warmUp; i += 1) {
    await work();
    await after();
  }
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const { cpuMs, wallMs } = await measure(work);
    await after();
    cpu.push(cpuMs);
    wall.push(wallMs);
  }
  return { cpuMs: median(cpu), wallMs: median(wall) };
}

const ms = (value: number) => `${value.toFixed(2).padStart(7)} ms`;

export const loginCpu: Benchmark = {
  name: 'login-cpu',
  async run(workDir) {
    const stack = await startStackProcess(workDir);
    try {
      const app = benchApp(stack.env);
      await registerBenchAccount(app);
      const login = await medians(
        () => loginBenchAccount(app),
        () => app.settled(),
      );
      const stored = await hashPassword(benchAccount.password);
      const hash = await medians(() => hashPassword(benchAccount.password));
      const verify = await medians(() => verifyPassword(benchAccount.password, stored));
      return {
        lines: [
          `median of ${runs} runs after ${warmUp} warm-up runs, on Node ${process.version}; CPU is user + system time`,
          `                                   CPU        wall`,
          `POST /v1/auth/login (createApp)  ${ms(login.cpuMs)}  ${ms(login.wallMs)}`,
          `hashPassword alone               ${ms(hash.cpuMs)}  ${ms(hash.wallMs)}`,
          `verifyPassword alone             ${ms(verify.cpuMs)}  ${ms(verify.wallMs)}`,
          `PBKDF2-SHA-256 at ${PASSWORD_ITERATIONS.toLocaleString('en')} iterations is ${((100 * verify.cpuMs) / login.cpuMs).toFixed(0)}% of a login's CPU`,
        ],
        overBudget: [],
      };
    } finally {
      await stack.close();
    }
  },
};
