// Who is calling, as far as per-client limits can tell. Only one configured header is trusted
// (config CLIENT_IP_HEADER): any other header is written by the client and could name anyone.
import type { Context } from 'hono';

// Anything else in the trusted header is ignored rather than used as a key, so a misconfigured
// proxy cannot fill Redis with arbitrary text.
const addressLike = /^[0-9A-Fa-f:.]{2,45}$/;

function fromHeader(c: Context, header: string): string | undefined {
  if (header === 'none') return undefined;
  const value = c.req.header(header);
  if (value === undefined) return undefined;
  // Each proxy appends the address it saw: the last entry is the one the trusted proxy wrote.
  const address = (header === 'x-forwarded-for' ? value.split(',').at(-1) : value)?.trim();
  return address !== undefined && addressLike.test(address) ? address : undefined;
}

interface ConnectionBindings {
  /** @hono/node-server hands the Node request in as the bindings. */
  incoming?: { socket?: { remoteAddress?: string } };
  /** Deno.serve's handler info, when the Deno entry passes it as the bindings. */
  remoteAddr?: { hostname?: string };
}

function fromConnection(env: unknown): string | undefined {
  if (typeof env !== 'object' || env === null) return undefined;
  const bindings = env as ConnectionBindings;
  return bindings.incoming?.socket?.remoteAddress ?? bindings.remoteAddr?.hostname;
}

/**
 * The client's address as the trusted header (CLIENT_IP_HEADER) or the connection gives it, or
 * "unknown" where the runtime gives none: such clients share limits.
 */
export function clientIp(c: Context, trustedHeader: string): string {
  return fromHeader(c, trustedHeader) ?? fromConnection(c.env) ?? 'unknown';
}

function ipv6Groups(address: string): string[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const [head, tail] = halves.map((half) => (half === '' ? [] : half.split(':')));
  const present = [...(head ?? []), ...(tail ?? [])];
  const missing = 8 - present.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...(head ?? []), ...Array<string>(missing).fill('0'), ...(tail ?? [])];
  return groups.every((group) => /^[0-9A-Fa-f]{1,4}$/.test(group)) ? groups : undefined;
}

/**
 * The part of an address that identifies one client. An IPv6 client usually holds a whole /64,
 * so counting single addresses would let it rotate through billions of them; IPv4-mapped IPv6
 * addresses count as the IPv4 address they carry.
 */
export function clientKey(address: string): string {
  if (!address.includes(':')) return address;
  if (address.includes('.')) return address.slice(address.lastIndexOf(':') + 1);
  const groups = ipv6Groups(address);
  if (groups === undefined) return address;
  const prefix = groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
