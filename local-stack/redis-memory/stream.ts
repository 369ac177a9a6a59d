// A Redis 7.0 stream (t_stream.c) as data: entries kept in macro nodes the way Redis keeps them
// in listpacks (at most 100 entries and 4096 bytes each, with deleted entries staying behind as
// tombstones until their whole node goes), so approximate trimming (~) removes exactly what Redis
// removes and XINFO reports the same radix tree. Consumer groups, their pending entries and the
// counters behind XINFO's lag come along.
import { parseInt64 } from './numbers.ts';

/** ms and seq are unsigned 64-bit. */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

const UINT64_MAX = 2n ** 64n - 1n;
export const MIN_ID: StreamId = { ms: 0n, seq: 0n };
export const MAX_ID: StreamId = { ms: UINT64_MAX, seq: UINT64_MAX };
/** stream-node-max-entries and stream-node-max-bytes, Redis's defaults. */
const NODE_MAX_ENTRIES = 100;
const NODE_MAX_BYTES = 4096;
const FLAG_SAME_FIELDS = 2;

export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function isZeroId(id: StreamId): boolean {
  return id.ms === 0n && id.seq === 0n;
}

/** The next ID, or null past the last possible one. */
export function nextId(id: StreamId): StreamId | null {
  if (id.seq < UINT64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  return id.ms < UINT64_MAX ? { ms: id.ms + 1n, seq: 0n } : null;
}

/** The previous ID, or null before 0-0. */
export function previousId(id: StreamId): StreamId | null {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  return id.ms > 0n ? { ms: id.ms - 1n, seq: UINT64_MAX } : null;
}

// Listpack sizes, to know when Redis starts a new node.

function backlenSize(length: number): number {
  if (length <= 127) return 1;
  if (length < 16383) return 2;
  if (length < 2097151) return 3;
  return length < 268435455 ? 4 : 5;
}

function integerSize(value: bigint): number {
  let encoded: number;
  if (value >= 0n && value <= 127n) encoded = 1;
  else if (value >= -4096n && value <= 4095n) encoded = 2;
  else if (value >= -32768n && value <= 32767n) encoded = 3;
  else if (value >= -8388608n && value <= 8388607n) encoded = 4;
  else if (value >= -2147483648n && value <= 2147483647n) encoded = 5;
  else encoded = 9;
  return encoded + backlenSize(encoded);
}

/** Strings that read as integers are stored as integers. */
function stringSize(bytes: Buffer): number {
  const integer = parseInt64(bytes);
  if (integer !== null) return integerSize(integer);
  const length = bytes.length;
  const encoded = length < 64 ? 1 + length : length < 4096 ? 2 + length : 5 + length;
  return encoded + backlenSize(encoded);
}

const LISTPACK_OVERHEAD = 7;

export interface StreamEntry {
  id: StreamId;
  /** Field, value, field, value... */
  fields: Buffer[];
  deleted: boolean;
}

interface StreamNode {
  master: StreamId;
  masterFields: Buffer[];
  entries: StreamEntry[];
  live: number;
  tombstones: number;
  bytes: number;
}

export interface PendingEntry {
  id: StreamId;
  consumer: Consumer;
  deliveryTime: number;
  deliveryCount: number;
}

export interface Consumer {
  name: Buffer;
  seenTime: number;
  /** By formatId. */
  pending: Map<string, PendingEntry>;
}

/** SCG_INVALID_ENTRIES_READ. */
export const UNKNOWN_ENTRIES_READ = -1;

export interface ConsumerGroup {
  name: Buffer;
  lastId: StreamId;
  entriesRead: number;
  pending: Map<string, PendingEntry>;
  consumers: Map<string, Consumer>;
}

function byId(a: PendingEntry, b: PendingEntry): number {
  return compareIds(a.id, b.id);
}

/** Pending entries in ID order, as Redis's radix tree keeps them. */
export function pendingInOrder(pending: Map<string, PendingEntry>): PendingEntry[] {
  return [...pending.values()].sort(byId);
}

/** Consumers or groups in name order (byte order), as their radix trees keep them. */
export function byName<T extends { name: Buffer }>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) => Buffer.compare(a.name, b.name));
}

function idKey(id: StreamId): Buffer {
  const key = Buffer.alloc(16);
  key.writeBigUInt64BE(id.ms, 0);
  key.writeBigUInt64BE(id.seq, 8);
  return key;
}

/** Nodes of a compressed radix tree holding `keys` (sorted, distinct, 16 bytes each) from `depth`. */
function raxNodes(keys: Buffer[], depth: number): number {
  if (keys.length === 1) return depth < 16 ? 2 : 1;
  let prefix = 0;
  const first = keys[0] as Buffer;
  const last = keys.at(-1) as Buffer;
  while (first[depth + prefix] === last[depth + prefix]) prefix++;
  let nodes = prefix > 0 ? 2 : 1;
  let start = 0;
  for (let i = 1; i <= keys.length; i++) {
    if (i === keys.length || keys[i]?.[depth + prefix] !== keys[start]?.[depth + prefix]) {
      nodes += raxNodes(keys.slice(start, i), depth + prefix + 1);
      start = i;
    }
  }
  return nodes;
}

