// Where a publish, batch item or schedule sends: a URL, or the name of a URL group, each of whose
// endpoints then gets a message of its own (same body and settings, its own id, delivery, retries
// and DLQ entry), as QStash fans out a URL-group publish.
import type { MessageSettings, UrlGroupRecord } from './model.ts';
import { validateUrl } from './publish-request.ts';
import { fail, ok, type Result } from './result.ts';
import type { BrokerStore } from './store.ts';

export type Destination =
  | { kind: 'url'; url: string }
  | { kind: 'urlGroup'; group: UrlGroupRecord };

/** A group's name never contains ":" or "/", so it cannot be mistaken for a URL. */
export function resolveDestination(store: BrokerStore, destination: string): Result<Destination> {
  const group = store.getUrlGroup(destination);
  if (!group) {
    const url = validateUrl(destination, 'destination');
    return url.ok ? ok({ kind: 'url', url: url.value }) : url;
  }
  if (group.endpoints.length === 0) {
    return fail(400, `url group ${group.name} has no endpoints`);
  }
  return ok({ kind: 'urlGroup', group });
}

/** The settings of each message a publish to `destination` creates, one per endpoint. */
export function fanOut(settings: MessageSettings, destination: Destination): MessageSettings[] {
  if (destination.kind === 'url') return [{ ...settings, url: destination.url }];
  const { group } = destination;
  return group.endpoints.map((endpoint) => ({
    ...settings,
    url: endpoint.url,
    urlGroup: group.name,
    ...(endpoint.name !== undefined && { endpointName: endpoint.name }),
  }));
}
