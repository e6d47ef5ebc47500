/**
 * Samsa's consumer, with the semantics of Kafka's Java KafkaConsumer:
 *
 *   const consumer = new Consumer({ bootstrapServers: 'localhost:9092', groupId: 'g' });
 *   consumer.subscribe(['orders']);
 *   for await (const record of consumer) handle(record);   // or poll(), or run()
 *   await consumer.close();
 *
 * - subscribe() joins a group (group-membership.ts) whose assignor splits the partitions;
 *   assign() takes partitions directly. A RegExp subscription must match whole topic names
 *   (Java's Pattern.matches) and is re-evaluated whenever metadata is refreshed (every
 *   metadataMaxAgeMs); internal topics are never matched.
 * - A partition's first position is the group's committed offset, else autoOffsetReset
 *   ('latest' by default, as Kafka; 'none' makes poll throw NO_OFFSET_FOR_PARTITION).
 * - poll() returns up to maxPollRecords records; rebalances, their callbacks and automatic
 *   commits happen inside poll (and the iterator and run(), which poll), as in Java; heartbeats
 *   do not: they run on their own timer. A poll may outlast its timeout while a rebalance it
 *   started completes.
 * - Committed offsets are "the next record to read": the offset after the last record the
 *   application consumed. poll() counts every record it returns as consumed; the iterator and
 *   run() count records as they are yielded/handled, and when the loop stops early the
 *   partitions are sought back to the first record not handled, so nothing is skipped.
 * - Auto-commit (default on with a groupId): every autoCommitIntervalMs at poll, after each
 *   batch run() hands out, before partitions are revoked, and on close.
 * - poll(), the iterator and run() are one reader: only one may be in progress at a time.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { Clock } from '../runtime/clock.js';
import { assignorByName } from './assignors.js';
import { Cluster, type ClientOptions } from './cluster.js';
import {
  resolveConsumerOptions,
  type ConsumerOptions,
  type ResolvedConsumerOptions,
} from './consumer-options.js';
import { ConsumerReaders, type RunHandlers } from './consumer-readers.js';
import { ConfigError, kafkaError, KafkaClientError, clientError, illegalState } from './errors.js';
import {
  EARLIEST_TIMESTAMP,
  Fetcher,
  LATEST_TIMESTAMP,
  PartitionStates,
  Signal,
  type ConsumerRecord,
} from './fetcher.js';
import {
  GroupMembership,
  type CommittedOffset,
  type MembershipHost,
  type OffsetToCommit,
  type RebalanceListener,
} from './group-membership.js';
import {
  checkTopicPartition,
  compareStrings,
  formatTopicPartitions,
  keyOf,
  sortTopicPartitions,
  type TopicPartition,
  type TopicPartitionOffset,
} from './topic-partition.js';

export { resolveConsumerOptions, type ConsumerOptions } from './consumer-options.js';
export type { ConsumerBatch, RunHandlers } from './consumer-readers.js';
export type { ConsumerRecord, IsolationLevel, OffsetResetStrategy } from './fetcher.js';
export type { CommittedOffset, RebalanceListener } from './group-membership.js';
export type { AssignorName } from './assignors.js';
export type { TopicPartition, TopicPartitionOffset } from './topic-partition.js';

export interface OffsetAndTimestamp extends TopicPartition {
  /** The first offset whose timestamp is at or after the one asked for; null if there is none. */
  offset: bigint | null;
  timestamp: number | null;
}

/** A consumer's group identity, for Producer.sendOffsetsToTransaction. */
export interface ConsumerGroupMetadata {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

type SubscriptionMode = 'none' | 'topics' | 'pattern' | 'assigned';

export class Consumer implements AsyncIterable<ConsumerRecord> {
  readonly options: Readonly<ResolvedConsumerOptions>;
  private readonly cluster: Cluster;
  private readonly clock: Clock;
  private readonly log: (message: string) => void;
  private readonly states = new PartitionStates();
  private readonly fetcher: Fetcher;
  private readonly membership: GroupMembership | null;
  private readonly signal = new Signal();