export type TrimRule =
  | { kind: 'maxlen'; maxlen: number; approx: boolean; limit: number }
  | { kind: 'minid'; minid: StreamId; approx: boolean; limit: number };

export class Stream {
  #nodes: StreamNode[] = [];
  length = 0;
  lastId: StreamId = MIN_ID;
  firstId: StreamId = MIN_ID;
  maxDeletedId: StreamId = MIN_ID;
  entriesAdded = 0;
  /** By name (latin1). */
  groups = new Map<string, ConsumerGroup>();

  /** XINFO's radix-tree-keys and radix-tree-nodes. */
  get radixTreeKeys(): number {
    return this.#nodes.length;
  }

  get radixTreeNodes(): number {
    return this.#nodes.length === 0
      ? 1
      : raxNodes(
          this.#nodes.map((node) => idKey(node.master)),
          0,
        );
  }

  /** streamAppendItem, once the ID is known to be above the last one. */
  append(id: StreamId, fields: Buffer[]): void {
    const names = fields.filter((_, i) => i % 2 === 0);
    const valuesLength = fields.reduce((total, bytes) => total + bytes.length, 0);
    let node = this.#nodes.at(-1);
    if (
      node !== undefined &&
      (node.bytes + valuesLength >= NODE_MAX_BYTES ||
        node.live + node.tombstones >= NODE_MAX_ENTRIES)
    ) {
      node = undefined;
    }
    let sameFields = true;
    if (node === undefined) {
      node = {
        master: id,
        masterFields: names,
        entries: [],
        live: 0,
        tombstones: 0,
        bytes:
          LISTPACK_OVERHEAD +
          integerSize(0n) +
          integerSize(0n) +
          integerSize(BigInt(names.length)) +
          names.reduce((total, name) => total + stringSize(name), 0) +
          integerSize(0n),
      };
      this.#nodes.push(node);
    } else {
      const { masterFields } = node;
      sameFields =
        names.length === masterFields.length &&
        names.every((name, i) => name.equals(masterFields[i] as Buffer));
    }
    this.#setLive(node, node.live + 1);
    const values = fields.filter((_, i) => i % 2 === 1);
    node.bytes +=
      integerSize(BigInt(sameFields ? FLAG_SAME_FIELDS : 0)) +
      integerSize(BigInt.asIntN(64, id.ms - node.master.ms)) +
      integerSize(BigInt.asIntN(64, id.seq - node.master.seq)) +
      (sameFields
        ? 0
        : integerSize(BigInt(names.length)) +
          names.reduce((total, name) => total + stringSize(name), 0)) +
      values.reduce((total, value) => total + stringSize(value), 0) +
      integerSize(BigInt(names.length + 3 + (sameFields ? 0 : names.length + 1)));
    node.entries.push({ id, fields, deleted: false });
    this.length++;
    this.entriesAdded++;
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  #setLive(node: StreamNode, live: number): void {
    node.bytes += integerSize(BigInt(live)) - integerSize(BigInt(node.live));
    node.live = live;
  }

