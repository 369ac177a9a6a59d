// When QStash tries a failed message again. By default its documented backoff; with
// Upstash-Retry-Delay, an arithmetic expression in milliseconds over the variable `retried` (how
// many retries happened before this one), parsed here without eval.
import { fail, ok, type Result } from './result.ts';

export type RetryDelay = (retried: number) => number;

const maxBackoffSeconds = 86_400;

/** min(86400, e^(2.5 n)) seconds, where n counts this retry (1 for the first). */
export function defaultBackoffMs(retryNumber: number): number {
  return Math.min(maxBackoffSeconds, Math.exp(2.5 * retryNumber)) * 1000;
}

const functions: Record<string, { arity: number | 'many'; apply: (args: number[]) => number }> = {
  pow: { arity: 2, apply: ([a = 0, b = 0]) => a ** b },
  sqrt: { arity: 1, apply: ([a = 0]) => Math.sqrt(a) },
  abs: { arity: 1, apply: ([a = 0]) => Math.abs(a) },
  exp: { arity: 1, apply: ([a = 0]) => Math.exp(a) },
  floor: { arity: 1, apply: ([a = 0]) => Math.floor(a) },
  ceil: { arity: 1, apply: ([a = 0]) => Math.ceil(a) },
  round: { arity: 1, apply: ([a = 0]) => Math.round(a) },
  min: { arity: 'many', apply: (args) => Math.min(...args) },
  max: { arity: 'many', apply: (args) => Math.max(...args) },
};

type Node = (retried: number) => number;

class ParseError extends Error {}

function tokenize(text: string): string[] {
  const tokens = text.match(/\d+(?:\.\d+)?|[A-Za-z_]\w*|[-+*/%(),]|\S/g) ?? [];
  for (const token of tokens) {
    if (!/^(\d|[A-Za-z_]|[-+*/%(),])/.test(token)) throw new ParseError(`unexpected "${token}"`);
  }
  return tokens;
}

function parse(tokens: string[]): Node {
  let position = 0;
  const peek = () => tokens[position];
  const take = (expected?: string): string => {
    const token = tokens[position];
    if (token === undefined) throw new ParseError('unexpected end of expression');
    if (expected !== undefined && token !== expected) {
      throw new ParseError(`expected "${expected}" but found "${token}"`);
    }
    position++;
    return token;
  };

  const expression = (): Node => {
    let left = term();
    while (peek() === '+' || peek() === '-') {
      const operator = take();
      const right = term();
      const l = left;
      left = operator === '+' ? (r) => l(r) + right(r) : (r) => l(r) - right(r);
    }
    return left;
  };
  const term = (): Node => {
    let left = unary();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const operator = take();
      const right = unary();
      const l = left;
      if (operator === '*') left = (r) => l(r) * right(r);
      else if (operator === '/') left = (r) => l(r) / right(r);
      else left = (r) => l(r) % right(r);
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '-') {
      take();
      const operand = unary();
      return (r) => -operand(r);
    }
    if (peek() === '+') take();
    return primary();
  };
  const primary = (): Node => {
    const token = take();
    if (token === '(') {
      const inner = expression();
      take(')');
      return inner;
    }
    if (/^\d/.test(token)) {
      const value = Number(token);
      return () => value;
    }
    if (token === 'retried') return (r) => r;
    const fn = functions[token];
    if (!fn) throw new ParseError(`unknown identifier "${token}"`);
    take('(');
    const args: Node[] = [expression()];
    while (peek() === ',') {
      take();
      args.push(expression());
    }
    take(')');
    if (fn.arity !== 'many' && args.length !== fn.arity) {
      throw new ParseError(`${token} takes ${fn.arity} argument(s)`);
    }
    return (r) => fn.apply(args.map((arg) => arg(r)));
  };

  const root = expression();
  if (position < tokens.length) throw new ParseError(`unexpected "${tokens[position]}"`);
  return root;
}

export function compileRetryDelay(text: string): Result<RetryDelay> {
  try {
    const node = parse(tokenize(text));
    return ok((retried) => {
      const value = node(retried);
      return Number.isFinite(value) ? Math.max(0, value) : 0;
    });
  } catch (error) {
    if (error instanceof ParseError) {
      return fail(400, `invalid Upstash-Retry-Delay expression: ${error.message}`);
    }
    throw error;
  }
}
