// Geo: sorted sets whose scores are 52-bit geohashes (geohash.ts), so ZRANGE, ZREM and the rest
// work on them unchanged. GEOADD goes through ZADD as in Redis; GEOSEARCH and GEORADIUS scan the
// same geohash boxes in the same order, so unsorted results come back in Redis's order. Distances
// are printed with 4 decimals, coordinates as "%.17Lf" with trailing zeros trimmed.
import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { isError, NOT_FLOAT, NOT_INTEGER, SYNTAX_ERROR } from '../errors.ts';
import {
  distance,
  distanceWithin,
  type GeoShape,
  geohashString,
  LATITUDE_MAX,
  LATITUDE_MIN,
  LONGITUDE_MAX,
  LONGITUDE_MIN,
  pointOf,
  scoreOf,
  searchBoxes,
} from '../geohash.ts';
import { bytesOf, keyOf } from '../keyspace.ts';
import { formatFixed, parseInteger, parseStrictDouble } from '../numbers.ts';
import { type Member, sorted, type ZSet, zadd } from './sorted-sets.ts';

const UNITS: Record<string, number> = { M: 1, KM: 1000, FT: 0.3048, MI: 1609.34 };
const UNIT_ERROR = new RedisErrorReply('ERR unsupported unit provided. please use M, KM, FT, MI');
const MEMBER_ERROR = new RedisErrorReply('ERR could not decode requested zset member');

function readZSet(context: CommandContext, key: Buffer) {
  return context.keyspace.typed(keyOf(key), 'zset');
}

function parseUnit(bytes: Buffer): number | RedisErrorReply {
  return UNITS[optionName(bytes)] ?? UNIT_ERROR;
}

function parseNumber(bytes: Buffer, error: RedisErrorReply): number | RedisErrorReply {
  return parseStrictDouble(bytes) ?? error;
}

/** extractLongLatOrReply: [longitude, latitude] at args[index], args[index + 1]. */
function parsePoint(args: Buffer[], index: number): [number, number] | RedisErrorReply {
  const longitude = parseNumber(arg(args, index), NOT_FLOAT);
  if (isError(longitude)) return longitude;
  const latitude = parseNumber(arg(args, index + 1), NOT_FLOAT);
  if (isError(latitude)) return latitude;
  if (
    longitude < LONGITUDE_MIN ||
    longitude > LONGITUDE_MAX ||
    latitude < LATITUDE_MIN ||
    latitude > LATITUDE_MAX
  ) {
    return new RedisErrorReply(
      `ERR invalid longitude,latitude pair ${formatFixed(longitude, 6)},${formatFixed(latitude, 6)}`,
    );
  }
  return [longitude, latitude];
}

/** fixedpoint_d2string(d, 4): rounded half to even, as llrint does. */
function formatDistance(meters: number): Buffer {
  if (meters === 0) return Buffer.from('0.0000');
  const scaled = meters * 10000;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  const rounded = fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  const digits = Math.abs(rounded).toString().padStart(5, '0');
  const sign = rounded < 0 ? '-' : '';
  return Buffer.from(`${sign}${digits.slice(0, -4)}.${digits.slice(-4)}`);
}

/** addReplyHumanLongDouble: "%.17Lf" without trailing zeros. */
function formatCoordinate(value: number): Buffer {
  const text = formatFixed(value, 17).replace(/0+$/, '').replace(/\.$/, '');
  return Buffer.from(text === '-0' ? '0' : text);
}

function coordinates(score: number): Buffer[] {
  return pointOf(score).map(formatCoordinate);
}

