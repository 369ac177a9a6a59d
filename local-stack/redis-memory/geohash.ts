// Redis 7.0's geohash (geohash.c, geohash_helper.c): 52-bit interleaved scores on the
// EPSG:900913 latitude range, the haversine distance on a 6372797.560856 m sphere, and the nine
// geohash boxes a search scans, in the order Redis scans them. Hash bits are bigints (up to 64).
export const LONGITUDE_MIN = -180;
export const LONGITUDE_MAX = 180;
export const LATITUDE_MIN = -85.05112878;
export const LATITUDE_MAX = 85.05112878;
const STEP_MAX = 26;
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const DEG_TO_RAD = Math.PI / 180;

export interface GeoHash {
  bits: bigint;
  step: number;
}

interface Range {
  min: number;
  max: number;
}

interface Area {
  longitude: Range;
  latitude: Range;
}

const WGS84 = {
  longitude: { min: LONGITUDE_MIN, max: LONGITUDE_MAX },
  latitude: { min: LATITUDE_MIN, max: LATITUDE_MAX },
};

const EVEN_BITS = 0x5555555555555555n;
const ODD_BITS = 0xaaaaaaaaaaaaaaaan;
const u64 = (value: bigint) => BigInt.asUintN(64, value);

/** Latitude bits at even positions, longitude bits at odd ones. */
function interleave(latitude: bigint, longitude: bigint): bigint {
  let bits = 0n;
  for (let i = 0n; i < 32n; i++) {
    bits |= ((latitude >> i) & 1n) << (2n * i);
    bits |= ((longitude >> i) & 1n) << (2n * i + 1n);
  }
  return bits;
}

function deinterleave(bits: bigint): { latitude: bigint; longitude: bigint } {
  let latitude = 0n;
  let longitude = 0n;
  for (let i = 0n; i < 32n; i++) {
    latitude |= ((bits >> (2n * i)) & 1n) << i;
    longitude |= ((bits >> (2n * i + 1n)) & 1n) << i;
  }
  return { latitude, longitude };
}

/** geohashEncode: null outside the ranges. */
export function encode(
  longitude: number,
  latitude: number,
  step: number,
  ranges: Area = WGS84,
): GeoHash | null {
  if (
    longitude > LONGITUDE_MAX ||
    longitude < LONGITUDE_MIN ||
    latitude > LATITUDE_MAX ||
    latitude < LATITUDE_MIN ||
    latitude < ranges.latitude.min ||
    latitude > ranges.latitude.max ||
    longitude < ranges.longitude.min ||
    longitude > ranges.longitude.max
  ) {
    return null;
  }
  const scale = 2 ** step;
  const latitudeOffset =
    ((latitude - ranges.latitude.min) / (ranges.latitude.max - ranges.latitude.min)) * scale;
  const longitudeOffset =
    ((longitude - ranges.longitude.min) / (ranges.longitude.max - ranges.longitude.min)) * scale;
  // C converts the doubles to uint32_t by truncation.
  const bits = interleave(
    BigInt.asUintN(32, BigInt(Math.trunc(latitudeOffset))),
    BigInt.asUintN(32, BigInt(Math.trunc(longitudeOffset))),
  );
  return { bits, step };
}

function decodeArea(hash: GeoHash, ranges: Area = WGS84): Area {
  const { latitude, longitude } = deinterleave(hash.bits);
  const scale = 2 ** hash.step;
  const latitudeScale = ranges.latitude.max - ranges.latitude.min;
  const longitudeScale = ranges.longitude.max - ranges.longitude.min;
  const lat = Number(latitude);
  const lon = Number(longitude);
  // uint32_t arithmetic: the cell after the last one wraps to 0.
  const nextLat = (lat + 1) % 2 ** 32;
  const nextLon = (lon + 1) % 2 ** 32;
  return {
    latitude: {
      min: ranges.latitude.min + (lat / scale) * latitudeScale,
      max: ranges.latitude.min + (nextLat / scale) * latitudeScale,
    },
    longitude: {
      min: ranges.longitude.min + (lon / scale) * longitudeScale,
      max: ranges.longitude.min + (nextLon / scale) * longitudeScale,
    },
  };
}

/** The 52-bit score of a point, as GEOADD stores it. */
export function scoreOf(longitude: number, latitude: number): number | null {
  const hash = encode(longitude, latitude, STEP_MAX);
  return hash === null ? null : Number(align52(hash));
}

const TWO_63 = 2 ** 63;

