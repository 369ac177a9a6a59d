/**
 * Start/stop indexes as LRANGE, LTRIM, ZRANGE and ZREMRANGEBYRANK read them: negative counts from
 * the end, both ends clamped, inclusive; null when nothing is selected.
 */
export function indexWindow(start: number, stop: number, length: number): [number, number] | null {
  const from = Math.max(0, start < 0 ? length + start : start);
  const to = Math.min(length - 1, stop < 0 ? length + stop : stop);
  return from > to || from >= length ? null : [from, to];
}
