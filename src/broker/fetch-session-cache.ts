/**
 * Incremental fetch sessions (KIP-227), kept per broker: after one full fetch, a client may send
 * only the partitions whose fetch parameters changed and hear back only about the partitions
 * that changed, the broker remembering the rest.
 *
 * The rules are Kafka's (`FetchSession.scala`):
 * - sessionEpoch -1 (FINAL): a full, sessionless fetch; a sessionId given with it is closed.
 * - sessionEpoch 0 (INITIAL): a full fetch that opens a new session (closing any sessionId given);
 *   the response carries the new id, or 0 when the cache has no room (the fetch is then
 *   sessionless). The next request of the session carries epoch 1.
 * - sessionEpoch n > 0: an incremental fetch on session `sessionId`, whose expected epoch must be
 *   n (else INVALID_FETCH_SESSION_EPOCH); an unknown id gets FETCH_SESSION_ID_NOT_FOUND; a session
 *   opened by topic ids (v13+) may not continue by names and vice versa
 *   (FETCH_SESSION_TOPIC_ID_ERROR). `topics` add or update partitions, `forgottenTopicsData`
 *   removes them; a session left empty is closed and the fetch answered sessionless.
 * - An incremental response holds only the partitions that have records, an error, a preferred
 *   read replica, or a high watermark / last stable offset / log start offset different from what
 *   was last sent. A partition that returned records moves to the end of its session, so the
 *   others come first next time when `maxBytes` cuts the response short.
 *
 * The cache holds at most `max.incremental.fetch.session.cache.slots` sessions. A new session
 * that finds it full evicts, as Kafka does: the least recently used session if it has been idle
 * longer than FETCH_SESSION_EVICTION_MS; else the least valuable evictable session — ordered by
 * (privileged, partition count, id), evictable once older than FETCH_SESSION_EVICTION_MS (a
 * follower's new session may also evict any consumer session) — if the new one is worth more;
 * else no session is made. Sessions of followers (replicaId ≥ 0) are privileged.
 *
 * Deviations: one cache rather than Kafka's 8 shards (Kafka 3.8+ splits the slots among shards;
 * with one shard every session competes for every slot). The last stable offset is compared too
 * (Kafka compares only the high watermark and log start offset; the LSO moves with them there).
 * Time comes from the injected Clock, session ids from the injected Random.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
/** Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS: idle time after which a session may be evicted. */
export const FETCH_SESSION_EVICTION_MS = 120_000;

const INT32_MAX = 0x7fffffff;
const NO_PREFERRED_REPLICA = -1;

/** The epoch that follows `epoch` (FINAL stays FINAL; after INT32_MAX comes 1). */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  if (epoch >= INT32_MAX) return 1;
  return epoch + 1;
}

/** What a fetch asks of one partition: by `topic` name before v13, by `topicId` from v13 (the other is ''/zero). */
export interface PartitionRequest {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly fetchOffset: number;
  /** The fetcher's own log start offset (followers); -1 from consumers. */
  readonly fetcherLogStartOffset: number;
  readonly partitionMaxBytes: number;
  readonly currentLeaderEpoch: number;
}

/** A partition a fetch asks to stop fetching. */
export interface ForgottenPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
}

/** What a response says of one partition (the part a session compares). */
export interface PartitionSent {
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  readonly preferredReadReplica: number;
  readonly recordBytes: number;
}

/** Sessions opened by topic ids key partitions by id; sessions opened by names, by name. */
function partitionKey(
  usesTopicIds: boolean,
  p: { topic: string; topicId: string; partition: number },
): string {
  return `${usesTopicIds ? p.topicId : p.topic}:${p.partition}`;
}

/** One partition of a session: the fetch parameters last asked and what was last sent. */
export class CachedPartition implements PartitionRequest {
  /** '' in sessions keyed by topic id (the name is looked up from the id on every fetch). */
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  fetchOffset: number;
  fetcherLogStartOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  /** Last sent; -1 after an error, so the partition is sent again once the error clears. */
  sentHighWatermark = -1;
  sentLastStableOffset = -1;
  sentLogStartOffset = -1;
  sentPreferredReadReplica = NO_PREFERRED_REPLICA;

