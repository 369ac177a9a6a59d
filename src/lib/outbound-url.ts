// Whether a URL someone else chose may be called from our side (a webhook URL): a request to it
// leaves from inside our network, so it must not reach our own machines, a cloud metadata
// service or anything else only an insider can address (server-side request forgery).
//
// Only what the URL itself says is judged: the host as the WHATWG URL parser normalises it, so
// `http://2130706433/`, `https://0x7f.1/` and `https://[::ffff:127.0.0.1]/` are all seen as the
// loopback address they are. A hostname is not resolved (Workers cannot resolve names), so a public
// name whose DNS answers with a private address passes here; on Workers the request then leaves
// from Cloudflare's network, where our private addresses mean nothing. The Deno and Node entries
// do resolve names on their own network: there, deliveries to partners belong behind an egress
// proxy or firewall that refuses private ranges (docs/partner-webhooks.md).

export interface OutboundUrlPolicy {
  /**
   * Also take http, loopback, private (RFC 1918, unique-local), shared (100.64/10) addresses and
   * names without a dot: for local development and tests, where the receiver runs beside us.
   * Link-local addresses (cloud metadata among them), unspecified, multicast and reserved ones
   * stay refused.
   */
  allowPrivate: boolean;
}

export type OutboundUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Kinds of address that reach inside; the policy lifts only the first four. */
type Inside =
  | 'loopback'
  | 'private'
  | 'shared'
  | 'single-label'
  | 'unspecified'
  | 'link-local'
  | 'multicast'
  | 'reserved'
  | 'metadata';

const liftedByAllowPrivate: ReadonlySet<Inside> = new Set([
  'loopback',
  'private',
  'shared',
  'single-label',
]);

const descriptions: Record<Inside, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  shared: 'a shared (carrier-grade NAT) address',
  'single-label': 'a name without a domain, which only a local resolver knows',
  unspecified: 'an unspecified address',
  'link-local': 'a link-local address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
  metadata: 'a cloud metadata service',
};

/** [first octets as a 32-bit number, prefix length, kind], most specific first where they nest. */
const ipv4Ranges: readonly [number, number, Inside][] = [
  [ipv4Number([0, 0, 0, 0]), 8, 'unspecified'],
  [ipv4Number([10, 0, 0, 0]), 8, 'private'],
  [ipv4Number([100, 64, 0, 0]), 10, 'shared'],
  [ipv4Number([127, 0, 0, 0]), 8, 'loopback'],
  // 169.254.169.254 is the metadata service of most clouds.
  [ipv4Number([169, 254, 0, 0]), 16, 'link-local'],
  [ipv4Number([172, 16, 0, 0]), 12, 'private'],
  // IETF protocol assignments (192.0.0.0/24) and the benchmarking range (198.18.0.0/15).
  [ipv4Number([192, 0, 0, 0]), 24, 'reserved'],
  [ipv4Number([192, 168, 0, 0]), 16, 'private'],
  [ipv4Number([198, 18, 0, 0]), 15, 'reserved'],
  [ipv4Number([224, 0, 0, 0]), 4, 'multicast'],
  // 240/4 holds the limited broadcast address 255.255.255.255 too.
  [ipv4Number([240, 0, 0, 0]), 4, 'reserved'],
];

