// Number parsing and formatting with Redis's rules: strict integers (string2ll), strtod-style
// floats, "%.17g" for doubles and exact decimal sums for INCRBYFLOAT, whose long double Redis
// prints back without binary noise ("0.1" + "0.2" is "0.3").
export const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const STRICT_INTEGER = /^(0|-?[1-9][0-9]{0,19})$/;
const FLOAT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const INFINITY = /^([+-]?)inf(inity)?$/i;

export function parseInt64(bytes: Buffer): bigint | null {
  const text = bytes.toString('latin1');
  if (!STRICT_INTEGER.test(text)) return null;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? null : value;
}

export function parseInteger(bytes: Buffer): number | null {
  const value = parseInt64(bytes);
  return value === null ? null : Number(value);
}

export function inInt64Range(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

export function parseDouble(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  const infinite = INFINITY.exec(text);
  if (infinite) return infinite[1] === '-' ? -Infinity : Infinity;
  return FLOAT.test(text) ? Number(text) : null;
}

function trimFraction(digits: string): string {
  return digits.includes('.') ? digits.replace(/\.?0+$/, '') : digits;
}

/**
 * The first `precision` significant digits of |value|, rounded as glibc's printf rounds: to
 * nearest, ties to even (JavaScript's toExponential breaks ties upwards).
 */
function significantDigits(value: number, precision: number): { digits: string; exponent: number } {
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential(99).split('e');
  const all = mantissa.replace('.', '');
  let exponent = Number(exponentText);
  const rest = all.slice(precision);
  let digits = all.slice(0, precision);
  const half = `5${'0'.repeat(rest.length - 1)}`;
  const lastDigitOdd = Number(digits.at(-1)) % 2 === 1;
  if (rest > half || (rest === half && lastDigitOdd)) {
    const rounded = (BigInt(digits) + 1n).toString();
    if (rounded.length > precision) exponent++;
    digits = rounded.slice(0, precision);
  }
  return { digits, exponent };
}

/** printf("%.<precision>g") for finite numbers. */
export function formatGeneral(value: number, precision: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  const { digits, exponent } = significantDigits(value, precision);
  if (exponent < -4 || exponent >= precision) {
    const mantissa = trimFraction(`${digits[0]}.${digits.slice(1)}`);
    const exponentSign = exponent < 0 ? '-' : '+';
    return `${sign}${mantissa}e${exponentSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed =
    exponent < 0
      ? `0.${'0'.repeat(-exponent - 1)}${digits}`
      : `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  return `${sign}${trimFraction(fixed)}`;
}

/** printf("%.17g"), which Redis 7.0 uses for scores and for Lua numbers passed to commands. */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return formatGeneral(value, 17);
}

const DECIMAL = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/;
const FRACTION_DIGITS = 17;

function toScaled(text: string): bigint | null {
  const match = DECIMAL.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return null;
  const fraction = (match[3] ?? '').padEnd(FRACTION_DIGITS, '0');
  if (fraction.length > FRACTION_DIGITS) return null;
  const magnitude = BigInt(`${match[2] || '0'}${fraction}`);
  return match[1] === '-' ? -magnitude : magnitude;
}

function fromScaled(value: bigint): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(FRACTION_DIGITS + 1, '0');
  const whole = digits.slice(0, -FRACTION_DIGITS);
  const text = trimFraction(`${whole}.${digits.slice(-FRACTION_DIGITS)}`);
  return negative && text !== '0' ? `-${text}` : text;
}

/**
 * INCRBYFLOAT's result as Redis prints it ("%.17Lf" with trailing zeros trimmed), or null when
 * the result is not finite.
 */
export function addDecimal(current: Buffer, increment: Buffer): string | null {
  const base = parseDouble(current);
  const delta = parseDouble(increment);
  if (base === null || delta === null) return null;
  const sum = base + delta;
  if (!Number.isFinite(sum)) return null;
  const exactBase = toScaled(current.toString('latin1'));
  const exactDelta = toScaled(increment.toString('latin1'));
  if (exactBase !== null && exactDelta !== null) return fromScaled(exactBase + exactDelta);
  return trimFraction(sum.toFixed(FRACTION_DIGITS));
}

/**
 * printf("%.<digits>f"): the exact decimal value of the double rounded to nearest, ties to even
 * (JavaScript's toFixed breaks ties away from zero).
 */
export function formatFixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const [whole = '0', fraction = ''] = Math.abs(value)
    .toFixed(digits + 30)
    .split('.');
  const rest = fraction.slice(digits);
  let scaled = BigInt(whole + fraction.slice(0, digits));
  const half = `5${'0'.repeat(rest.length - 1)}`;
  if (rest > half || (rest === half && scaled % 2n === 1n)) scaled += 1n;
  const text = scaled.toString().padStart(digits + 1, '0');
  return digits === 0
    ? `${sign}${text}`
    : `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * string2d, Redis's reading of a double argument (GEOADD, radii, weights): like parseDouble, but
 * a finite number too large or too small for a double (strtod's ERANGE) is refused.
 */
export function parseStrictDouble(bytes: Buffer): number | null {
  const value = parseDouble(bytes);
  if (value === null) return null;
  const text = bytes.toString('latin1');
  if (!Number.isFinite(value) && !INFINITY.test(text)) return null;
  const mantissa = text.split(/[eE]/)[0] ?? '';
  if (value === 0 && /[1-9]/.test(mantissa)) return null;
  return value;
}
