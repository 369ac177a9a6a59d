// Pub/sub for the embedded engine: who listens to which channels and patterns, PUBLISH's
// delivery and its receiver count. Each subscription stands for one subscribed Redis connection:
// it gets a message once per matching channel and once per matching pattern, channels first.
import {
  type PubSubEvent,
  type PubSubListener,
  type PubSubSubscription,
  RedisErrorReply,
  type SubscribeMode,
} from '../redis-rest/backend.ts';
import { globMatch } from './glob.ts';
import { keyOf } from './keyspace.ts';

interface Subscriber {
  channels: Map<string, Buffer>;
  patterns: Map<string, Buffer>;
  listener: PubSubListener;
}

export class Subscribers {
  readonly #subscribers = new Set<Subscriber>();

  /**
   * SUBSCRIBE (channels) or PSUBSCRIBE (patterns): one confirmation per name, with the number of
   * names the subscription then holds, handed to the listener before this returns.
   */
  subscribe(
    mode: SubscribeMode,
    names: Buffer[],
    listener: PubSubListener,
  ): PubSubSubscription | RedisErrorReply {
    const command = mode === 'channels' ? 'subscribe' : 'psubscribe';
    if (names.length === 0) {
      return new RedisErrorReply(`ERR wrong number of arguments for '${command}' command`);
    }
    const subscriber: Subscriber = { channels: new Map(), patterns: new Map(), listener };
    const target = mode === 'channels' ? subscriber.channels : subscriber.patterns;
    this.#subscribers.add(subscriber);
    for (const name of names) {
      target.set(keyOf(name), name);
      const count = subscriber.channels.size + subscriber.patterns.size;
      listener.event({ kind: command, name, count });
    }
    return { close: () => this.#subscribers.delete(subscriber) };
  }

  /** Delivers to every matching subscription; PUBLISH's reply is the number of deliveries. */
  publish(channel: Buffer, payload: Buffer): number {
    const name = keyOf(channel);
    const deliveries: [Subscriber, PubSubEvent][] = [];
    for (const subscriber of this.#subscribers) {
      if (subscriber.channels.has(name)) {
        deliveries.push([subscriber, { kind: 'message', channel, payload }]);
      }
    }
    for (const subscriber of this.#subscribers) {
      for (const [text, pattern] of subscriber.patterns) {
        if (globMatch(text, name)) {
          deliveries.push([subscriber, { kind: 'pmessage', pattern, channel, payload }]);
        }
      }
    }
    for (const [subscriber, event] of deliveries) subscriber.listener.event(event);
    return deliveries.length;
  }

  /** Ends every subscription, as a backend going away does. */
  endAll(): void {
    const subscribers = [...this.#subscribers];
    this.#subscribers.clear();
    for (const subscriber of subscribers) subscriber.listener.ended();
  }
}
