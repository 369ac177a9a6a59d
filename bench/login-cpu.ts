// The CPU time of a login: the whole handler path (createApp on Node: rate limit, validation, the
// user look-up, PBKDF2 at 100,000 iterations, the session's JWT and refresh token), and the hash
// alone beside it, both the median of several runs in one process. DESIGN gives password hashing
// the only exemption from the CPU budget, so the figures are printed, not judged.
import {
  hashPassword,
  PASSWORD_ITERATIONS,
  verifyPassword,
} from '../src/modules/auth/passwords.ts';
import {
  benchAccount,
  benchApp,
  loginBenchAccount,
  medianCost,
  registerBenchAccount,
  withStackProcess,
} from './app-on-stack.ts';
import type { Benchmark } from './benchmark.ts';

const runs = 15;
const warmUp = 3;

/** Median CPU and wall time in milliseconds (PBKDF2 runs on libuv's pool, which is counted). */
async function medians(work: () => Promise<unknown>, after?: () => Promise<unknown>) {
  const { cpuUs, wallMs } = await medianCost(work, { runs, warmUp, ...(after && { after }) });
  return { cpuMs: cpuUs / 1000, wallMs };
}

const ms = (value: number) => `${value.toFixed(2).padStart(7)} ms`;

export const loginCpu: Benchmark = {
  name: 'login-cpu',
  run: (workDir) =>
    withStackProcess(workDir, async (stack) => {
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
    }),
};