/**
 * (uint64_t)score as x86-64 code computes it, out-of-range scores included (a sorted set may
 * hold any score): NaN, -inf and anything below -2^63 become 2^63, +inf and 2^64 and up become 0.
 */
function scoreBits(score: number): bigint {
  if (score >= TWO_63) {
    const low = score - TWO_63;
    return low >= TWO_63 ? 0n : BigInt(Math.trunc(low)) | (1n << 63n);
  }
  if (Number.isNaN(score) || score < -TWO_63) return 1n << 63n;
  return u64(BigInt(Math.trunc(score)));
}

/** The centre of the score's cell, clamped to the ranges: [longitude, latitude]. */
export function pointOf(score: number): [number, number] {
  const area = decodeArea({ bits: scoreBits(score), step: STEP_MAX });
  const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
  return [
    clamp((area.longitude.min + area.longitude.max) / 2, LONGITUDE_MIN, LONGITUDE_MAX),
    clamp((area.latitude.min + area.latitude.max) / 2, LATITUDE_MIN, LATITUDE_MAX),
  ];
}

const GEOHASH_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/** GEOHASH's 11-character string: re-encoded on the standard -90..90 latitude range. */
export function geohashString(score: number): string {
  const [longitude, latitude] = pointOf(score);
  const hash = encode(longitude, latitude, STEP_MAX, {
    longitude: { min: -180, max: 180 },
    latitude: { min: -90, max: 90 },
  });
  const bits = hash?.bits ?? 0n;
  let text = '';
  for (let i = 0; i < 11; i++) {
    const index = i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn);
    text += GEOHASH_ALPHABET[index];
  }
  return text;
}

function align52(hash: GeoHash): bigint {
  return u64(hash.bits << BigInt(52 - hash.step * 2));
}

function latitudeDistance(latitude1: number, latitude2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(latitude2 * DEG_TO_RAD - latitude1 * DEG_TO_RAD);
}

