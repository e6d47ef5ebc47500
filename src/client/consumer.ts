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
import { assignorByName, isAssignorName, type AssignorName } from './assignors.js';
import { Cluster, type ClientOptions } from './cluster.js';
import { ConfigError, kafkaError, KafkaClientError, clientError } from './errors.js';
import {
  EARLIEST_TIMESTAMP,
  Fetcher,
  illegalState,
  LATEST_TIMESTAMP,
  PartitionStates,
  Signal,
  type ConsumerRecord,
  type IsolationLevel,
  type OffsetResetStrategy,
} from './fetcher.js';
import {
  GroupMembership,
  type CommittedOffset,
  type MembershipHost,
  type OffsetToCommit,
  type RebalanceListener,
} from './group-membership.js';
import { boolOption, enumOption, intOption } from './options.js';
import {
  checkTopicPartition,
  compareStrings,
  formatTopicPartitions,
  keyOf,
  sortTopicPartitions,
  type TopicPartition,
  type TopicPartitionOffset,
} from './topic-partition.js';

export type { ConsumerRecord, IsolationLevel, OffsetResetStrategy } from './fetcher.js';
export type { CommittedOffset, RebalanceListener } from './group-membership.js';
export type { AssignorName } from './assignors.js';
export type { TopicPartition, TopicPartitionOffset } from './topic-partition.js';

export interface ConsumerOptions {
  /** The consumer group; without it the consumer can only assign() and cannot commit. */
  groupId?: string;
  /** Static membership (KIP-345): a stable identity that survives restarts within sessionTimeoutMs. */
  groupInstanceId?: string;
  /** Where to start without a committed offset, or after an out-of-range one. Default 'latest'. */
  autoOffsetReset?: OffsetResetStrategy;
  /** Default true with a groupId (false, and not allowed, without one). */
  enableAutoCommit?: boolean;
  /** Default 5000. */
  autoCommitIntervalMs?: number;
  /** Default 45000. */
  sessionTimeoutMs?: number;
  /** Default 3000; must be below sessionTimeoutMs. */
  heartbeatIntervalMs?: number;
  /** The longest the application may go between polls before leaving the group. Default 300000. */
  maxPollIntervalMs?: number;
  /** Default 500. */
  maxPollRecords?: number;
  /** Default 1. */
  fetchMinBytes?: number;
  /** Default 500. */
  fetchMaxWaitMs?: number;
  /** Default 52428800 (50 MiB). */
  fetchMaxBytes?: number;
  /** Default 1048576 (1 MiB). */
  maxPartitionFetchBytes?: number;
  /** Default 'read_uncommitted'. */
  isolationLevel?: IsolationLevel;
  /** In order of preference. Default ['range', 'cooperative-sticky'] (Kafka 3+). */
  partitionAssignmentStrategy?: AssignorName[];
}

export interface ConsumerBatch {
  topic: string;
  partition: number;
  /** In offset order, never empty. */
  records: ConsumerRecord[];
  /** The partition's high watermark when the records were fetched (-1 if unknown). */
  highWatermark: bigint;
}

export interface RunHandlers {
  /** Called with each partition's records of a poll; the batch counts as consumed once it resolves. */
  eachBatch?: (batch: ConsumerBatch) => Promise<void> | void;
  /** Called with each record; the record counts as consumed once it resolves. */
  eachRecord?: (record: ConsumerRecord) => Promise<void> | void;
}

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

interface ResolvedConsumerOptions {
  groupId: string | null;
  groupInstanceId: string | null;
  autoOffsetReset: OffsetResetStrategy;
  enableAutoCommit: boolean;
  autoCommitIntervalMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  maxPollRecords: number;
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytes: number;
  maxPartitionFetchBytes: number;
  isolationLevel: IsolationLevel;
  partitionAssignmentStrategy: AssignorName[];
}

const INT32_MAX = 0x7fffffff;
/** Polls inside the iterator and run() wait this long at most before looking at close() again. */
const LOOP_POLL_MS = 1000;