  private mode: SubscriptionMode = 'none';
  private topics: string[] = [];
  private pattern: RegExp | null = null;
  private listener: RebalanceListener = {};
  private listenerError: unknown = null;
  private nextMetadataCheckMs = 0;
  private nextAutoCommitMs: number;
  private autoCommitInFlight: Promise<void> | null = null;

  private readonly readers: ConsumerReaders;
  private closing = false;
  private closePromise: Promise<void> | null = null;

  constructor(options: ClientOptions & ConsumerOptions) {
    const given: unknown = options;
    if (typeof given !== 'object' || given === null) {
      throw new ConfigError(`consumer options must be an object, got ${String(given)}`);
    }
    this.options = resolveConsumerOptions(options);
    // Kafka's consumer lets Metadata create subscribed topics (allow.auto.create.topics=true).
    this.cluster = new Cluster({
      ...options,
      allowAutoTopicCreation: options.allowAutoTopicCreation ?? true,
    });
    this.clock = this.cluster.options.clock;
    this.log = this.cluster.options.log;
    this.nextAutoCommitMs = this.clock.nowMs() + this.options.autoCommitIntervalMs;
    const o = this.options;
    this.fetcher = new Fetcher(
      this.cluster,
      this.states,
      {
        fetchMinBytes: o.fetchMinBytes,
        fetchMaxWaitMs: o.fetchMaxWaitMs,
        fetchMaxBytes: o.fetchMaxBytes,
        maxPartitionFetchBytes: o.maxPartitionFetchBytes,
        isolationLevel: o.isolationLevel,
        autoOffsetReset: o.autoOffsetReset,
      },
      this.clock,
      () => this.signal.notify(),
      this.log,
    );
    this.readers = new ConsumerReaders(this.states, this.fetcher, {
      checkOpen: () => this.checkOpen(),
      isClosing: () => this.closing,
      pollOnce: (timeoutMs) => this.pollOnce(timeoutMs),
      enableAutoCommit: o.enableAutoCommit,
      commitConsumed: (tps) => this.commitConsumed(tps),
      wake: () => this.signal.notify(),
      log: this.log,
    });
    this.membership =
      o.groupId === null
        ? null
        : new GroupMembership(
            this.cluster,
            {
              groupId: o.groupId,
              groupInstanceId: o.groupInstanceId,
              sessionTimeoutMs: o.sessionTimeoutMs,
              rebalanceTimeoutMs: o.maxPollIntervalMs,
              heartbeatIntervalMs: o.heartbeatIntervalMs,
              assignors: o.partitionAssignmentStrategy.map(assignorByName),
            },
            this.membershipHost(),
            this.clock,
            this.log,
          );
  }

  // ------------------------------------------------------------------ subscriptions

  /**
   * Subscribes to topics (or every topic whose whole name matches `pattern`) through the group.
   * Replaces an earlier subscription; the group rebalances at the next poll.
   */
  subscribe(topics: string[] | RegExp, listener: RebalanceListener = {}): void {
    this.checkOpen();
    if (this.membership === null) {
      throw new ConfigError('subscribe needs a groupId (a consumer without one can only assign partitions)');
    }
    if (this.mode === 'assigned') {
      throw illegalState('subscribe after assign: call unsubscribe() first');
    }
    if (topics instanceof RegExp) {
      this.pattern = new RegExp(`^(?:${topics.source})$`, topics.flags.replace(/[gy]/g, ''));
      this.mode = 'pattern';
      this.nextMetadataCheckMs = 0;
    } else {
      if (!Array.isArray(topics) || topics.length === 0) {
        throw new TypeError(
          `subscribe: topics must be a non-empty array of names or a RegExp, got ${String(topics)}`,
        );
      }
      for (const t of topics) {
        if (typeof t !== 'string' || t.length === 0) {
          throw new TypeError(`subscribe: topic names must be non-empty strings, got ${JSON.stringify(t)}`);
        }
      }
      this.pattern = null;
      this.mode = 'topics';
      this.setTopics([...new Set(topics)].sort(compareStrings));
    }
    this.listener = listener;
    this.membership.requestRejoin('subscription changed');
  }

