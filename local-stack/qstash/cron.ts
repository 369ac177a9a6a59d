// Schedules' Upstash-Cron: five fields in UTC, or with a leading "CRON_TZ=<zone> " as QStash allows.
import { Cron } from 'croner';
import { fail, ok, type Result } from './result.ts';

function parts(expression: string): { zone: string; fields: string } {
  const match = /^(?:CRON_TZ=(\S+)\s+)?(.*)$/.exec(expression.trim());
  return { zone: match?.[1] ?? 'UTC', fields: match?.[2]?.trim() ?? '' };
}

/** The first run strictly after `afterMs`, or undefined when the pattern never fires again. */
export function nextRunAfter(expression: string, afterMs: number): number | undefined {
  const { zone, fields } = parts(expression);
  const job = new Cron(fields, { timezone: zone, mode: '5-part', paused: true });
  return job.nextRun(new Date(afterMs))?.getTime();
}

export function validateCron(expression: string): Result<string> {
  const { fields } = parts(expression);
  if (fields.split(/\s+/).filter(Boolean).length !== 5) {
    return fail(400, `Invalid cron expression: expected exactly 5 fields, found "${fields}"`);
  }
  try {
    nextRunAfter(expression, Date.now());
  } catch (error) {
    return fail(400, `Invalid cron expression: ${error instanceof Error ? error.message : error}`);
  }
  return ok(expression.trim());
}
