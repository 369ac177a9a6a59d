// product.created, product.updated and product.deleted: each becomes one job per handler (the
// cache warm-up, and the broadcast to subscribed partners), staged in the outbox in the same batch
// as the change and published after the commit. Job ids join the event's id and the handler's
// type, so a job published twice (by the request and by the outbox sweep) runs once.
import type { ProductRow } from '../../db/schema.ts';
import type { PartnerEventType } from '../../jobs/catalogue.ts';
import { type PreparedJob, prepareJob } from '../../jobs/enqueue.ts';
import type { Clock } from '../../platform/clock.ts';
import { productEventData } from './product-serializer.ts';

export function productEventJobs(
  clock: Clock,
  event: PartnerEventType,
  product: ProductRow,
): PreparedJob[] {
  const eventId = crypto.randomUUID();
  const options = (type: string) => ({ id: `${eventId}:${type}`, ownerId: product.ownerId });
  return [
    prepareJob(
      clock,
      'product.cache-warm',
      { productId: product.id },
      options('product.cache-warm'),
    ),
    prepareJob(
      clock,
      'partner.broadcast',
      {
        eventId,
        event,
        occurredAt: clock.now().toISOString(),
        data: productEventData(product),
      },
      options('partner.broadcast'),
    ),
  ];
}