  constructor(req: PartitionRequest) {
    this.topic = req.topic;
    this.topicId = req.topicId;
    this.partition = req.partition;
    this.fetchOffset = req.fetchOffset;
    this.fetcherLogStartOffset = req.fetcherLogStartOffset;
    this.partitionMaxBytes = req.partitionMaxBytes;
    this.currentLeaderEpoch = req.currentLeaderEpoch;
  }

  updateRequest(req: PartitionRequest): void {
    this.fetchOffset = req.fetchOffset;
    this.fetcherLogStartOffset = req.fetcherLogStartOffset;
    this.partitionMaxBytes = req.partitionMaxBytes;
    this.currentLeaderEpoch = req.currentLeaderEpoch;
  }

  /**
   * Whether an incremental response must carry this partition; records `sent` as what the
   * client now knows (Kafka's maybeUpdateResponseData).
   */
  mustRespond(sent: PartitionSent): boolean {
    let must = sent.recordBytes > 0 || sent.preferredReadReplica !== NO_PREFERRED_REPLICA;
    if (sent.highWatermark !== this.sentHighWatermark) must = true;
    if (sent.lastStableOffset !== this.sentLastStableOffset) must = true;
    if (sent.logStartOffset !== this.sentLogStartOffset) must = true;
    this.record(sent);
    return must || sent.errorCode !== ErrorCode.NONE;
  }

  record(sent: PartitionSent): void {
    this.sentHighWatermark = sent.errorCode === ErrorCode.NONE ? sent.highWatermark : -1;
    this.sentLastStableOffset = sent.lastStableOffset;
    this.sentLogStartOffset = sent.logStartOffset;
    this.sentPreferredReadReplica = sent.preferredReadReplica;
  }
}

export class FetchSession {
  readonly id: number;
  /** Opened by a follower. */
  readonly privileged: boolean;
  /** Opened at Fetch v13+: partitions are keyed by topic id. */
  readonly usesTopicIds: boolean;
  readonly creationMs: number;
  lastUsedMs: number;
  /** The epoch the next request of this session must carry. */
  epoch: number;
  /** Partition count when last touched (-1: not in a cache); eviction order uses it. */
  cachedSize = -1;
  evictableByAll = false;
  evictableByPrivileged = false;
  /** In fetch order (a Map keeps insertion order). */
  private readonly partitions = new Map<string, CachedPartition>();

  constructor(id: number, privileged: boolean, usesTopicIds: boolean, nowMs: number) {
    this.id = id;
    this.privileged = privileged;
    this.usesTopicIds = usesTopicIds;
    this.creationMs = nowMs;
    this.lastUsedMs = nowMs;
    this.epoch = nextEpoch(INITIAL_EPOCH);
  }

  get size(): number {
    return this.partitions.size;
  }

  /** The partitions, in fetch order (a copy: the session may change while a fetch waits). */
  list(): CachedPartition[] {
    return [...this.partitions.values()];
  }

  /** Adds the partition, or updates its fetch parameters; true when added. */
  upsert(req: PartitionRequest): boolean {
    const key = partitionKey(this.usesTopicIds, req);
    const existing = this.partitions.get(key);
    if (existing === undefined) {
      this.partitions.set(key, new CachedPartition(req));
      return true;
    }
    existing.updateRequest(req);
    return false;
  }

  /** Adds a partition with what a full response sent of it (duplicates: the last one wins). */
  addSent(req: PartitionRequest, sent: PartitionSent): void {
    const cp = new CachedPartition(req);
    cp.record(sent);
    this.partitions.set(partitionKey(this.usesTopicIds, req), cp);
  }

  forget(p: ForgottenPartition): boolean {
    return this.partitions.delete(partitionKey(this.usesTopicIds, p));
  }