function geoadd(context: CommandContext, args: Buffer[]): RedisReply {
  let first = 2;
  let nx = false;
  let xx = false;
  for (; first < args.length; first++) {
    const option = optionName(args[first]);
    if (option === 'NX') nx = true;
    else if (option === 'XX') xx = true;
    else if (option !== 'CH') break;
  }
  if ((args.length - first) % 3 !== 0 || (nx && xx)) return SYNTAX_ERROR;
  const zaddArgs = [Buffer.from('zadd'), ...args.slice(1, first)];
  for (let i = first; i < args.length; i += 3) {
    const point = parsePoint(args, i);
    if (isError(point)) return point;
    zaddArgs.push(Buffer.from(String(scoreOf(...point))), arg(args, i + 2));
  }
  return zadd(context, zaddArgs);
}

type SearchVariant =
  | 'geosearch'
  | 'geosearchstore'
  | 'georadius'
  | 'georadius_ro'
  | 'georadiusbymember'
  | 'georadiusbymember_ro';

interface SearchOptions {
  withDist: boolean;
  withHash: boolean;
  withCoord: boolean;
  any: boolean;
  sort: 'none' | 'asc' | 'desc';
  count: number;
  storeKey: Buffer | null;
  storeDist: boolean;
}

/** The shape's centre and size, filled in as the arguments are read. */
interface ShapeParts {
  center: [number, number] | null;
  size: { kind: 'radius'; radius: number } | { kind: 'box'; width: number; height: number } | null;
  conversion: number;
}

function parseRadius(args: Buffer[], index: number, parts: ShapeParts): RedisErrorReply | null {
  const radius = parseNumber(arg(args, index), new RedisErrorReply('ERR need numeric radius'));
  if (isError(radius)) return radius;
  if (radius < 0) return new RedisErrorReply('ERR radius cannot be negative');
  const conversion = parseUnit(arg(args, index + 1));
  if (isError(conversion)) return conversion;
  parts.size = { kind: 'radius', radius };
  parts.conversion = conversion;
  return null;
}

function parseBox(args: Buffer[], index: number, parts: ShapeParts): RedisErrorReply | null {
  const width = parseNumber(arg(args, index), new RedisErrorReply('ERR need numeric width'));
  if (isError(width)) return width;
  const height = parseNumber(arg(args, index + 1), new RedisErrorReply('ERR need numeric height'));
  if (isError(height)) return height;
  if (height < 0 || width < 0) {
    return new RedisErrorReply('ERR height or width cannot be negative');
  }
  const conversion = parseUnit(arg(args, index + 2));
  if (isError(conversion)) return conversion;
  parts.size = { kind: 'box', width, height };
  parts.conversion = conversion;
  return null;
}

function memberPoint(zset: ZSet, member: Buffer): [number, number] | RedisErrorReply {
  const score = zset.get(keyOf(member));
  return score === undefined ? MEMBER_ERROR : pointOf(score);
}