/** Validates consumer options; errors name the option and the value given. */
export function resolveConsumerOptions(o: ConsumerOptions): ResolvedConsumerOptions {
  const groupId = o.groupId ?? null;
  if (groupId !== null && (typeof groupId !== 'string' || groupId.length === 0)) {
    throw new ConfigError(`groupId must be a non-empty string, got ${JSON.stringify(groupId)}`);
  }
  const groupInstanceId = o.groupInstanceId ?? null;
  if (groupInstanceId !== null) {
    if (typeof groupInstanceId !== 'string' || groupInstanceId.length === 0) {
      throw new ConfigError(
        `groupInstanceId must be a non-empty string, got ${JSON.stringify(groupInstanceId)}`,
      );
    }
    if (groupId === null) throw new ConfigError(`groupInstanceId ${groupInstanceId} needs a groupId`);
  }
  const enableAutoCommit = boolOption('enableAutoCommit', o.enableAutoCommit, groupId !== null);
  if (enableAutoCommit && groupId === null) {
    throw new ConfigError(
      'enableAutoCommit cannot be true without a groupId (there is no group to commit to)',
    );
  }
  const sessionTimeoutMs = intOption('sessionTimeoutMs', o.sessionTimeoutMs, 45_000, 1, INT32_MAX);
  const heartbeatIntervalMs = intOption('heartbeatIntervalMs', o.heartbeatIntervalMs, 3000, 1, INT32_MAX);
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be lower than sessionTimeoutMs (${sessionTimeoutMs})`,
    );
  }
  const strategy: unknown = o.partitionAssignmentStrategy ?? ['range', 'cooperative-sticky'];
  if (
    !Array.isArray(strategy) ||
    strategy.length === 0 ||
    !strategy.every(isAssignorName) ||
    new Set(strategy).size !== strategy.length
  ) {
    throw new ConfigError(
      `partitionAssignmentStrategy must be a non-empty list of distinct names from range, roundrobin, cooperative-sticky; got ${JSON.stringify(strategy)}`,
    );
  }
  return {
    groupId,
    groupInstanceId,
    autoOffsetReset: enumOption(
      'autoOffsetReset',
      o.autoOffsetReset,
      ['earliest', 'latest', 'none'],
      'latest',
    ),
    enableAutoCommit,
    autoCommitIntervalMs: intOption('autoCommitIntervalMs', o.autoCommitIntervalMs, 5000, 0, INT32_MAX),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    maxPollIntervalMs: intOption('maxPollIntervalMs', o.maxPollIntervalMs, 300_000, 1, INT32_MAX),
    maxPollRecords: intOption('maxPollRecords', o.maxPollRecords, 500, 1, INT32_MAX),
    fetchMinBytes: intOption('fetchMinBytes', o.fetchMinBytes, 1, 0, INT32_MAX),
    fetchMaxWaitMs: intOption('fetchMaxWaitMs', o.fetchMaxWaitMs, 500, 0, INT32_MAX),
    fetchMaxBytes: intOption('fetchMaxBytes', o.fetchMaxBytes, 52_428_800, 0, INT32_MAX),
    maxPartitionFetchBytes: intOption(
      'maxPartitionFetchBytes',
      o.maxPartitionFetchBytes,
      1_048_576,
      0,
      INT32_MAX,
    ),
    isolationLevel: enumOption(
      'isolationLevel',
      o.isolationLevel,
      ['read_uncommitted', 'read_committed'],
      'read_uncommitted',
    ),
    partitionAssignmentStrategy: [...strategy],
  };
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

  /** poll, the iterator or run(): whichever reads now. */
  private reader: 'poll' | 'iterator' | 'run' | null = null;
  /** The reader's operation in progress (a poll, an iterator step, run's loop): close() waits for it. */
  private active: Promise<unknown> | null = null;
  /** Records the iterator fetched but has not yielded yet. */
  private iteratorBuffer: ConsumerRecord[] = [];
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
    this.checkNoReader('unsubscribe');
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
  async poll(timeoutMs: number): Promise<ConsumerRecord[]> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(`poll: timeoutMs must be an integer >= 0, got ${String(timeoutMs)}`);
    }
    this.checkOpen();
    this.checkNoReader('poll');
    this.reader = 'poll';
    try {
      const records = await this.track(this.pollOnce(timeoutMs));
      this.markAllConsumed();
      return records;
    } finally {
      this.reader = null;
    }
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    const settled = operation.then(
      () => undefined,
      () => undefined,
    );
    this.active = settled;
    void settled.then(() => {
      if (this.active === settled) this.active = null;
    });
    return operation;
  }

  /**
   * Records one at a time until close(). Leaving the loop early (break, return, throw) seeks
   * back to the first record not yielded; it does not close the consumer.
   */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    this.checkOpen();
    this.checkNoReader('the async iterator');
    this.reader = 'iterator';
    let finished = false;
    const finish = (): IteratorReturnResult<undefined> => {
      if (!finished) {
        finished = true;
        this.rewindIterator();
        if (this.reader === 'iterator') this.reader = null;
      }
      return { value: undefined, done: true };
    };
    const step = async (): Promise<IteratorResult<ConsumerRecord>> => {
      try {
        for (;;) {
          const record = this.iteratorBuffer.shift();
          if (record !== undefined) {
            this.markConsumed(record);
            return { value: record, done: false };
          }
          if (this.closing) return finish();
          this.markAllConsumed();
          this.iteratorBuffer = await this.pollOnce(LOOP_POLL_MS);
        }
      } catch (e) {
        finish();
        throw e;
      }
    };
    return {
      next: (): Promise<IteratorResult<ConsumerRecord>> =>
        finished ? Promise.resolve({ value: undefined, done: true }) : this.track(step()),
      return: (): Promise<IteratorResult<ConsumerRecord>> => Promise.resolve(finish()),
    };
  }

  /**
   * Polls and hands records to `eachBatch` (per partition) or `eachRecord` until close(). With
   * auto-commit, each handled batch is committed. A handler that throws stops the loop: the
   * partitions are sought back to the first record not handled and run() rejects with the error.
   */
  async run(handlers: RunHandlers): Promise<void> {
    const eachBatch = handlers?.eachBatch;
    const eachRecord = handlers?.eachRecord;
    if ((eachBatch === undefined) === (eachRecord === undefined)) {
      throw new TypeError('run: give exactly one of eachBatch and eachRecord');
    }
    if (typeof (eachBatch ?? eachRecord) !== 'function')
      throw new TypeError('run: the handler must be a function');
    this.checkOpen();
    this.checkNoReader('run');
    this.reader = 'run';
    try {
      await this.track(this.runLoop(eachBatch, eachRecord));
    } finally {
      this.reader = null;
    }
  }

  private async runLoop(
    eachBatch: RunHandlers['eachBatch'],
    eachRecord: RunHandlers['eachRecord'],
  ): Promise<void> {
    let pending: ConsumerRecord[] = [];
    try {
      while (!this.closing) {
        pending = await this.pollOnce(LOOP_POLL_MS);
        if (pending.length === 0) {
          this.markAllConsumed();
          continue;
        }
        for (const batch of groupByPartition(pending)) {
          if (this.closing) break;
          const state = this.states.get(batch[0]!);
          if (eachBatch !== undefined) {
            await eachBatch({
              topic: batch[0]!.topic,
              partition: batch[0]!.partition,
              records: batch,
              highWatermark: state?.highWatermark ?? -1n,
            });
            this.markConsumed(batch[batch.length - 1]!);
          } else {
            for (const record of batch) {
              await eachRecord!(record);
              this.markConsumed(record);
            }
          }
          if (this.options.enableAutoCommit) {
            await this.commitConsumed([batch[0]!]).catch((e: unknown) =>
              this.log(`auto-commit after a batch failed: ${String(e)}`),
            );
          }
        }
        pending = [];
        this.markAllConsumed();
      }
    } finally {
      // Whatever was not handled (a handler threw, close() came) is read again later.
      this.rewindTo(pending);
    }
  }

  private checkNoReader(what: string): void {
    if (this.reader !== null) {
      throw illegalState(
        `${what}: the consumer is already being read by ${this.reader === 'poll' ? 'poll()' : this.reader === 'run' ? 'run()' : 'an async iterator'}; one reader at a time`,
      );
    }
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

  private markConsumed(record: ConsumerRecord): void {
    const state = this.states.get(record);
    if (state === undefined) return;
    state.consumed = record.offset + 1n;
    state.consumedEpoch = record.leaderEpoch;
  }

  /** Everything returned so far is consumed: positions are what a commit stores. */
  private markAllConsumed(): void {
    for (const [, s] of this.states.entries()) {
      if (s.position === null) continue;
      s.consumed = s.position;
      s.consumedEpoch = s.positionEpoch;
    }
  }

  private rewindIterator(): void {
    const left = this.iteratorBuffer;
    this.iteratorBuffer = [];
    this.rewindTo(left);
  }

  /**
   * Seeks each partition of `unhandled` back to its first record not consumed yet (records below
   * the consumed offset were handled), so it is read again.
   */
  private rewindTo(unhandled: readonly ConsumerRecord[]): void {
    const first = new Map<string, ConsumerRecord>();
    for (const r of unhandled) {
      const consumed = this.states.get(r)?.consumed;
      if (consumed !== null && consumed !== undefined && r.offset < consumed) continue;
      if (!first.has(keyOf(r))) first.set(keyOf(r), r);
    }
    for (const r of first.values()) {
      const state = this.states.get(r);
      if (state === undefined) continue;
      state.position = r.offset;
      state.positionEpoch = state.consumedEpoch;
      state.consumed = r.offset;
      this.fetcher.clearBuffered([r]);
    }
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
    this.dropUnread([tp], false);
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
    this.dropUnread(list, false);
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
    this.dropUnread(tps, true);
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

  /**
   * Forgets fetched records of `tps` not handed out yet (the iterator's included). With
   * `rewind` (pause) the position goes back to the first of them, so they are fetched again;
   * a seek or reset has just set a position of its own.
   */
  private dropUnread(tps: readonly TopicPartition[], rewind: boolean): void {
    const keys = new Set(tps.map(keyOf));
    const kept: ConsumerRecord[] = [];
    const dropped: ConsumerRecord[] = [];
    for (const r of this.iteratorBuffer) (keys.has(keyOf(r)) ? dropped : kept).push(r);
    this.iteratorBuffer = kept;
    if (rewind) this.rewindTo(dropped);
    this.fetcher.clearBuffered(tps);
    this.signal.notify();
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
    const keys = new Set(tps.map(keyOf));
    this.iteratorBuffer = this.iteratorBuffer.filter((r) => !keys.has(keyOf(r)));
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
    await this.active;
    this.rewindIterator();
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

/** Records grouped per partition, in the order partitions first appear; offsets stay in order. */
function groupByPartition(records: readonly ConsumerRecord[]): ConsumerRecord[][] {
  const groups = new Map<string, ConsumerRecord[]>();
  for (const r of records) {
    const key = keyOf(r);
    let list = groups.get(key);
    if (list === undefined) groups.set(key, (list = []));
    list.push(r);
  }
  return [...groups.values()];
}
