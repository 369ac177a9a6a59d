// The database schema, the single source for drizzle-kit's migrations in drizzle/.
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const userRoles = ['user', 'admin'] as const;
export type UserRole = (typeof userRoles)[number];

const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });
// Whole milliseconds: unixepoch('subsec') * 1000 alone can land a hair off an integer and be
// stored as REAL.
const nowMs = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`;

export const users = sqliteTable(
  'users',
  {
    /** A UUID; the public identifier too, so it must not be guessable (never a sequence). */
    id: text('id')
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    /** Stored lower-cased, so uniqueness ignores case. */
    email: text('email').notNull().unique(),
    name: text('name').notNull(),
    role: text('role', { enum: userRoles }).notNull().default('user'),
    /**
     * `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`: the parameters travel with the hash, so
     * they can be raised later and old hashes re-hashed on login. Null: no password set yet.
     */
    passwordHash: text('password_hash'),
    passwordChangedAt: timestamp('password_changed_at'),
    emailVerifiedAt: timestamp('email_verified_at'),
    createdAt: timestamp('created_at').notNull().default(nowMs),
    updatedAt: timestamp('updated_at').notNull().default(nowMs),
    /** Soft delete: set, the user is hidden everywhere by default. */
    deletedAt: timestamp('deleted_at'),
    /**
     * The avatar being shown: set only once its 400x400 JPEG is ready, so a new upload keeps the
     * previous one until then. A copy of the file's few public facts, so no read of a user joins.
     */
    avatar: text('avatar', { mode: 'json' }).$type<AvatarRef>(),
  },
  (table) => [
    index('users_deleted_at_idx').on(table.deletedAt),
    // The export's keyset pages walk (created_at, id).
    index('users_created_idx').on(table.createdAt, table.id),
  ],
);

/** A user's avatar as users.avatar keeps it: the file and what its content is. */
export interface AvatarRef {
  id: string;
  type: string;
  size: number;
}

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;

const id = () =>
  text('id')
    .primaryKey()
    .$defaultFn(() => crypto.randomUUID());
const userId = () =>
  text('user_id')
    .notNull()
    .references(() => users.id);

/** The last password hashes of each user, so a new password cannot repeat a recent one. */
export const passwordHistory = sqliteTable(
  'password_history',
  {
    id: id(),
    userId: userId(),
    passwordHash: text('password_hash').notNull(),
    createdAt: timestamp('created_at').notNull().default(nowMs),
  },
  (table) => [index('password_history_user_idx').on(table.userId, table.createdAt)],
);

/**
 * Opaque refresh tokens, stored as SHA-256. Each use rotates the token within its family; a
 * token used twice means it leaked, and the whole family is revoked.
 */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    id: id(),
    userId: userId(),
    familyId: text('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    /** Set when the token was exchanged for its successor. */
    usedAt: timestamp('used_at'),
    revokedAt: timestamp('revoked_at'),
    createdAt: timestamp('created_at').notNull().default(nowMs),
  },
  (table) => [
    uniqueIndex('refresh_tokens_hash_idx').on(table.tokenHash),
    index('refresh_tokens_family_idx').on(table.familyId),
    index('refresh_tokens_user_idx').on(table.userId),
  ],
);

export const oneTimeTokenPurposes = ['email_verification', 'password_reset'] as const;
export type OneTimeTokenPurpose = (typeof oneTimeTokenPurposes)[number];

/** Single-use, expiring tokens sent by email, stored as SHA-256. */
export const oneTimeTokens = sqliteTable(
  'one_time_tokens',
  {
    id: id(),
    userId: userId(),
    purpose: text('purpose', { enum: oneTimeTokenPurposes }).notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    createdAt: timestamp('created_at').notNull().default(nowMs),
  },
  (table) => [
    uniqueIndex('one_time_tokens_hash_idx').on(table.tokenHash),
    index('one_time_tokens_user_idx').on(table.userId, table.purpose),
  ],
);

/** API keys: shown once at creation (`sk_` + 32 random bytes), stored as SHA-256. */
export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: id(),
    userId: userId(),
    name: text('name').notNull(),
    /** The first characters of the key, so its owner can tell keys apart. */
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    expiresAt: timestamp('expires_at'),
    lastUsedAt: timestamp('last_used_at'),
    revokedAt: timestamp('revoked_at'),
    createdAt: timestamp('created_at').notNull().default(nowMs),
  },
  (table) => [
    uniqueIndex('api_keys_hash_idx').on(table.keyHash),
    index('api_keys_user_idx').on(table.userId),
  ],
);

export const apiKeyUsage = sqliteTable(
  'api_key_usage',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    apiKeyId: text('api_key_id')
      .notNull()
      .references(() => apiKeys.id),
    method: text('method').notNull(),
    endpoint: text('endpoint').notNull(),
    ip: text('ip'),
    status: integer('status').notNull(),
    createdAt: timestamp('created_at').notNull().default(nowMs),
  },
  (table) => [index('api_key_usage_key_idx').on(table.apiKeyId, table.createdAt)],
);

/** Who changed what, written in the same transaction as the change. */
/** Who did what, for an audit row written with the change it records. */
export interface AuditEntry {
  /** Null for a change made outside the API, by the admin CLI (src/entries/admin.ts). */
  actorId: string | null;
  action: string;
  changes?: Record<string, unknown>;
}

export const auditLogs = sqliteTable(
  'audit_logs',
  {
    id: id(),
    actorId: text('actor_id').references(() => users.id),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    changes: text('changes', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at').notNull().default(nowMs),
  },
  (table) => [index('audit_logs_target_idx').on(table.targetType, table.targetId)],
);

/**
 * Jobs that must follow a database change, written in the same batch as the change and deleted
 * once QStash accepted them. A row still here after a minute was not published (QStash was
 * unreachable, or the isolate died first): the outbox sweep publishes it. The row's id is the
 * job's id and QStash's deduplication id, so publishing it twice delivers it once.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    /** The whole job message, as delivered (src/jobs/catalogue.ts, jobMessageSchema). */
    message: text('message', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    priority: text('priority').notNull(),
    /** Unix seconds: deliver no earlier (Upstash-Not-Before). */
    notBefore: integer('not_before'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at').notNull().default(nowMs),
  },
  (table) => [index('outbox_created_idx').on(table.createdAt)],
);

export type OutboxRow = typeof outbox.$inferSelect;

/** Jobs QStash gave up on, recorded by its failure callback, until an admin requeues or deletes them. */
export const deadJobs = sqliteTable(
  'dead_jobs',
  {
    /** The job's key: its id, or `msg:<QStash message id>` for a scheduled run. */
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    message: text('message', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    messageId: text('message_id').notNull(),
    /** QStash's DLQ entry, deleted with the record. */
    dlqId: text('dlq_id'),
    /** The destination's last answer: status and the start of its body. */
    lastStatus: integer('last_status'),
    lastResponse: text('last_response'),
    retried: integer('retried').notNull(),
    failedAt: timestamp('failed_at').notNull(),
    requeuedAt: timestamp('requeued_at'),
    requeueCount: integer('requeue_count').notNull().default(0),
  },
  (table) => [index('dead_jobs_failed_idx').on(table.failedAt)],
);

export type DeadJobRow = typeof deadJobs.$inferSelect;

export const partnerSchemes = ['hmac-sha256', 'standard-webhooks'] as const;
export type PartnerScheme = (typeof partnerSchemes)[number];

/**
 * Partners: they send us signed webhooks, and those subscribed to our events receive them at
 * their webhook URL, signed the same way with the same secrets.
 */
export const partners = sqliteTable('partners', {
  id: id(),
  name: text('name').notNull().unique(),
  scheme: text('scheme', { enum: partnerSchemes }).notNull(),
  /** Where our events go; null: the partner receives none. */
  webhookUrl: text('webhook_url'),
  /** The event types the partner receives, e.g. product.created. */
  subscribedEvents: text('subscribed_events', { mode: 'json' })
    .$type<string[]>()
    .notNull()
    .default(sql`'[]'`),
  createdAt: timestamp('created_at').notNull().default(nowMs),
  revokedAt: timestamp('revoked_at'),
});

export type PartnerRow = typeof partners.$inferSelect;

/**
 * A partner's signing secrets, encrypted with PARTNER_SECRETS_KEY. Several are active during a
 * rotation: the old one until its `expiresAt`, the new one from its creation.
 */
export const partnerSecrets = sqliteTable(
  'partner_secrets',
  {
    id: id(),
    partnerId: text('partner_id')
      .notNull()
      .references(() => partners.id),
    /** `<iv b64url>.<ciphertext b64url>` (AES-256-GCM). */
    encryptedSecret: text('encrypted_secret').notNull(),
    /** The secret's last four characters, so an admin can tell secrets apart. */
    hint: text('hint').notNull(),
    createdAt: timestamp('created_at').notNull().default(nowMs),
    expiresAt: timestamp('expires_at'),
    revokedAt: timestamp('revoked_at'),
  },
  (table) => [index('partner_secrets_partner_idx').on(table.partnerId)],
);

export type PartnerSecretRow = typeof partnerSecrets.$inferSelect;

/** Each event a partner sent, stored once whatever the number of deliveries. */
export const partnerEvents = sqliteTable(
  'partner_events',
  {
    id: id(),
    partnerId: text('partner_id')
      .notNull()
      .references(() => partners.id),
    /** The partner's own id for the event (the body's `id`, or webhook-id). */
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    payload: text('payload', { mode: 'json' }).$type<unknown>().notNull(),
    receivedAt: timestamp('received_at').notNull().default(nowMs),
    processedAt: timestamp('processed_at'),
  },
  (table) => [uniqueIndex('partner_events_partner_event_idx').on(table.partnerId, table.eventId)],
);

export type PartnerEventRow = typeof partnerEvents.$inferSelect;

export const productCategories = [
  'electronics',
  'computers',
  'home',
  'kitchen',
  'garden',
  'furniture',
  'clothing',
  'shoes',
  'beauty',
  'health',
  'sports',
  'outdoors',
  'toys',
  'books',
  'music',
  'office',
  'automotive',
  'grocery',
  'pets',
  'jewelry',
] as const;
export type ProductCategory = (typeof productCategories)[number];

/** ISO 4217 codes the catalogue prices in. */
export const currencies = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD'] as const;
export type Currency = (typeof currencies)[number];

/**
 * The catalogue. `seq` is the rowid the full-text index (products_fts, created with its triggers
 * by a migration of its own) points at: an INTEGER PRIMARY KEY, so VACUUM never renumbers it. The
 * public identifier is `id`, a UUID.
 */
export const products = sqliteTable(
  'products',
  {
    seq: integer('seq').primaryKey(),
    id: text('id')
      .notNull()
      .unique()
      .$defaultFn(() => crypto.randomUUID()),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    category: text('category', { enum: productCategories }).notNull(),
    /** In the currency's minor units (cents): money is never a float. */
    priceAmount: integer('price_amount').notNull(),
    priceCurrency: text('price_currency', { enum: currencies }).notNull(),
    stock: integer('stock').notNull().default(0),
    tags: text('tags', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    createdAt: timestamp('created_at').notNull().default(nowMs),
    updatedAt: timestamp('updated_at').notNull().default(nowMs),
    /** Soft delete: set, the product is hidden unless an admin asks for deleted ones. */
    deletedAt: timestamp('deleted_at'),
  },
  (table) => [
    // Keyset pages walk (created_at, id); the owner's and a category's pages have their own.
    index('products_created_idx').on(table.createdAt, table.id),
    index('products_owner_created_idx').on(table.ownerId, table.createdAt, table.id),
    index('products_category_created_idx').on(table.category, table.createdAt, table.id),
    index('products_price_idx').on(table.priceAmount, table.id),
    // What a search's row filters read of each match, in a b-tree far denser than the rows: the
    // search names it (INDEXED BY) to check thousands of matches without reading them whole.
    index('products_search_filters_idx').on(
      table.seq,
      table.priceAmount,
      table.priceCurrency,
      table.stock,
      table.ownerId,
    ),
  ],
);

export type ProductRow = typeof products.$inferSelect;
export type NewProductRow = typeof products.$inferInsert;

/** `document`: uploaded as is; `avatar`: an image the Node worker turns into the 400x400 JPEG. */
export const fileKinds = ['document', 'avatar'] as const;
export type FileKind = (typeof fileKinds)[number];

/**
 * `uploading`: a direct upload whose URL was handed out, not yet completed (it holds its quota);
 * `pending`: an avatar waiting for its rendition; `ready`: visible and served.
 */
export const fileStatuses = ['uploading', 'pending', 'ready'] as const;
export type FileStatus = (typeof fileStatuses)[number];

/** Uploaded files. The bytes live in object storage under `storage_key`; this is what we know. */
export const files = sqliteTable(
  'files',
  {
    id: id(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    kind: text('kind', { enum: fileKinds }).notNull(),
    status: text('status', { enum: fileStatuses }).notNull(),
    /** Random per file, under the owner's prefix: never derived from the name the client sent. */
    storageKey: text('storage_key').notNull(),
    /** An avatar's original, read by the Node worker and deleted once the rendition is ready. */
    sourceKey: text('source_key'),
    /** The client's file name, sanitized: no path, no control characters, bounded. */
    name: text('name').notNull(),
    /** Decided from the bytes (magic numbers), never from the client's word. */
    contentType: text('content_type').notNull(),
    /** Bytes: counted as they arrived, or announced by a direct upload until it completes. */
    size: integer('size').notNull(),
    /** Hex SHA-256 of the stored bytes. */
    sha256: text('sha256').notNull(),
    /** A direct upload not completed by then is cleaned away. */
    expiresAt: timestamp('expires_at'),
    createdAt: timestamp('created_at').notNull().default(nowMs),
    updatedAt: timestamp('updated_at').notNull().default(nowMs),
    /** Soft delete: the object itself is removed by a job. */
    deletedAt: timestamp('deleted_at'),
  },
  (table) => [
    // The owner's pages, and the sum the quota checks, walk the owner's live files.
    index('files_owner_created_idx').on(table.ownerId, table.createdAt, table.id),
    index('files_expires_idx').on(table.status, table.expiresAt),
  ],
);

export type FileRow = typeof files.$inferSelect;
export type NewFileRow = typeof files.$inferInsert;