/** georadiusGeneric's option loop, its errors in Redis's order. */
function parseSearchOptions(
  args: Buffer[],
  from: number,
  variant: SearchVariant,
  zset: ZSet | undefined,
  parts: ShapeParts,
  options: SearchOptions,
): RedisErrorReply | null {
  const search = variant.startsWith('geosearch');
  const canStore = !search && !variant.endsWith('_ro');
  let fromMember = false;
  let fromPoint = false;
  for (let i = from; i < args.length; i++) {
    const remaining = args.length - i - 1;
    const option = optionName(args[i]);
    if (option === 'WITHDIST') options.withDist = true;
    else if (option === 'WITHHASH') options.withHash = true;
    else if (option === 'WITHCOORD') options.withCoord = true;
    else if (option === 'ANY') options.any = true;
    else if (option === 'ASC') options.sort = 'asc';
    else if (option === 'DESC') options.sort = 'desc';
    else if (option === 'COUNT' && remaining >= 1) {
      const count = parseInteger(arg(args, ++i));
      if (count === null) return NOT_INTEGER;
      if (count <= 0) return new RedisErrorReply('ERR COUNT must be > 0');
      options.count = count;
    } else if ((option === 'STORE' || option === 'STOREDIST') && remaining >= 1 && canStore) {
      options.storeKey = arg(args, ++i);
      options.storeDist = option === 'STOREDIST';
    } else if (option === 'STOREDIST' && variant === 'geosearchstore') {
      options.storeDist = true;
    } else if (option === 'FROMMEMBER' && remaining >= 1 && search && !fromPoint) {
      fromMember = true;
      const member = arg(args, ++i);
      if (zset === undefined) continue;
      const center = memberPoint(zset, member);
      if (isError(center)) return center;
      parts.center = center;
    } else if (option === 'FROMLONLAT' && remaining >= 2 && search && !fromMember) {
      const center = parsePoint(args, i + 1);
      if (isError(center)) return center;
      parts.center = center;
      fromPoint = true;
      i += 2;
    } else if (option === 'BYRADIUS' && remaining >= 2 && search && parts.size?.kind !== 'box') {
      const error = parseRadius(args, i + 1, parts);
      if (error) return error;
      i += 2;
    } else if (option === 'BYBOX' && remaining >= 3 && search && parts.size?.kind !== 'radius') {
      const error = parseBox(args, i + 1, parts);
      if (error) return error;
      i += 3;
    } else {
      return SYNTAX_ERROR;
    }
  }
  if (options.storeKey !== null && (options.withDist || options.withHash || options.withCoord)) {
    const what = variant === 'geosearchstore' ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    return new RedisErrorReply(
      `ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`,
    );
  }
  const name = arg(args, 0).toString('latin1');
  if (search && !fromMember && !fromPoint) {
    return new RedisErrorReply(
      `ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${name}`,
    );
  }
  if (search && parts.size === null) {
    return new RedisErrorReply(
      `ERR exactly one of BYRADIUS and BYBOX can be specified for ${name}`,
    );
  }
  if (options.any && options.count === 0) {
    return new RedisErrorReply('ERR the ANY argument requires COUNT argument');
  }
  return null;
}

interface Found {
  member: string;
  score: number;
  point: [number, number];
  distance: number;
}

/** membersOfAllNeighbors: box after box, each in score order, stopping at `limit` (ANY). */
function findMembers(zset: ZSet, shape: GeoShape, limit: number): Found[] {
  const members: Member[] = sorted(zset);
  const found: Found[] = [];
  const full = () => found.length > 0 && limit > 0 && found.length >= limit;
  for (const box of searchBoxes(shape)) {
    if (full()) break;
    for (const { member, score } of members) {
      if (score < box.min) continue;
      if (score >= box.max) break;
      const point = pointOf(score);
      const meters = distanceWithin(shape, point);
      if (meters !== null) found.push({ member, score, point, distance: meters });
      if (full()) break;
    }
  }
  return found;
}

function searchReply(found: Found[], options: SearchOptions, conversion: number): RedisReply {
  const extras = options.withDist || options.withHash || options.withCoord;
  return found.map((entry) => {
    const member = bytesOf(entry.member);
    if (!extras) return member;
    const reply: RedisReply[] = [member];
    if (options.withDist) reply.push(formatDistance(entry.distance / conversion));
    if (options.withHash) reply.push(entry.score);
    if (options.withCoord) reply.push(entry.point.map(formatCoordinate));
    return reply;
  });
}

function storeResults(
  context: CommandContext,
  key: Buffer,
  found: Found[],
  options: SearchOptions,
  conversion: number,
): RedisReply {
  const destination = keyOf(key);
  if (found.length === 0) {
    context.keyspace.delete(destination);
    return 0;
  }
  const zset: ZSet = new Map(
    found.map((entry) => [
      entry.member,
      options.storeDist ? entry.distance / conversion : entry.score,
    ]),
  );
  context.keyspace.set(destination, { type: 'zset', value: zset });
  return zset.size;
}

