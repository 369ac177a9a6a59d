// product.created, product.updated and product.deleted: each becomes one job per handler (the
// cache warm-up, and the broadcast to subscribed partners), staged in the outbox in the same batch
// as the change and published after the commit. Job ids join the event's id and the handler's
// type, so a job published twice (by the request and by the outbox sweep) runs once.
import type { ProductRow } from '../../db/schema.ts';
import type { PartnerEventType } from '../../jobs/catalogue.ts';
import { type JobOrigin, type PreparedJob, prepareJob } from '../../jobs/enqueue.ts';
import { productEventData } from './product-serializer.ts';

export function productEventJobs(
  origin: JobOrigin,
  event: PartnerEventType,
  product: ProductRow,
): PreparedJob[] {
  const eventId = crypto.randomUUID();
  const options = (type: string) => ({ id: `${eventId}:${type}`, ownerId: product.ownerId });
  return [
    prepareJob(
      origin,
      'product.cache-warm',
      { productId: product.id },
      options('product.cache-warm'),
    ),
    prepareJob(
      origin,
      'partner.broadcast',
      {
        eventId,
        event,
        occurredAt: origin.clock.now().toISOString(),
        data: productEventData(product),
      },
      options('partner.broadcast'),
    ),
  ];
}
