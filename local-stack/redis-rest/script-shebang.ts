// Upstash accepts Lua shebang flags that open-source Redis refuses ("Unexpected flag in script
// shebang"): @upstash/ratelimit >= 2.1 starts every script with `#!lua flags=allow-key-locking`.
// Such flags are dropped before a script reaches the backend, and the client keeps talking about
// the script under the SHA-1 of the text it sent, so its EVALSHA-first strategy still hits.
import { createHash } from 'node:crypto';
import { type RedisCommand, RedisErrorReply, type RedisReply } from './backend.ts';

const REDIS_SCRIPT_FLAGS = new Set([
  'no-writes',
  'allow-oom',
  'allow-stale',
  'no-cluster',
  'allow-cross-slot-keys',
]);

export interface PreparedCommand {
  command: RedisCommand;
  /** Turns the backend's reply into the one the client expects for the command it sent. */
  adjustReply(reply: RedisReply): RedisReply;
}

function sha1Hex(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** The script without the flags Redis does not know, or `undefined` when it needs no change. */
export function stripUnknownShebangFlags(script: Buffer): Buffer | undefined {
  if (script[0] !== 0x23 || script[1] !== 0x21) return undefined; // "#!"
  const newline = script.indexOf(0x0a);
  let lineEnd = newline < 0 ? script.length : newline;
  if (script[lineEnd - 1] === 0x0d) lineEnd--;
  const firstLine = script.toString('utf8', 0, lineEnd);
  let changed = false;
  const words = firstLine.split(' ').map((word) => {
    if (!word.startsWith('flags=')) return word;
    const flags = word
      .slice('flags='.length)
      .split(',')
      .filter((flag) => flag !== '');
    const known = flags.filter((flag) => REDIS_SCRIPT_FLAGS.has(flag));
    if (known.length === flags.length) return word;
    changed = true;
    return known.length > 0 ? `flags=${known.join(',')}` : '';
  });
  if (!changed) return undefined;
  const shebang = Buffer.from(words.filter((word) => word !== '').join(' '));
  return Buffer.concat([shebang, script.subarray(lineEnd)]);
}

const keepReply = (reply: RedisReply): RedisReply => reply;

export class ScriptShebangRewriter {
  /** SHA-1 of the text a client sent → SHA-1 of the text the backend runs. */
  readonly #backendSha = new Map<string, string>();

  prepare(command: RedisCommand): PreparedCommand {
    const name = command[0]?.toString('latin1').toUpperCase();
    switch (name) {
      case 'EVAL':
      case 'EVAL_RO':
        return { command: this.#withScriptAt(command, 1), adjustReply: keepReply };
      case 'EVALSHA':
      case 'EVALSHA_RO':
        return { command: this.#withShaAt(command, 1), adjustReply: keepReply };
      case 'SCRIPT':
        return this.#prepareScriptSubcommand(command);
      default:
        return { command, adjustReply: keepReply };
    }
  }

  #prepareScriptSubcommand(command: RedisCommand): PreparedCommand {
    const subcommand = command[1]?.toString('latin1').toUpperCase();
    const script = command[2];
    if (subcommand === 'LOAD' && script !== undefined && command.length === 3) {
      const clientSha = Buffer.from(sha1Hex(script));
      return {
        command: this.#withScriptAt(command, 2),
        adjustReply: (reply) => (reply instanceof RedisErrorReply ? reply : clientSha),
      };
    }
    if (subcommand === 'EXISTS') {
      const mapped = command.map((arg, i) => (i < 2 ? arg : this.#backendShaOf(arg)));
      return { command: mapped, adjustReply: keepReply };
    }
    return { command, adjustReply: keepReply };
  }

  #withScriptAt(command: RedisCommand, index: number): RedisCommand {
    const script = command[index];
    if (script === undefined) return command;
    const rewritten = stripUnknownShebangFlags(script);
    if (rewritten === undefined) return command;
    this.#backendSha.set(sha1Hex(script), sha1Hex(rewritten));
    return command.with(index, rewritten);
  }

  #withShaAt(command: RedisCommand, index: number): RedisCommand {
    const sha = command[index];
    return sha === undefined ? command : command.with(index, this.#backendShaOf(sha));
  }

  #backendShaOf(sha: Buffer): Buffer {
    const known = this.#backendSha.get(sha.toString('latin1').toLowerCase());
    return known === undefined ? sha : Buffer.from(known);
  }
}
