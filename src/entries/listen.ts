// Where the Node and Deno entries listen, from PORT and HOST, checked like the rest of the config:
// a bad value stops start-up with a ConfigError naming it. Workers have no such choice to make.
import * as z from 'zod';
import { ConfigError } from '../config.ts';

export interface ListenOptions {
  hostname: string;
  /** 0 picks a free port; the entry logs the one it got. */
  port: number;
}

/** Loopback by default: a server that should be reachable from elsewhere says so with HOST=0.0.0.0. */
export function listenOptions(env: Record<string, unknown>, defaultPort: number): ListenOptions {
  const schema = z.object({
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(defaultPort),
  });
  const present = Object.fromEntries(
    ['HOST', 'PORT']
      .filter((name) => env[name] !== undefined && env[name] !== '')
      .map((name) => [name, env[name]]),
  );
  const result = schema.safeParse(present);
  if (!result.success) throw new ConfigError(result.error.issues);
  return { hostname: result.data.HOST, port: result.data.PORT };
}