  /** Moves a partition that returned records behind the others (round robin under maxBytes). */
  moveToEnd(cp: CachedPartition): void {
    const key = partitionKey(this.usesTopicIds, cp);
    if (this.partitions.get(key) !== cp) return;
    this.partitions.delete(key);
    this.partitions.set(key, cp);
  }
}

/** How a fetch request is served, decided from its sessionId and sessionEpoch. */
export type FetchContext =
  /** A session error: the response carries the code and no partitions. */
  | { readonly kind: 'error'; readonly errorCode: number }
  /** A full fetch that keeps no session. */
  | { readonly kind: 'sessionless'; readonly partitions: readonly PartitionRequest[] }
  /** A full fetch that opens a session when answered (room permitting). */
  | { readonly kind: 'full'; readonly partitions: readonly PartitionRequest[] }
  /** An incremental fetch: every partition of the session, in session order. */
  | {
      readonly kind: 'incremental';
      readonly session: FetchSession;
      readonly partitions: readonly CachedPartition[];
      /** The request's epoch (the session expects the next one once answered). */
      readonly requestEpoch: number;
    };

export interface FetchContextRequest {
  readonly sessionId: number;
  readonly sessionEpoch: number;
  /** Fetch v13+ (topic ids instead of names). */
  readonly usesTopicIds: boolean;
  /** From a follower (replicaId ≥ 0). */
  readonly privileged: boolean;
  readonly partitions: readonly PartitionRequest[];
  readonly forgotten: readonly ForgottenPartition[];
}

export interface FetchSessionCacheOptions {
  /** max.incremental.fetch.session.cache.slots */
  readonly maxEntries: number;
  /** Default FETCH_SESSION_EVICTION_MS. */
  readonly evictionMs?: number;
  readonly clock: Clock;
  readonly random: Random;
}

export class FetchSessionCache {
  readonly maxEntries: number;
  readonly evictionMs: number;
  private readonly clock: Clock;
  private readonly random: Random;
  /** By id, least recently used first (touching a session moves it to the end). */
  private readonly sessions = new Map<number, FetchSession>();
  private partitionCount = 0;
  /** Sessions evicted to make room for others (Kafka's IncrementalFetchSessionEvictionsPerSec counts these). */
  evictions = 0;

  constructor(o: FetchSessionCacheOptions) {
    this.maxEntries = Math.max(0, o.maxEntries);
    this.evictionMs = o.evictionMs ?? FETCH_SESSION_EVICTION_MS;
    this.clock = o.clock;
    this.random = o.random;
  }

  /** Sessions cached (Kafka's NumIncrementalFetchSessions). */
  get size(): number {
    return this.sessions.size;
  }

  /** Partitions cached across sessions, as of each session's last use (NumIncrementalFetchPartitionsCached). */
  get totalPartitions(): number {
    return this.partitionCount;
  }

  get(sessionId: number): FetchSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** Decides how a request is served and applies its session changes (Kafka's FetchManager.newContext). */
  newContext(req: FetchContextRequest): FetchContext {
    if (req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH) {
      // A full fetch closes any session it names.
      if (req.sessionId !== INVALID_SESSION_ID) this.remove(req.sessionId);
      return req.sessionEpoch === FINAL_EPOCH
        ? { kind: 'sessionless', partitions: req.partitions }
        : { kind: 'full', partitions: req.partitions };
    }
    const session = this.sessions.get(req.sessionId);
    if (session === undefined) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== req.sessionEpoch) {
      return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    }
    if (session.usesTopicIds !== req.usesTopicIds) {
      return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
    }
    for (const p of req.partitions) session.upsert(p);
    for (const p of req.forgotten) session.forget(p);
    if (session.size === 0) {
      this.remove(session.id);
      return { kind: 'sessionless', partitions: req.partitions };
    }
    this.touch(session, this.clock.nowMs());
    session.epoch = nextEpoch(session.epoch);
    return { kind: 'incremental', session, partitions: session.list(), requestEpoch: req.sessionEpoch };
  }

