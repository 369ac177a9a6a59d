// The one source of time, so tests can pin it and every timestamp agrees within a request.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