/** georadiusGeneric: GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family. */
function geoSearch(variant: SearchVariant) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const zset = readZSet(context, arg(args, variant === 'geosearchstore' ? 2 : 1));
    if (isError(zset)) return zset;
    const parts: ShapeParts = { center: null, size: null, conversion: 1 };
    let from: number;
    if (variant === 'georadius' || variant === 'georadius_ro') {
      from = 6;
      const center = parsePoint(args, 2);
      if (isError(center)) return center;
      parts.center = center;
      const error = parseRadius(args, 4, parts);
      if (error) return error;
    } else if (variant === 'georadiusbymember' || variant === 'georadiusbymember_ro') {
      from = 5;
      if (zset !== undefined) {
        const center = memberPoint(zset, arg(args, 2));
        if (isError(center)) return center;
        parts.center = center;
        const error = parseRadius(args, 3, parts);
        if (error) return error;
      }
    } else {
      from = variant === 'geosearchstore' ? 3 : 2;
    }
    const options: SearchOptions = {
      withDist: false,
      withHash: false,
      withCoord: false,
      any: false,
      sort: 'none',
      count: 0,
      storeKey: variant === 'geosearchstore' ? arg(args, 1) : null,
      storeDist: false,
    };
    const error = parseSearchOptions(args, from, variant, zset, parts, options);
    if (error) return error;
    if (zset === undefined || parts.center === null || parts.size === null) {
      if (options.storeKey === null) return [];
      context.keyspace.delete(keyOf(options.storeKey));
      return 0;
    }
    if (options.count !== 0 && options.sort === 'none' && !options.any) options.sort = 'asc';
    const shape: GeoShape = { center: parts.center, conversion: parts.conversion, ...parts.size };
    const found = findMembers(zset, shape, options.any ? options.count : 0);
    if (options.sort !== 'none') {
      const direction = options.sort === 'asc' ? 1 : -1;
      found.sort((a, b) => direction * (a.distance - b.distance));
    }
    const returned = options.count === 0 ? found : found.slice(0, options.count);
    return options.storeKey === null
      ? searchReply(returned, options, parts.conversion)
      : storeResults(context, options.storeKey, returned, options, parts.conversion);
  };
}

function geodist(context: CommandContext, args: Buffer[]): RedisReply {
  let toMeters = 1;
  if (args.length === 5) {
    const unit = parseUnit(arg(args, 4));
    if (isError(unit)) return unit;
    toMeters = unit;
  } else if (args.length > 5) {
    return SYNTAX_ERROR;
  }
  const zset = readZSet(context, arg(args, 1));
  if (isError(zset) || zset === undefined) return zset ?? null;
  const first = zset.get(keyOf(arg(args, 2)));
  const second = zset.get(keyOf(arg(args, 3)));
  if (first === undefined || second === undefined) return null;
  const [x1, y1] = pointOf(first);
  const [x2, y2] = pointOf(second);
  return formatDistance(distance(x1, y1, x2, y2) / toMeters);
}

function perMember(format: (score: number) => RedisReply) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const zset = readZSet(context, arg(args, 1));
    if (isError(zset)) return zset;
    return args.slice(2).map((member) => {
      const score = zset?.get(keyOf(member));
      return score === undefined ? null : format(score);
    });
  };
}

export const geoCommands: CommandTable = {
  geoadd: { arity: -5, write: true, run: geoadd },
  geodist: { arity: -4, write: false, run: geodist },
  geopos: { arity: -2, write: false, run: perMember(coordinates) },
  geohash: {
    arity: -2,
    write: false,
    run: perMember((score) => Buffer.from(geohashString(score))),
  },
  geosearch: { arity: -7, write: false, run: geoSearch('geosearch') },
  geosearchstore: { arity: -8, write: true, run: geoSearch('geosearchstore') },
  georadius: { arity: -6, write: true, run: geoSearch('georadius') },
  georadius_ro: { arity: -6, write: false, run: geoSearch('georadius_ro') },
  georadiusbymember: { arity: -5, write: true, run: geoSearch('georadiusbymember') },
  georadiusbymember_ro: { arity: -5, write: false, run: geoSearch('georadiusbymember_ro') },
};