  /**
   * Opens a session holding what a full fetch asked and was sent, if there is room or a session
   * can be evicted; returns its id, or INVALID_SESSION_ID (the fetch stays sessionless).
   */
  maybeCreateSession(
    privileged: boolean,
    usesTopicIds: boolean,
    partitions: readonly PartitionRequest[],
    sent: readonly PartitionSent[],
  ): number {
    const now = this.clock.nowMs();
    if (this.sessions.size >= this.maxEntries && !this.tryEvict(privileged, partitions.length, now)) {
      return INVALID_SESSION_ID;
    }
    const session = new FetchSession(this.newSessionId(), privileged, usesTopicIds, now);
    partitions.forEach((p, i) => session.addSent(p, sent[i]!));
    this.sessions.set(session.id, session);
    this.touch(session, now);
    return session.id;
  }

  /**
   * Filters an incremental response down to what must be sent, recording what was sent. Null
   * when the session moved on meanwhile (another request of the same epoch was answered first):
   * the fetch then gets INVALID_FETCH_SESSION_EPOCH.
   */
  selectChanged(
    context: Extract<FetchContext, { kind: 'incremental' }>,
    sent: readonly PartitionSent[],
  ): boolean[] | null {
    const { session, partitions } = context;
    if (session.epoch !== nextEpoch(context.requestEpoch)) return null;
    return partitions.map((cp, i) => {
      const s = sent[i]!;
      const must = cp.mustRespond(s);
      if (must && s.recordBytes > 0) session.moveToEnd(cp);
      return must;
    });
  }

  remove(sessionId: number): boolean {
    const session = this.sessions.get(sessionId);
    if (session === undefined) return false;
    this.sessions.delete(sessionId);
    this.partitionCount -= Math.max(0, session.cachedSize);
    session.cachedSize = -1;
    return true;
  }

  /** Marks a session used now: last in LRU order, size and evictability refreshed (Kafka's touch). */
  private touch(session: FetchSession, now: number): void {
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
    session.lastUsedMs = now;
    if (session.cachedSize >= 0) this.partitionCount -= session.cachedSize;
    session.cachedSize = session.size;
    this.partitionCount += session.cachedSize;
    const old = now - session.creationMs > this.evictionMs;
    session.evictableByPrivileged = !session.privileged || old;
    session.evictableByAll = old;
  }

  /**
   * Makes room for a new session of `size` partitions: evicts the least recently used session if
   * it is stale, else the least valuable evictable one if it is worth less than the new one.
   */
  private tryEvict(privileged: boolean, size: number, now: number): boolean {
    const lru = this.sessions.values().next();
    if (lru.done === true) return false;
    if (now - lru.value.lastUsedMs > this.evictionMs) {
      this.remove(lru.value.id);
      this.evictions++;
      return true;
    }
    // O(sessions), only when the cache is full and nothing is stale.
    let victim: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (!(privileged ? s.evictableByPrivileged : s.evictableByAll)) continue;
      if (victim === undefined || compareEvictable(s, victim) < 0) victim = s;
    }
    if (victim === undefined) return false;
    // The new session's key has id 0, below every real id: it must be worth strictly more.
    const newKey = { privileged, cachedSize: size, id: 0 };
    if (compareEvictable(newKey, victim) < 0) return false;
    this.remove(victim.id);
    this.evictions++;
    return true;
  }

  /** A random positive id not in use (Kafka's are 1..2^31-2); probing from it bounds the search. */
  private newSessionId(): number {
    let id = (this.random.bytes(4).readUInt32BE(0) % (INT32_MAX - 1)) + 1;
    // At most sessions.size ids are taken, so this ends within size + 1 steps.
    while (this.sessions.has(id)) id = id >= INT32_MAX - 1 ? 1 : id + 1;
    return id;
  }
}

/** Kafka's EvictableKey order: (privileged, size, id), false before true. */
function compareEvictable(
  a: { privileged: boolean; cachedSize: number; id: number },
  b: { privileged: boolean; cachedSize: number; id: number },
): number {
  if (a.privileged !== b.privileged) return a.privileged ? 1 : -1;
  if (a.cachedSize !== b.cachedSize) return a.cachedSize - b.cachedSize;
  return a.id - b.id;
}