/** geohashGetDistance: haversine, in meters. */
export function distance(
  longitude1: number,
  latitude1: number,
  longitude2: number,
  latitude2: number,
): number {
  const lon1 = longitude1 * DEG_TO_RAD;
  const lon2 = longitude2 * DEG_TO_RAD;
  const v = Math.sin((lon2 - lon1) / 2);
  if (v === 0) return latitudeDistance(latitude1, latitude2);
  const lat1 = latitude1 * DEG_TO_RAD;
  const lat2 = latitude2 * DEG_TO_RAD;
  const u = Math.sin((lat2 - lat1) / 2);
  const a = u * u + Math.cos(lat1) * Math.cos(lat2) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/**
 * A search area around a centre: a circle or a box, its sizes in the caller's unit and
 * `conversion` the meters in one unit (Redis multiplies at each use, and so must we).
 */
export type GeoShape = { center: [number, number]; conversion: number } & (
  | { kind: 'radius'; radius: number }
  | { kind: 'box'; width: number; height: number }
);

/** geoWithinShape: the distance from the centre when the point is inside, else null. */
export function distanceWithin(shape: GeoShape, point: [number, number]): number | null {
  const [x1, y1] = shape.center;
  const [x2, y2] = point;
  if (shape.kind === 'radius') {
    const meters = distance(x1, y1, x2, y2);
    return meters > shape.radius * shape.conversion ? null : meters;
  }
  if (latitudeDistance(y2, y1) > (shape.height * shape.conversion) / 2) return null;
  if (distance(x2, y2, x1, y2) > (shape.width * shape.conversion) / 2) return null;
  return distance(x1, y1, x2, y2);
}

function estimateSteps(rangeMeters: number, latitude: number): number {
  if (rangeMeters === 0) return 26;
  let range = rangeMeters;
  let step = 1;
  while (range < MERCATOR_MAX) {
    range *= 2;
    step++;
  }
  step -= 2;
  if (latitude > 66 || latitude < -66) {
    step--;
    if (latitude > 80 || latitude < -80) step--;
  }
  return Math.min(26, Math.max(1, step));
}

function boundingBox(shape: GeoShape): {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
} {
  const [longitude, latitude] = shape.center;
  const height = shape.conversion * (shape.kind === 'radius' ? shape.radius : shape.height / 2);
  const width = shape.conversion * (shape.kind === 'radius' ? shape.radius : shape.width / 2);
  const latitudeDelta = height / EARTH_RADIUS_IN_METERS / DEG_TO_RAD;
  const longitudeDeltaTop =
    width / EARTH_RADIUS_IN_METERS / Math.cos((latitude + latitudeDelta) * DEG_TO_RAD) / DEG_TO_RAD;
  const longitudeDeltaBottom =
    width / EARTH_RADIUS_IN_METERS / Math.cos((latitude - latitudeDelta) * DEG_TO_RAD) / DEG_TO_RAD;
  const delta = latitude < 0 ? longitudeDeltaBottom : longitudeDeltaTop;
  return {
    minLon: longitude - delta,
    maxLon: longitude + delta,
    minLat: latitude - latitudeDelta,
    maxLat: latitude + latitudeDelta,
  };
}

function moveX(hash: GeoHash, direction: number): GeoHash {
  if (direction === 0) return hash;
  let x = hash.bits & ODD_BITS;
  const y = hash.bits & EVEN_BITS;
  const zz = EVEN_BITS >> BigInt(64 - hash.step * 2);
  x = direction > 0 ? u64(x + (zz + 1n)) : u64((x | zz) - (zz + 1n));
  x &= ODD_BITS >> BigInt(64 - hash.step * 2);
  return { bits: x | y, step: hash.step };
}

function moveY(hash: GeoHash, direction: number): GeoHash {
  if (direction === 0) return hash;
  const x = hash.bits & ODD_BITS;
  let y = hash.bits & EVEN_BITS;
  const zz = ODD_BITS >> BigInt(64 - hash.step * 2);
  y = direction > 0 ? u64(y + (zz + 1n)) : u64((y | zz) - (zz + 1n));
  y &= EVEN_BITS >> BigInt(64 - hash.step * 2);
  return { bits: x | y, step: hash.step };
}

const move = (hash: GeoHash, dx: number, dy: number) => moveY(moveX(hash, dx), dy);

/** One box to scan: scores in [min, max). */
export interface ScoreBox {
  min: number;
  max: number;
}

/**
 * geohashCalculateAreasByShapeWGS84 then membersOfAllNeighbors: the boxes Redis scans, centre
 * first, then N, S, E, W, NE, NW, SE, SW, without the useless ones and without a box equal to
 * the one scanned just before (Redis never compares with the centre box).
 */
export function searchBoxes(shape: GeoShape): ScoreBox[] {
  const bounds = boundingBox(shape);
  const [longitude, latitude] = shape.center;
  const radius =
    (shape.kind === 'radius'
      ? shape.radius
      : Math.sqrt(
          (shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2),
        )) * shape.conversion;
  let steps = estimateSteps(radius, latitude);
  const around = (step: number) => {
    const hash = encode(longitude, latitude, step) ?? { bits: 0n, step };
    return { hash, area: decodeArea(hash) };
  };
  let { hash, area } = around(steps);
  const north = decodeArea(move(hash, 0, 1));
  const south = decodeArea(move(hash, 0, -1));
  const east = decodeArea(move(hash, 1, 0));
  const west = decodeArea(move(hash, -1, 0));
  const decrease =
    north.latitude.max < bounds.maxLat ||
    south.latitude.min > bounds.minLat ||
    east.longitude.max < bounds.maxLon ||
    west.longitude.min > bounds.minLon;
  if (steps > 1 && decrease) {
    steps--;
    ({ hash, area } = around(steps));
  }
  // [dx, dy] of: self, N, S, E, W, NE, NW, SE, SW.
  const offsets: [number, number][] = [
    [0, 0],
    [0, 1],
    [0, -1],
    [1, 0],
    [-1, 0],
    [1, 1],
    [-1, 1],
    [1, -1],
    [-1, -1],
  ];
  const useless = (dx: number, dy: number) =>
    steps >= 2 &&
    ((dy === -1 && area.latitude.min < bounds.minLat) ||
      (dy === 1 && area.latitude.max > bounds.maxLat) ||
      (dx === -1 && area.longitude.min < bounds.minLon) ||
      (dx === 1 && area.longitude.max > bounds.maxLon));
  const boxes: ScoreBox[] = [];
  let last: GeoHash | null = null;
  offsets.forEach(([dx, dy], i) => {
    if (i > 0 && useless(dx, dy)) return;
    const box = i === 0 ? hash : move(hash, dx, dy);
    if (last !== null && box.bits === last.bits && box.step === last.step) return;
    boxes.push({
      min: Number(align52(box)),
      max: Number(align52({ bits: box.bits + 1n, step: box.step })),
    });
    last = i === 0 ? null : box;
  });
  return boxes;
}
