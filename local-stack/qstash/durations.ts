// QStash's duration headers (Upstash-Delay, Upstash-Timeout) take a whole number followed by one
// unit letter, as the client formats them: "10s", "5m", "2h", "1d".

const unitMs: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds for a duration such as "10s", or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  const perUnit = unit === undefined ? undefined : unitMs[unit];
  if (amount === undefined || perUnit === undefined) return undefined;
  return Number(amount) * perUnit;
}
