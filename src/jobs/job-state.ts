// Each job's state in Redis, shared by every copy of the edge and of the Node worker: what makes a
// repeated delivery harmless and what GET /v1/jobs/{id} reports. A delivery claims the job with a
// lease before running it; a second delivery meanwhile is told to come back later, and one after
// completion is acknowledged without running the job again.
import type { Redis } from '../platform/redis.ts';

export type JobStatus =
  | { status: 'pending' }
  | { status: 'processing'; progress: number }
  | { status: 'completed'; result: unknown }
  | { status: 'failed'; error: string };

export interface JobRecord {
  key: string;
  type: string;
  ownerId?: string;
  attempts: number;
  /** Set while a delivery holds the job (ms since the epoch). */
  leaseUntil?: number;
  /** The holding delivery's lease length: each progress report renews the lease by it. */
  leaseMs?: number;
  /** Failed for good: the payload can never succeed, or QStash gave up. */
  permanent?: boolean;
  /** The last transient failure, kept while the job waits for its retry. */
  lastError?: string;
  updatedAt: number;
  state: JobStatus;
}

export type Claim =
  | { outcome: 'claimed'; attempts: number }
  | { outcome: 'completed' }
  | { outcome: 'failed'; error: string }
  | { outcome: 'busy'; retryAfterSeconds: number };

/** A week: longer than QStash's longest retry schedule, so a late duplicate still finds its job. */
const recordTtlSeconds = 7 * 24 * 3600;

export function jobStateKey(key: string): string {
  return `job:${key}`;
}

// One script, so two deliveries racing for the same job cannot both claim it.
const claimScript = `
local raw = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
local record
if raw then
  record = cjson.decode(raw)
else
  record = { key = ARGV[5], type = ARGV[3], attempts = 0 }
  if ARGV[4] ~= '' then record.ownerId = ARGV[4] end
end
local status = record.state and record.state.status or 'pending'
if status == 'completed' then return { 'completed', '' } end
if status == 'failed' and record.permanent then return { 'failed', record.state.error or '' } end
if status == 'processing' and tonumber(record.leaseUntil or 0) > now then
  return { 'busy', tostring(record.leaseUntil) }
end
record.attempts = (record.attempts or 0) + 1
record.leaseMs = tonumber(ARGV[2])
record.leaseUntil = now + record.leaseMs
record.updatedAt = now
record.state = { status = 'processing', progress = 0 }
redis.call('SET', KEYS[1], cjson.encode(record), 'EX', ARGV[6])
return { 'claimed', tostring(record.attempts) }
`;

// Merges fields into the record, creating it if needed. The lease is released, or with ARGV[5]
// '1' (a progress report from the holder) renewed by its length from now.
const updateScript = `
local raw = redis.call('GET', KEYS[1])
local record = raw and cjson.decode(raw) or { key = ARGV[3], type = ARGV[4], attempts = 0 }
local fields = cjson.decode(ARGV[1])
if ARGV[5] == '1' and record.leaseMs then
  record.leaseUntil = tonumber(fields.updatedAt) + record.leaseMs
else
  record.leaseUntil = nil
end
for name, value in pairs(fields) do record[name] = value end
redis.call('SET', KEYS[1], cjson.encode(record), 'EX', ARGV[2])
return 1
`;

export interface JobStateStore {
  /**
   * Records a job just handed to QStash as pending, for GET /v1/jobs/{id}; a job that already
   * has a record (claimed, done or failed) keeps it.
   */
  pending(key: string, type: string, ownerId: string | undefined): Promise<void>;
  claim(key: string, type: string, ownerId: string | undefined, leaseMs: number): Promise<Claim>;
  /** Reports progress and renews the holder's lease: a long job is not taken for a dead one. */
  progress(key: string, type: string, percent: number): Promise<void>;
  complete(key: string, type: string, result: unknown): Promise<void>;
  /** A failure the next delivery may not repeat: the job goes back to pending, lease released. */
  release(key: string, type: string, error: string): Promise<void>;
  /** Failed for good; later deliveries are refused without running the job. */
  fail(key: string, type: string, error: string, ownerId?: string): Promise<void>;
  /** Forgets a failure, so a requeued job runs again. */
  reset(key: string, type: string): Promise<void>;
  read(key: string): Promise<JobRecord | null>;
}

export function createJobStateStore(redis: Redis, now: () => number): JobStateStore {
  const update = async (
    key: string,
    type: string,
    fields: Record<string, unknown>,
    renewLease = false,
  ) => {
    await redis.eval(
      updateScript,
      [jobStateKey(key)],
      [
        JSON.stringify({ ...fields, updatedAt: now() }),
        recordTtlSeconds,
        key,
        type,
        renewLease ? '1' : '0',
      ],
    );
  };
  return {
    async pending(key, type, ownerId) {
      const record: JobRecord = {
        key,
        type,
        ...(ownerId !== undefined && { ownerId }),
        attempts: 0,
        updatedAt: now(),
        state: { status: 'pending' },
      };
      await redis.set(jobStateKey(key), record, { nx: true, ex: recordTtlSeconds });
    },
    async claim(key, type, ownerId, leaseMs) {
      const [outcome, detail = ''] = await redis.eval<unknown[], [string, string]>(
        claimScript,
        [jobStateKey(key)],
        [now(), leaseMs, type, ownerId ?? '', key, recordTtlSeconds],
      );
      if (outcome === 'claimed') return { outcome, attempts: Number(detail) };
      if (outcome === 'completed') return { outcome };
      if (outcome === 'failed') return { outcome, error: detail };
      const waitMs = Math.max(0, Number(detail) - now());
      return { outcome: 'busy', retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
    async progress(key, type, percent) {
      const bounded = Math.max(0, Math.min(100, Math.round(percent)));
      await update(key, type, { state: { status: 'processing', progress: bounded } }, true);
    },
    async complete(key, type, result) {
      await update(key, type, { state: { status: 'completed', result: result ?? null } });
    },
    async release(key, type, error) {
      await update(key, type, { state: { status: 'pending' }, lastError: error });
    },
    async fail(key, type, error, ownerId) {
      await update(key, type, {
        state: { status: 'failed', error },
        permanent: true,
        ...(ownerId && { ownerId }),
      });
    },
    async reset(key, type) {
      await update(key, type, { state: { status: 'pending' }, permanent: false });
    },
    async read(key) {
      const raw = await redis.get<JobRecord | string>(jobStateKey(key));
      if (raw === null) return null;
      return typeof raw === 'string' ? (JSON.parse(raw) as JobRecord) : raw;
    },
  };
}
