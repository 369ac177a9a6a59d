// One SUBSCRIBE or PSUBSCRIBE on a RESP connection of its own. Redis confirms each name with a
// reply of its own, then pushes messages unasked; each of those replies becomes a PubSubEvent.
import {
  type PubSubEvent,
  type PubSubListener,
  type PubSubSubscription,
  type RedisCommand,
  RedisErrorReply,
  type RedisReply,
} from './backend.ts';

/** A RESP2 push as an event; undefined for replies a subscriber does not forward. */
export function pushToEvent(reply: RedisReply): PubSubEvent | undefined {
  if (!Array.isArray(reply) || !Buffer.isBuffer(reply[0])) return undefined;
  const [kind, first, second, third] = reply;
  switch (kind.toString('latin1')) {
    case 'subscribe':
    case 'psubscribe':
      if (!Buffer.isBuffer(first) || typeof second !== 'number') return undefined;
      return {
        kind: kind.toString('latin1') === 'subscribe' ? 'subscribe' : 'psubscribe',
        name: first,
        count: second,
      };
    case 'message':
      if (!Buffer.isBuffer(first) || !Buffer.isBuffer(second)) return undefined;
      return { kind: 'message', channel: first, payload: second };
    case 'pmessage':
      if (!Buffer.isBuffer(first) || !Buffer.isBuffer(second) || !Buffer.isBuffer(third)) {
        return undefined;
      }
      return { kind: 'pmessage', pattern: first, channel: second, payload: third };
    default:
      return undefined;
  }
}

type Outcome = PubSubSubscription | RedisErrorReply;

/** What a subscription needs of its connection (resp-backend.ts's RespConnection). */
export interface SubscriberConnection {
  /** Writes a command whose replies all go to the connection's push handler. */
  sendUnanswered(command: RedisCommand): void;
  close(): void;
}

/** Created before its connection, so that connection can hand it every push and its closing. */
export class RespSubscription implements PubSubSubscription {
  readonly #listener: PubSubListener;
  readonly #confirmed: Promise<Outcome>;
  #settle: (outcome: Outcome) => void = () => {};
  #fail: (error: Error) => void = () => {};
  #state: 'confirming' | 'open' | 'closed' = 'confirming';
  #connection: SubscriberConnection | undefined;

  constructor(listener: PubSubListener) {
    this.#listener = listener;
    this.#confirmed = new Promise<Outcome>((resolve, reject) => {
      this.#settle = resolve;
      this.#fail = reject;
    });
    // A connection lost during the handshake rejects before anyone awaits: not unhandled.
    this.#confirmed.catch(() => {});
  }

  /**
   * Sends the SUBSCRIBE; resolves with this subscription once Redis confirmed the first name (the
   * confirmation already handed to the listener), or with the error Redis answered.
   */
  start(connection: SubscriberConnection, command: RedisCommand): Promise<Outcome> {
    this.#connection = connection;
    if (this.#state === 'confirming') connection.sendUnanswered(command);
    return this.#confirmed;
  }

  /** Every reply the connection receives after the handshake. */
  receive(reply: RedisReply): void {
    if (this.#state === 'closed') return;
    if (reply instanceof RedisErrorReply && this.#state === 'confirming') {
      this.#state = 'closed';
      this.#connection?.close();
      this.#settle(reply);
      return;
    }
    const event = pushToEvent(reply);
    if (event === undefined) return;
    if (this.#state === 'confirming') {
      this.#state = 'open';
      this.#settle(this);
    }
    this.#listener.event(event);
  }

  connectionClosed(): void {
    const state = this.#state;
    this.#state = 'closed';
    if (state === 'confirming') this.#fail(new Error('connection to Redis lost while subscribing'));
    if (state === 'open') this.#listener.ended();
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#connection?.close();
  }
}