function ipv4Number(octets: readonly number[]): number {
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

/** The four octets of a dotted-decimal address, or undefined for anything else. */
function parseIpv4(text: string): number[] | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return undefined;
  const octets = text.split('.').map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

function classifyIpv4(octets: readonly number[]): Inside | undefined {
  const value = ipv4Number(octets);
  for (const [base, prefix, kind] of ipv4Ranges) {
    const size = 2 ** (32 - prefix);
    if (Math.floor(value / size) === Math.floor(base / size)) return kind;
  }
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (brackets removed), or undefined. */
function parseIpv6(text: string): number[] | undefined {
  let address = text.toLowerCase();
  // A dotted IPv4 tail (::ffff:127.0.0.1) becomes its two groups.
  const lastColon = address.lastIndexOf(':');
  const tail = address.slice(lastColon + 1);
  if (tail.includes('.')) {
    const octets = parseIpv4(tail);
    if (octets === undefined) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    address = `${address.slice(0, lastColon + 1)}${(a * 256 + b).toString(16)}:${(c * 256 + d).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groupsOf(halves[0]);
  const rest = groupsOf(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return groups.map((group) => Number.parseInt(group, 16));
}

function embeddedIpv4(high: number, low: number): number[] {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff];
}

function classifyIpv6(groups: readonly number[]): Inside | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0 && g6 === 0) {
    if (g7 === 0) return 'unspecified';
    if (g7 === 1) return 'loopback';
  }
  // Forms that carry an IPv4 address, judged as that address: mapped (::ffff:a.b.c.d), the
  // deprecated compatible form (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
  if (firstFiveZero && (g5 === 0xffff || g5 === 0)) return classifyIpv4(embeddedIpv4(g6, g7));
  // IPv4-translated (::ffff:0:a.b.c.d).
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) {
    return classifyIpv4(embeddedIpv4(g6, g7));
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyIpv4(embeddedIpv4(g6, g7));
  }
  // Local-use NAT64 (64:ff9b:1::/48) translates into whatever network runs it.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private';
  if (g0 === 0x2002) return classifyIpv4(embeddedIpv4(g1, g2));
  // Teredo (2001::/32) tunnels to an address its server decides; discard-only (100::/64).
  if (g0 === 0x2001 && g1 === 0) return 'reserved';
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved';
  if ((g0 & 0xfe00) === 0xfc00) return 'private';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  // Site-local, deprecated but still routed inside some networks.
  if ((g0 & 0xffc0) === 0xfec0) return 'private';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

const metadataHosts = new Set(['metadata.google.internal', 'instance-data.ec2.internal']);

/** Names only a private resolver answers: cloud-internal, mDNS, Kubernetes services, home nets. */
const privateSuffixes = ['.internal', '.local', '.localdomain', '.home.arpa', '.svc', '.lan'];

/** What kind of inside address the URL's host is, or undefined for one on the internet. */
function classifyHost(hostname: string): Inside | undefined {
  if (hostname.startsWith('[') && hostname.endsWith(']')) {
    const groups = parseIpv6(hostname.slice(1, -1));
    // The URL parser only lets valid IPv6 through; should one slip by, refuse what cannot be read.
    return groups === undefined ? 'reserved' : classifyIpv6(groups);
  }
  const octets = parseIpv4(hostname);
  if (octets !== undefined) return classifyIpv4(octets);
  // `localhost.` is `localhost`: the trailing dot only marks a name as fully qualified.
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (metadataHosts.has(name)) return 'metadata';
  if (!name.includes('.')) return 'single-label';
  if (privateSuffixes.some((suffix) => name.endsWith(suffix))) return 'private';
  return undefined;
}

/**
 * Takes `input` only as an absolute https URL (http too under `allowPrivate`) without a user name
 * or password, whose host is no address inside our network. The reason of a refusal is written to
 * follow the field's name ("webhookUrl must use https").
 */
export function checkOutboundUrl(input: string, policy: OutboundUrlPolicy): OutboundUrlCheck {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, reason: 'is not an absolute URL' };
  }
  const schemes = policy.allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    return { ok: false, reason: policy.allowPrivate ? 'must use https or http' : 'must use https' };
  }
  // Credentials in a URL end up in logs and Authorization headers; a partner's endpoint
  // authenticates us by the signature instead.
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'must not carry a user name or password' };
  }
  const inside = classifyHost(url.hostname);
  if (inside !== undefined && !(policy.allowPrivate && liftedByAllowPrivate.has(inside))) {
    return { ok: false, reason: `must not point at ${descriptions[inside]} (${url.hostname})` };
  }
  return { ok: true, url };
}
