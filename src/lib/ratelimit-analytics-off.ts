// What `@upstash/core-analytics` resolves to in the Worker bundle (wrangler.toml [alias]).
// @upstash/ratelimit imports it unconditionally but constructs it only with `analytics: true`,
// which the policies never set (src/lib/rate-limit-policies.ts); this keeps 6 KiB of unused
// code out of the Worker and fails loudly if analytics is ever switched on without removing it.
export class Analytics {
  constructor() {
    throw new Error(
      'rate-limit analytics is left out of the Worker bundle (src/lib/ratelimit-analytics-off.ts)',
    );
  }
}