  #setTombstones(node: StreamNode, tombstones: number): void {
    node.bytes += integerSize(BigInt(tombstones)) - integerSize(BigInt(node.tombstones));
    node.tombstones = tombstones;
  }

  /** Live entries from `start` to `end` inclusive, forwards or backwards. */
  *range(start: StreamId, end: StreamId, reverse = false): Generator<StreamEntry> {
    const nodes = reverse ? [...this.#nodes].reverse() : this.#nodes;
    for (const node of nodes) {
      const entries = reverse ? [...node.entries].reverse() : node.entries;
      for (const entry of entries) {
        if (entry.deleted) continue;
        if (compareIds(entry.id, start) < 0) {
          if (reverse) return;
          continue;
        }
        if (compareIds(entry.id, end) > 0) {
          if (reverse) continue;
          return;
        }
        yield entry;
      }
    }
  }

  entry(id: StreamId): StreamEntry | undefined {
    for (const entry of this.range(id, id)) return entry;
    return undefined;
  }

  /** The first (or last) live ID; MAX_ID (or MIN_ID) when there is none. */
  edgeId(first: boolean): StreamId {
    for (const entry of this.range(MIN_ID, MAX_ID, !first)) return entry.id;
    return first ? MAX_ID : MIN_ID;
  }

  /** XDEL of one ID: true when a live entry was there. */
  delete(id: StreamId): boolean {
    for (const [index, node] of this.#nodes.entries()) {
      const entry = node.entries.find((candidate) => compareIds(candidate.id, id) === 0);
      if (entry === undefined || entry.deleted) continue;
      entry.deleted = true;
      if (node.live === 1) {
        this.#nodes.splice(index, 1);
      } else {
        this.#setLive(node, node.live - 1);
        this.#setTombstones(node, node.tombstones + 1);
      }
      this.length--;
      return true;
    }
    return false;
  }

  /** streamTrim: the number of entries removed. */
  trim(rule: TrimRule): number {
    let deleted = 0;
    while (this.#nodes.length > 0) {
      const node = this.#nodes[0] as StreamNode;
      if (rule.kind === 'maxlen' && this.length <= rule.maxlen) break;
      if (rule.limit > 0 && deleted + node.live > rule.limit) break;
      const lastInNode = node.entries.at(-1)?.id ?? node.master;
      const removeNode =
        rule.kind === 'maxlen'
          ? this.length - node.live >= rule.maxlen
          : compareIds(lastInNode, rule.minid) < 0;
      if (removeNode) {
        this.#nodes.shift();
        this.length -= node.live;
        deleted += node.live;
        continue;
      }
      if (rule.approx) break;
      let removed = 0;
      for (const entry of node.entries) {
        const stop =
          rule.kind === 'maxlen'
            ? this.length <= rule.maxlen
            : compareIds(entry.id, rule.minid) >= 0;
        if (stop) break;
        if (entry.deleted) continue;
        entry.deleted = true;
        removed++;
        this.length--;
      }
      this.#setLive(node, node.live - removed);
      this.#setTombstones(node, node.tombstones + removed);
      deleted += removed;
      break;
    }
    if (this.length === 0) this.firstId = MIN_ID;
    else if (deleted > 0) this.firstId = this.edgeId(true);
    return deleted;
  }

  /** streamRangeHasTombstones (end open when undefined). */
  rangeHasTombstones(start: StreamId, end: StreamId = MAX_ID): boolean {
    if (this.length === 0 || isZeroId(this.maxDeletedId)) return false;
    if (compareIds(this.firstId, this.maxDeletedId) > 0) return false;
    return compareIds(start, this.maxDeletedId) <= 0 && compareIds(this.maxDeletedId, end) <= 0;
  }

  /** streamEstimateDistanceFromFirstEverEntry: UNKNOWN_ENTRIES_READ when it cannot tell. */
  distanceFromFirstEverEntry(id: StreamId): number {
    if (this.entriesAdded === 0) return 0;
    if (this.length === 0 && compareIds(id, this.lastId) < 1) return this.entriesAdded;
    const toLast = compareIds(id, this.lastId);
    if (toLast === 0) return this.entriesAdded;
    if (toLast > 0) return UNKNOWN_ENTRIES_READ;
    const toFirst = compareIds(id, this.firstId);
    if (isZeroId(this.maxDeletedId) || compareIds(this.maxDeletedId, this.firstId) < 0) {
      if (toFirst < 0) return this.entriesAdded - this.length;
      if (toFirst === 0) return this.entriesAdded - this.length + 1;
    }
    return UNKNOWN_ENTRIES_READ;
  }

  /** streamReplyWithCGLag: null when the lag cannot be known. */
  lag(group: ConsumerGroup): number | null {
    if (this.entriesAdded === 0) return 0;
    if (group.entriesRead !== UNKNOWN_ENTRIES_READ && !this.rangeHasTombstones(group.lastId)) {
      return this.entriesAdded - group.entriesRead;
    }
    const read = this.distanceFromFirstEverEntry(group.lastId);
    return read === UNKNOWN_ENTRIES_READ ? null : this.entriesAdded - read;
  }

  /** A copy sharing nothing mutable (COPY). */
  clone(): Stream {
    const copy = new Stream();
    copy.#nodes = this.#nodes.map((node) => ({
      ...node,
      entries: node.entries.map((entry) => ({ ...entry })),
    }));
    copy.length = this.length;
    copy.lastId = this.lastId;
    copy.firstId = this.firstId;
    copy.maxDeletedId = this.maxDeletedId;
    copy.entriesAdded = this.entriesAdded;
    for (const [name, group] of this.groups) {
      const consumers = new Map<string, Consumer>();
      const pending = new Map<string, PendingEntry>();
      for (const [consumerName, consumer] of group.consumers) {
        const twin: Consumer = {
          name: consumer.name,
          seenTime: consumer.seenTime,
          pending: new Map(),
        };
        for (const [key, entry] of consumer.pending) {
          const entryCopy = { ...entry, consumer: twin };
          twin.pending.set(key, entryCopy);
          pending.set(key, entryCopy);
        }
        consumers.set(consumerName, twin);
      }
      copy.groups.set(name, { ...group, consumers, pending });
    }
    return copy;
  }
}
