// The app on a local stack with the benchmark's account signed in and its public profile in the
// cache: what the read-cpu benchmark measures and bench/read-cpu/profile.ts profiles.
import {
  benchApp,
  loginBenchAccount,
  registerBenchAccount,
  type StackEnv,
} from '../app-on-stack.ts';

/** Throws unless `response` is a 200; reads its body, as a client would. */
export async function expectOk(response: Response, what: string): Promise<void> {
  if (response.status !== 200) throw new Error(`${what} answered ${response.status}`);
  await response.arrayBuffer();
}

export interface SignedIn {
  userId: string;
  token: string;
  /** GET `path` with the account's bearer token; throws unless it answers 200. */
  read(path: string): Promise<void>;
}

export async function signedIn(env: StackEnv): Promise<SignedIn> {
  const app = benchApp(env);
  const userId = await registerBenchAccount(app);
  const token = await loginBenchAccount(app);
  const read = async (path: string) => expectOk(await app.request('GET', path, { token }), path);
  // The first read of the account's public profile misses and fills the cache after its response;
  // every later one is answered from the cache.
  await read(`/v1/users/${userId}`);
  await app.settled();
  return { userId, token, read };
}