  /** Takes these partitions, outside any group rebalancing (positions from committed offsets or autoOffsetReset). */
  assign(partitions: TopicPartition[]): void {
    this.checkOpen();
    if (this.mode === 'topics' || this.mode === 'pattern') {
      throw illegalState('assign after subscribe: call unsubscribe() first');
    }
    if (!Array.isArray(partitions)) throw new TypeError('assign: partitions must be an array');
    for (const tp of partitions) checkTopicPartition(tp, 'assign');
    const removed = this.states.partitions().filter((tp) => !partitions.some((p) => keyOf(p) === keyOf(tp)));
    if (removed.length > 0 && this.options.enableAutoCommit) {
      this.autoCommitInFlight ??= this.commitConsumed(removed)
        .catch((e: unknown) => this.log(`auto-commit of unassigned partitions failed: ${String(e)}`))
        .finally(() => (this.autoCommitInFlight = null));
    }
    this.fetcher.clearBuffered(removed);
    this.states.assign(partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition })));
    this.mode = partitions.length === 0 ? 'none' : 'assigned';
    this.topics = [...new Set(partitions.map((tp) => tp.topic))].sort(compareStrings);
    this.fetcher.requestMetadataRefresh();
  }

  /** Gives up the subscription or assignment: revokes (committing with auto-commit) and leaves the group. */
  async unsubscribe(): Promise<void> {
    this.checkOpen();
    this.readers.checkNoReader('unsubscribe');
    if (this.mode === 'topics' || this.mode === 'pattern') {
      const owned = this.states.partitions();
      if (owned.length > 0 && this.membership?.isStable === true) await this.revokePartitions(owned);
      else this.dropPartitions(owned);
      await this.membership?.leave('the consumer unsubscribed');
    } else {
      this.dropPartitions(this.states.partitions());
    }
    this.mode = 'none';
    this.topics = [];
    this.pattern = null;
    this.listener = {};
    this.throwListenerError();
  }

  /** Topics subscribed to (for a pattern, those it matches now). */
  subscription(): string[] {
    return this.mode === 'topics' || this.mode === 'pattern' ? [...this.topics] : [];
  }

  assignment(): TopicPartition[] {
    return sortTopicPartitions(this.states.partitions());
  }

  /**
   * The group as the producer's sendOffsetsToTransaction needs it (Java's groupMetadata()): the
   * coordinator refuses offsets from a member that rebalanced away (its generation is old).
   * Before the first join the generation is -1 and the member id empty.
   */
  groupMetadata(): ConsumerGroupMetadata {
    const membership = this.requireGroup('groupMetadata');
    return {
      groupId: this.options.groupId!,
      generationId: membership.generationId,
      memberId: membership.memberId,
      groupInstanceId: this.options.groupInstanceId,
    };
  }

  private setTopics(topics: string[]): void {
    this.topics = topics;
  }

  // ------------------------------------------------------------------ reading

  /** Up to maxPollRecords records, waiting up to `timeoutMs` for some. */
  poll(timeoutMs: number): Promise<ConsumerRecord[]> {
    return this.readers.poll(timeoutMs);
  }

  /**
   * Records one at a time until close(). Leaving the loop early (break, return, throw) seeks
   * back to the first record not yielded; it does not close the consumer.
   */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    return this.readers.iterator();
  }

  /**
   * Polls and hands records to `eachBatch` (per partition) or `eachRecord` until close(). With
   * auto-commit, each handled batch is committed. A handler that throws stops the loop: the
   * partitions are sought back to the first record not handled and run() rejects with the error.
   */
  run(handlers: RunHandlers): Promise<void> {
    return this.readers.run(handlers);
  }

  /** One poll: rebalance and positions as needed, then buffered records or a wait for some. */
  private async pollOnce(timeoutMs: number): Promise<ConsumerRecord[]> {
    if (this.mode === 'none') {
      throw illegalState('the consumer is not subscribed to any topic nor assigned any partition');
    }
    const deadline = this.clock.nowMs() + timeoutMs;
    this.membership?.notePoll();
    for (;;) {
      if (this.closing) return [];
      this.maybeAutoCommit();
      try {
        await this.updateAssignment();
        await this.updatePositions();
      } catch (e) {
        // close() cuts a rebalance or lookup short: the reader just ends.
        if (this.closing) return [];
        throw e;
      }
      const records = this.fetcher.collect(this.options.maxPollRecords);
      // Fetch the next records while the application handles these (bounded: two responses per partition).
      this.fetcher.sendFetches();
      if (records.length > 0) return records;
      const remaining = deadline - this.clock.nowMs();
      if (remaining <= 0) return [];
      await this.signal.wait(remaining);
    }
  }

  /** Pattern matches, the leader's view of partition counts, and the group's assignment. */
  private async updateAssignment(): Promise<void> {
    const membership = this.membership;
    if (membership === null || (this.mode !== 'topics' && this.mode !== 'pattern')) return;
    membership.throwIfFailed();
    const now = this.clock.nowMs();
    const o = this.cluster.options;
    if (now >= this.nextMetadataCheckMs) {
      this.nextMetadataCheckMs = now + o.metadataMaxAgeMs;
      try {
        await this.checkMetadata(membership);
      } catch (e) {
        // Retried soon; the group keeps its assignment meanwhile.
        this.nextMetadataCheckMs = now + o.retryBackoffMaxMs;
        this.log(`metadata refresh for the subscription failed: ${String(e)}`);
      }
    }
    await membership.ensureActive();
    // A subscribed topic the leader could not assign yet (not created, no leader yet) is looked
    // for again soon rather than after metadataMaxAgeMs, so the group starts on it promptly.
    if (membership.waitingForTopics) {
      const soon = this.clock.nowMs() + Math.min(o.metadataMaxAgeMs, o.retryBackoffMaxMs);
      this.nextMetadataCheckMs = Math.min(this.nextMetadataCheckMs, soon);
    }
    this.throwListenerError();
  }

  private async checkMetadata(membership: GroupMembership): Promise<void> {
    if (this.mode === 'pattern' && this.pattern !== null) {
      await this.cluster.refreshMetadata(null);
      const pattern = this.pattern;
      const matched = this.cluster
        .cachedTopicNames()
        .filter((t) => this.cluster.cachedTopic(t)?.isInternal === false && pattern.test(t))
        .sort(compareStrings);
      if (matched.join('\u0000') !== this.topics.join('\u0000')) {
        this.log(`pattern ${String(this.pattern)} now matches ${matched.join(', ') || 'no topic'}`);
        this.setTopics(matched);
        membership.requestRejoin('the subscribed pattern matches other topics');
      }
    }
    if (membership.isLeader) {
      const topics = membership.leaderTopics();
      if (topics.length > 0) {
        const counts = await this.partitionCounts(topics);
        if (membership.assignmentOutdated(counts)) {
          membership.requestRejoin('the partitions of subscribed topics changed');
        }
      }
    }
  }

  private async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (topics.length === 0) return counts;
    await this.cluster.refreshMetadata(topics);
    for (const t of topics) {
      const m = this.cluster.cachedTopic(t);
      if (m !== undefined && m.errorCode === ErrorCode.NONE && m.partitions.length > 0) {
        counts.set(t, m.partitions.length);
      }
    }
    return counts;
  }

  /** Positions for partitions that have none: the committed offset, else autoOffsetReset. */
  private async updatePositions(): Promise<void> {
    const needing = this.states.needingPosition();
    const deadlineMs = this.clock.nowMs() + this.cluster.options.defaultApiTimeoutMs;
    if (needing.length > 0) {
      const committed =
        this.membership === null ? [] : await this.membership.fetchCommitted(needing, deadlineMs);
      for (const c of committed) {
        const state = this.states.get(c);
        if (c.offset === null || state === undefined || state.position !== null) continue;
        state.position = c.offset;
        state.positionEpoch = c.leaderEpoch;
        state.consumed = c.offset;
        state.consumedEpoch = c.leaderEpoch;
      }
      const strategy = this.options.autoOffsetReset;
      for (const tp of this.states.needingPosition()) {
        if (strategy === 'none') {
          throw new KafkaClientError(
            `${keyOf(tp)}: no committed offset and autoOffsetReset is 'none'; seek to an offset first`,
            -1,
            'NO_OFFSET_FOR_PARTITION',
            false,
          );
        }
        this.states.get(tp)!.pendingReset = strategy;
      }
    }
    await this.fetcher.resetPositions(deadlineMs);
  }

  // ------------------------------------------------------------------ positions

  /** The next record to read from `offset` on. */
  seek(tp: TopicPartition, offset: bigint): void {
    this.checkOpen();
    checkTopicPartition(tp, 'seek');
    if (typeof offset !== 'bigint' || offset < 0n) {
      throw new TypeError(`seek ${keyOf(tp)}: offset must be a bigint >= 0, got ${String(offset)}`);
    }
    this.states.seek(tp, offset);
    this.readers.dropUnread([tp], false);
  }

  /** Moves to the log start of the partitions (all assigned ones by default) at the next poll. */
  seekToBeginning(tps?: TopicPartition[]): void {
    this.requestReset(tps, 'earliest', 'seekToBeginning');
  }

  /** Moves to the log end of the partitions (all assigned ones by default) at the next poll. */
  seekToEnd(tps?: TopicPartition[]): void {
    this.requestReset(tps, 'latest', 'seekToEnd');
  }

  private requestReset(tps: TopicPartition[] | undefined, to: 'earliest' | 'latest', what: string): void {
    this.checkOpen();
    const list = tps ?? this.states.partitions();
    for (const tp of list) {
      checkTopicPartition(tp, what);
      this.states.require(tp, what).pendingReset = to;
    }
    this.readers.dropUnread(list, false);
  }

  /** The offset of the next record poll would return, looked up now if not known yet. */
  async position(tp: TopicPartition): Promise<bigint> {
    this.checkOpen();
    checkTopicPartition(tp, 'position');
    const state = this.states.require(tp, 'position');
    if (state.position === null || state.pendingReset !== null) await this.updatePositions();
    if (state.position === null) {
      throw kafkaError(ErrorCode.OFFSET_NOT_AVAILABLE, `position ${keyOf(tp)}`);
    }
    return state.position;
  }

  /** Stops fetching from the partitions until resume(); records already returned are unaffected. */
  pause(tps: TopicPartition[]): void {
    this.checkOpen();
    for (const tp of tps) {
      checkTopicPartition(tp, 'pause');
      this.states.require(tp, 'pause').paused = true;
    }
    this.readers.dropUnread(tps, true);
  }

  resume(tps: TopicPartition[]): void {
    this.checkOpen();
    for (const tp of tps) {
      checkTopicPartition(tp, 'resume');
      this.states.require(tp, 'resume').paused = false;
    }
    this.signal.notify();
  }

  paused(): TopicPartition[] {
    return sortTopicPartitions(
      this.states
        .entries()
        .filter(([, s]) => s.paused)
        .map(([tp]) => tp),
    );
  }

  /** For each partition, the first offset with a timestamp at or after the one given. */
  async offsetsForTimes(query: (TopicPartition & { timestamp: number })[]): Promise<OffsetAndTimestamp[]> {
    this.checkOpen();
    const seen = new Set<string>();
    for (const q of query) {
      checkTopicPartition(q, 'offsetsForTimes');
      // One lookup per partition in a request, as Java's Map argument (Kafka refuses duplicates).
      if (seen.has(keyOf(q))) throw new TypeError(`offsetsForTimes: ${keyOf(q)} is listed twice`);
      seen.add(keyOf(q));
      if (!Number.isSafeInteger(q.timestamp) || q.timestamp < 0) {
        throw new TypeError(
          `offsetsForTimes ${keyOf(q)}: timestamp must be milliseconds >= 0, got ${String(q.timestamp)}`,
        );
      }
    }
    const found = await this.fetcher.listOffsets(
      query.map((q) => ({ tp: q, timestamp: BigInt(q.timestamp) })),
      this.clock.nowMs() + this.cluster.options.defaultApiTimeoutMs,
    );
    return query.map((q) => {
      const hit = found.get(keyOf(q));
      const none = hit === undefined || hit.offset < 0n;
      return {
        topic: q.topic,
        partition: q.partition,
        offset: none ? null : hit.offset,
        timestamp: none ? null : Number(hit.timestamp),
      };
    });
  }

  /** Log start offsets of the partitions. */
  beginningOffsets(tps: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return this.listOffsets(tps, EARLIEST_TIMESTAMP, 'beginningOffsets');
  }

  /** Log end offsets (the last stable offset under read_committed). */
  endOffsets(tps: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return this.listOffsets(tps, LATEST_TIMESTAMP, 'endOffsets');
  }

  private async listOffsets(
    tps: TopicPartition[],
    timestamp: bigint,
    what: string,
  ): Promise<TopicPartitionOffset[]> {
    this.checkOpen();
    for (const tp of tps) checkTopicPartition(tp, what);
    const found = await this.fetcher.listOffsets(
      tps.map((tp) => ({ tp, timestamp })),
      this.clock.nowMs() + this.cluster.options.defaultApiTimeoutMs,
    );
    return tps.map((tp) => ({
      topic: tp.topic,
      partition: tp.partition,
      offset: found.get(keyOf(tp))?.offset ?? -1n,
    }));
  }

  // ------------------------------------------------------------------ commits

  /**
   * Commits `offsets` (each the next offset to read), or by default the offset after the last
   * consumed record of every assigned partition.
   */
  async commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    this.checkOpen();
    const membership = this.requireGroup('commit');
    if (offsets === undefined) {
      await this.commitConsumed(this.states.partitions());
      return;
    }
    const list: OffsetToCommit[] = offsets.map((o) => {
      checkTopicPartition(o, 'commit');
      if (typeof o.offset !== 'bigint' || o.offset < 0n) {
        throw new TypeError(`commit ${keyOf(o)}: offset must be a bigint >= 0, got ${String(o.offset)}`);
      }
      const state = this.states.get(o);
      const epoch = state !== undefined && state.consumed === o.offset ? state.consumedEpoch : -1;
      return {
        tp: { topic: o.topic, partition: o.partition },
        offset: o.offset,
        leaderEpoch: epoch,
        metadata: null,
      };
    });
    await membership.commitOffsets(list, this.apiDeadline(), this.isGroupManaged());
  }

  /** The group's committed offsets for the partitions (offset null where none is committed). */
  async committed(partitions: TopicPartition[]): Promise<CommittedOffset[]> {
    this.checkOpen();
    const membership = this.requireGroup('committed');
    for (const tp of partitions) checkTopicPartition(tp, 'committed');
    const found = await membership.fetchCommitted(partitions, this.apiDeadline());
    return partitions.map(
      (tp) =>
        found.find((c) => c.topic === tp.topic && c.partition === tp.partition) ?? {
          topic: tp.topic,
          partition: tp.partition,
          offset: null,
          leaderEpoch: -1,
          metadata: null,
        },
    );
  }

  private async commitConsumed(tps: readonly TopicPartition[]): Promise<void> {
    const membership = this.membership;
    if (membership === null) return;
    const list: OffsetToCommit[] = [];
    for (const tp of tps) {
      const s = this.states.get(tp);
      if (s === undefined || s.consumed === null) continue;
      list.push({ tp, offset: s.consumed, leaderEpoch: s.consumedEpoch, metadata: null });
    }
    await membership.commitOffsets(list, this.apiDeadline(), this.isGroupManaged());
  }

  private maybeAutoCommit(): void {
    if (!this.options.enableAutoCommit || this.autoCommitInFlight !== null) return;
    const now = this.clock.nowMs();
    if (now < this.nextAutoCommitMs) return;
    this.nextAutoCommitMs = now + this.options.autoCommitIntervalMs;
    this.autoCommitInFlight = this.commitConsumed(this.states.partitions())
      .catch((e: unknown) => this.log(`auto-commit failed: ${String(e)}`))
      .finally(() => (this.autoCommitInFlight = null));
  }

  private isGroupManaged(): boolean {
    return this.mode === 'topics' || this.mode === 'pattern';
  }

  private requireGroup(what: string): GroupMembership {
    if (this.membership === null) {
      throw kafkaError(ErrorCode.INVALID_GROUP_ID, `${what}: the consumer has no groupId`);
    }
    return this.membership;
  }

  private apiDeadline(): number {
    return this.clock.nowMs() + this.cluster.options.defaultApiTimeoutMs;
  }

  // ------------------------------------------------------------------ rebalance callbacks

  private membershipHost(): MembershipHost {
    return {
      subscribedTopics: () => [...this.topics],
      owned: () => this.states.partitions(),
      revoke: (tps) => this.revokePartitions(tps),
      lose: async (tps) => {
        this.log(`partitions lost: ${formatTopicPartitions(tps)}`);
        this.dropPartitions(tps);
        const sorted = sortTopicPartitions(tps);
        const listener = this.listener;
        // Java's default onPartitionsLost is onPartitionsRevoked.
        await this.callListener(() =>
          listener.onPartitionsLost !== undefined
            ? listener.onPartitionsLost(sorted)
            : listener.onPartitionsRevoked?.(sorted),
        );
      },
      assigned: async (added, all) => {
        this.states.assign(all);
        this.fetcher.requestMetadataRefresh();
        await this.callListener(() => this.listener.onPartitionsAssigned?.(sortTopicPartitions(added)));
      },
      partitionCounts: (topics) => this.partitionCounts(topics),
      wake: () => this.signal.notify(),
    };
  }

  /** Commits (auto-commit) the partitions' consumed offsets, then tells the listener, then lets them go. */
  private async revokePartitions(tps: TopicPartition[]): Promise<void> {
    if (this.options.enableAutoCommit) {
      await this.autoCommitInFlight;
      try {
        await this.commitConsumed(tps);
      } catch (e) {
        this.log(`commit before revoking ${formatTopicPartitions(tps)} failed: ${String(e)}`);
      }
    }
    await this.callListener(() => this.listener.onPartitionsRevoked?.(sortTopicPartitions(tps)));
    this.dropPartitions(tps);
  }

  private dropPartitions(tps: readonly TopicPartition[]): void {
    this.readers.forget(tps);
    this.fetcher.clearBuffered(tps);
    this.states.remove(tps);
  }

  /** Listener errors do not break the rebalance; poll throws the first once it is done (as Java). */
  private async callListener(fn: () => Promise<void> | void | undefined): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.log(`rebalance listener failed: ${String(e)}`);
      this.listenerError ??= e;
    }
  }

  private throwListenerError(): void {
    const e = this.listenerError;
    if (e === null) return;
    this.listenerError = null;
    throw e instanceof Error ? e : new Error(`rebalance listener failed: ${JSON.stringify(e)}`);
  }

  // ------------------------------------------------------------------ closing

  private checkOpen(): void {
    if (this.closing) throw clientError('CLIENT_CLOSED', 'the consumer has been closed');
  }

  /**
   * Stops the readers (a running run() or iterator ends after the record or batch in hand),
   * commits with auto-commit, revokes the partitions, leaves the group and closes connections.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    this.signal.notify();
    this.membership?.beginClose();
    await this.readers.inProgress;
    this.readers.rewindIterator();
    try {
      const membership = this.membership;
      if (membership !== null) {
        await this.autoCommitInFlight;
        const owned = this.states.partitions();
        if (this.isGroupManaged() && membership.generationId >= 0 && owned.length > 0) {
          await this.revokePartitions(owned);
        } else if (this.options.enableAutoCommit && owned.length > 0) {
          await this.commitConsumed(owned).catch((e: unknown) =>
            this.log(`commit on close failed: ${String(e)}`),
          );
        }
        await membership.close();
      }
    } finally {
      this.fetcher.close();
      await this.cluster.close();
    }
  }
}
