/**
 * The producer's idempotence and transaction state, as Kafka's TransactionManager keeps it:
 *
 * - Identity: the producer id and epoch from InitProducerId — asked for on first use by an
 *   idempotent producer, by initTransactions() for a transactional one. Sequence numbers and
 *   KIP-360 recovery are in producer-sequences.ts.
 * - Transactions: Kafka's state machine (uninitialized → initializing → ready → inTransaction →
 *   committing / aborting → ready; abortableError; fatalError). Partitions join the transaction
 *   through AddPartitionsToTxn before their first batch is sent, gathered into one request while
 *   the previous one runs; coordinator requests go one at a time, by Kafka's priorities
 *   (InitProducerId, then AddPartitions/AddOffsets/TxnOffsetCommit, then EndTxn).
 * - Errors: fencing and authorization are fatal (every later call fails with that error); a
 *   failed batch or a refused offset commit makes the transaction abortable (only
 *   abortTransaction helps, and when sequences were lost it bumps the epoch through
 *   InitProducerId, which also aborts the transaction on the coordinator, KIP-360); the
 *   coordinator's transient errors are retried with backoff until maxBlockMs.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import type { InitProducerIdResponse } from '../protocol/generated/message/InitProducerIdResponse.js';
import type { Clock } from '../runtime/clock.js';
import type { ProducerBatch } from './accumulator.js';
import type { Cluster } from './cluster.js';
import { asClientError, illegalState, kafkaError, KafkaClientError } from './errors.js';
import { tpKey } from './topic-partition.js';
import { ProducerSequences } from './producer-sequences.js';
import {
  checkGroup,
  checkOffsets,
  coordinatorCall,
  isTransientOffsetError,
  RequestQueue,
  versionOf,
  type CallContext,
  type GroupMetadataInput,
  type TransactionOffset,
} from './txn-requests.js';

export type { GroupMetadataInput, TransactionOffset } from './txn-requests.js';
/** AddPartitionsToTxn caps at v3: v4+ are broker-to-broker (KIP-890). */
const ADD_PARTITIONS_MAX_VERSION = 3;
/** EndTxn v5 bumps epochs on the server (KIP-890 part 2), which this client does not do. */
const END_TXN_MAX_VERSION = 4;

export type TransactionState =
  | 'uninitialized'
  | 'initializing'
  | 'ready'
  | 'inTransaction'
  | 'committing'
  | 'aborting'
  | 'abortableError'
  | 'fatalError';

export interface TransactionManagerHooks {
  /** Something the sender waits for changed (an id, added partitions, reset sequences). */
  wake(): void;
  /** Fails the batches not yet sent with a sequence (the transaction cannot commit). */
  abortUndrained(error: KafkaClientError): void;
  /** Fails every queued batch (a fatal error). */
  abortQueued(error: KafkaClientError): void;
}

export interface TransactionManagerOptions {
  cluster: Cluster;
  transactionalId: string | null;
  transactionTimeoutMs: number;
  /** Bound of initTransactions, sendOffsetsToTransaction, commit and abort (Kafka's max.block.ms). */
  maxBlockMs: number;
  /** Bound of AddPartitionsToTxn retries (the batches waiting for it expire then anyway). */
  deliveryTimeoutMs: number;
  clock: Clock;
  log: (message: string) => void;
  schedule: (delayMs: number, fn: () => void) => () => void;
  hooks: TransactionManagerHooks;
}

/** Coordinator answers after which the producer can do nothing more (Kafka's fatal errors). */
const FATAL_CODES: ReadonlySet<number> = new Set([
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_TXN_STATE,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
  ErrorCode.INVALID_TRANSACTION_TIMEOUT,
  ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
]);

/** Produce answers that are fatal for any idempotent producer (Java's maybeTransitionToErrorState). */
const PRODUCE_FATAL_CODES: ReadonlySet<number> = new Set([
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.UNSUPPORTED_VERSION,
]);

/** And for a transactional one: a newer epoch fenced it, or the coordinator disowns the transaction. */
const PRODUCE_FATAL_TXN_CODES: ReadonlySet<number> = new Set([
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.INVALID_TXN_STATE,
]);

export class TransactionManager {
  readonly transactionalId: string | null;
  private readonly o: TransactionManagerOptions;
  private readonly sequences: ProducerSequences;
  private readonly callContext: CallContext;

  private txnState: TransactionState = 'uninitialized';
  private lastError: KafkaClientError | null = null;
  /** Sequences were lost in this transaction: its abort bumps the epoch (KIP-360). */
  private bumpOnAbort = false;
  /** AddPartitions or AddOffsets succeeded: the coordinator has a transaction to end. */
  private txnStarted = false;
  private readonly inTransaction = new Set<string>();
  private readonly newPartitions = new Map<string, { topic: string; partition: number }>();
  private addScheduled = false;

  private idempotentInit: Promise<void> | null = null;
  private initRetryAtMs = 0;
  private initFailures = 0;
  private initWakeScheduled = false;

  private readonly ops = new RequestQueue();
  private closed = false;

  constructor(options: TransactionManagerOptions) {
    this.o = options;
    this.transactionalId = options.transactionalId;
    this.sequences = new ProducerSequences(options.transactionalId !== null, options.log);
    this.callContext = {
      cluster: options.cluster,
      clock: options.clock,
      schedule: options.schedule,
      maxBlockMs: options.maxBlockMs,
      isClosed: () => this.closed,
    };
  }

  private get producerId(): bigint {
    return this.sequences.producerId;
  }

  private get producerEpoch(): number {
    return this.sequences.producerEpoch;
  }

  get isTransactional(): boolean {
    return this.transactionalId !== null;
  }

  get state(): TransactionState {
    return this.txnState;
  }

  /** The producer's id and epoch (-1n/-1 before InitProducerId). */
  get identity(): { producerId: bigint; producerEpoch: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  close(): void {
    this.closed = true;
  }

  // ------------------------------------------------------------------ checks for the producer

  /** Throws when a record admitted earlier must not be appended now (its batch could never be sent). */
  checkAppend(): void {
    if (this.txnState === 'fatalError') throw this.unusable();
    if (this.txnState === 'abortableError') throw this.mustAbort('send');
  }

  /** Throws unless a send may be accepted now. */
  checkSend(): void {
    if (this.txnState === 'fatalError') throw this.unusable();
    if (!this.isTransactional) return;
    if (this.txnState === 'abortableError') throw this.mustAbort('send');
    if (this.txnState !== 'inTransaction') {
      throw illegalState(
        `cannot send in transaction state ${this.txnState}: a transactional producer sends only ` +
          `between beginTransaction() and commitTransaction()/abortTransaction()` +
          (this.txnState === 'uninitialized' ? ' (call initTransactions() first)' : ''),
      );
    }
  }

  private unusable(): KafkaClientError {
    const e = this.lastError!;
    return new KafkaClientError(
      `the producer cannot be used after a fatal error: ${e.message}`,
      e.code,
      e.errorName,
      false,
      { cause: e },
    );
  }

  private mustAbort(what: string): KafkaClientError {
    const e = this.lastError!;
    return new KafkaClientError(
      `cannot ${what}: the transaction failed and must be aborted (abortTransaction()): ${e.message}`,
      e.code,
      e.errorName,
      false,
      { cause: e },
    );
  }

  private requireTransactional(what: string): void {
    if (!this.isTransactional) {
      throw illegalState(`${what} needs a transactional producer (set the transactionalId option)`);
    }
    if (this.txnState === 'fatalError') throw this.unusable();
  }

  // ------------------------------------------------------------------ the sender's side

  /**
   * Whether batches may be taken now: an identity is known and no fatal error. Starts
   * InitProducerId for an idempotent producer that has none, and resets the sequences of
   * partitions that waited for their batches to settle.
   */
  prepareDrain(): boolean {
    if (this.txnState === 'fatalError' || this.closed) return false;
    if (this.isTransactional) return this.sequences.hasIdentity && this.txnState !== 'initializing';
    if (this.sequences.hasIdentity && !this.sequences.resetSettledPartitions()) {
      this.o.log(`producer ${this.producerId}: epoch exhausted, asking for a new producer id`);
    }
    if (!this.sequences.hasIdentity) {
      this.initIdempotent();
      return false;
    }
    return true;
  }

  /** May this head batch be sent now (its partition in the transaction, its sequence next)? */
  canSend(batch: ProducerBatch): boolean {
    if (
      this.isTransactional &&
      !batch.hasSequence &&
      !this.inTransaction.has(tpKey(batch.topic, batch.partition))
    ) {
      return false;
    }
    return this.sequences.canSend(batch);
  }

  /** Stamps identity and sequence on a batch taken for the first time. */
  assignSequence(batch: ProducerBatch): void {
    this.sequences.assign(batch);
  }

  onBatchSucceeded(batch: ProducerBatch): void {
    this.sequences.succeeded(batch);
  }

  /** The sender split a batch the broker found too large: its halves took its sequence range. */
  onBatchSplit(batch: ProducerBatch, halves: readonly ProducerBatch[]): void {
    this.sequences.split(batch, halves);
  }

  /**
   * Whether a failed produce of `batch` should be retried (deadline and retries aside), as
   * Kafka's TransactionManager.canRetry; records fatal errors and sequence resets on the way.
   */
  shouldRetry(batch: ProducerBatch, error: KafkaClientError): boolean {
    const code = error.code;
    if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.UNKNOWN_PRODUCER_ID) {
      // A transaction with a gap cannot commit: the batch fails and the transaction aborts.
      if (this.isTransactional || !batch.hasSequence) return false;
      this.sequences.sequenceError(batch, error);
      return true;
    }
    if (PRODUCE_FATAL_CODES.has(code) || (this.isTransactional && PRODUCE_FATAL_TXN_CODES.has(code))) {
      this.fatal(error);
      return false;
    }
    if (code === ErrorCode.TRANSACTION_ABORTABLE) return false;
    return error.retriable;
  }

  /** A batch failed for good (an error, its delivery timeout): what that means for sequences and the transaction. */
  onBatchFailed(batch: ProducerBatch, error: KafkaClientError): void {
    // A transaction that lost a sequenced batch has a gap: its abort bumps the epoch.
    if (this.sequences.failed(batch) && this.isTransactional) this.bumpOnAbort = true;
    if (this.isTransactional && (this.txnState === 'inTransaction' || this.txnState === 'committing')) {
      this.abortable(error);
    }
  }

  // ------------------------------------------------------------------ InitProducerId (idempotent)

  private initIdempotent(): void {
    if (this.idempotentInit !== null || this.closed) return;
    const now = this.o.clock.nowMs();
    if (now < this.initRetryAtMs) {
      if (!this.initWakeScheduled) {
        this.initWakeScheduled = true;
        this.o.schedule(this.initRetryAtMs - now, () => {
          this.initWakeScheduled = false;
          this.o.hooks.wake();
        });
      }
      return;
    }
    this.idempotentInit = this.doInitIdempotent().finally(() => {
      this.idempotentInit = null;
      this.o.hooks.wake();
    });
  }

  private async doInitIdempotent(): Promise<void> {
    const { cluster } = this.o;
    try {
      const response = await cluster.withRetry(
        'InitProducerId',
        async () => {
          const conn = await cluster.anyConnection();
          const version = versionOf(conn, ApiKey.InitProducerId, 'InitProducerId');
          const r = await conn.send(apis.InitProducerId, version, {
            transactionalId: null,
            // Kafka's idempotent producer sends the largest timeout: there is no transaction.
            transactionTimeoutMs: 0x7fffffff,
            producerId: -1n,
            producerEpoch: -1,
          });
          if (r.errorCode !== ErrorCode.NONE) throw kafkaError(r.errorCode, 'InitProducerId');
          return r;
        },
        this.o.deliveryTimeoutMs,
      );
      this.sequences.setIdentity(response.producerId, response.producerEpoch);
      this.initFailures = 0;
      this.o.log(`idempotent producer id ${this.producerId}, epoch ${this.producerEpoch}`);
    } catch (e) {
      const error = asClientError(e);
      if (this.closed || error.errorName === 'CLIENT_CLOSED') return;
      if (FATAL_CODES.has(error.code) || error.code === ErrorCode.CLUSTER_AUTHORIZATION_FAILED) {
        this.fatal(error);
        return;
      }
      // Batches waiting for the id expire on their own; try again after a backoff.
      this.initFailures++;
      this.initRetryAtMs = this.o.clock.nowMs() + cluster.backoffMs(this.initFailures);
      this.o.log(`InitProducerId failed (${error.message}); trying again`);
    }
  }

  // ------------------------------------------------------------------ errors

  private fatal(error: KafkaClientError): void {
    if (this.txnState === 'fatalError') return;
    this.o.log(`producer fatal error: ${error.message}`);
    this.txnState = 'fatalError';
    this.lastError = error;
    this.o.hooks.abortQueued(this.unusable());
    this.o.hooks.wake();
  }

  private abortable(error: KafkaClientError): void {
    if (this.txnState === 'fatalError' || this.txnState === 'abortableError') return;
    this.o.log(`transaction must abort: ${error.message}`);
    this.txnState = 'abortableError';
    this.lastError = error;
    this.o.hooks.abortUndrained(this.mustAbort('send'));
  }

  /**
   * Fatal or abortable by Kafka's rules for coordinator answers; returns the error to throw.
   * Running out of time changes nothing: the call may be made again (as Kafka's TimeoutException).
   */
  private coordinatorFailure(error: KafkaClientError): KafkaClientError {
    if (FATAL_CODES.has(error.code)) {
      this.fatal(error);
      return this.unusable();
    }
    if (error.code === -1) return error;
    if (this.txnState === 'inTransaction' || this.txnState === 'committing') {
      this.abortable(error);
      return this.mustAbort('go on');
    }
    return error;
  }

  // ------------------------------------------------------------------ transactional API

  async initTransactions(): Promise<void> {
    this.requireTransactional('initTransactions');
    if (this.txnState !== 'uninitialized' && this.txnState !== 'initializing') {
      throw illegalState(`initTransactions was already called (transaction state ${this.txnState})`);
    }
    this.txnState = 'initializing';
    await this.ops.enqueue(0, () => this.initTransactional(-1n, -1, this.deadline()));
    this.txnState = 'ready';
  }

  /** InitProducerId for the transactional id; with the current identity it bumps the epoch (KIP-360). */
  private async initTransactional(
    producerId: bigint,
    producerEpoch: number,
    deadlineMs: number,
  ): Promise<void> {
    const id = this.transactionalId!;
    let r: InitProducerIdResponse;
    try {
      r = await coordinatorCall(
        this.callContext,
        'transaction',
        id,
        `InitProducerId for transactional id ${id}`,
        deadlineMs,
        async (conn) => {
          const version = versionOf(conn, ApiKey.InitProducerId, 'InitProducerId');
          if (producerId >= 0n && version < 3) {
            throw kafkaError(
              ErrorCode.UNSUPPORTED_VERSION,
              `InitProducerId v3+ (epoch bump) to ${conn.address}`,
            );
          }
          const res = await conn.send(apis.InitProducerId, version, {
            transactionalId: id,
            transactionTimeoutMs: this.o.transactionTimeoutMs,
            producerId,
            producerEpoch,
          });
          return { code: res.errorCode, value: res };
        },
      );
    } catch (e) {
      // Fencing and authorization errors are fatal; a timeout leaves the call to be made again.
      throw this.coordinatorFailure(asClientError(e));
    }
    this.sequences.setIdentity(r.producerId, r.producerEpoch);
    this.bumpOnAbort = false;
    this.o.log(`transactional id ${id}: producer id ${this.producerId}, epoch ${this.producerEpoch}`);
    this.o.hooks.wake();
  }

  beginTransaction(): void {
    this.requireTransactional('beginTransaction');
    if (this.txnState !== 'ready') {
      throw illegalState(
        this.txnState === 'uninitialized' || this.txnState === 'initializing'
          ? 'beginTransaction before initTransactions() completed'
          : this.txnState === 'inTransaction'
            ? 'beginTransaction while a transaction is open (commit or abort it first)'
            : this.txnState === 'abortableError'
              ? 'beginTransaction while the failed transaction is not aborted (abortTransaction())'
              : `beginTransaction while the previous transaction is ${this.txnState} (call ${this.txnState === 'committing' ? 'commitTransaction' : 'abortTransaction'}() again)`,
      );
    }
    this.txnState = 'inTransaction';
    this.txnStarted = false;
    this.inTransaction.clear();
    this.newPartitions.clear();
  }

  /** A record is going to `topic`-`partition`: make it part of the transaction before it is sent. */
  maybeAddPartition(topic: string, partition: number): void {
    if (!this.isTransactional) return;
    if (this.txnState !== 'inTransaction' && this.txnState !== 'committing') return;
    const key = tpKey(topic, partition);
    if (this.inTransaction.has(key) || this.newPartitions.has(key)) return;
    this.newPartitions.set(key, { topic, partition });
    if (this.addScheduled) return;
    this.addScheduled = true;
    // After the current turn, so the partitions of one sendBatch (or a loop of sends) share a request.
    setImmediate(() => void this.ops.enqueue(1, () => this.addPartitions()).catch(() => undefined));
  }

  /** One AddPartitionsToTxn for every partition that joined since the last one. */
  private async addPartitions(): Promise<void> {
    this.addScheduled = false;
    if (this.txnState !== 'inTransaction' && this.txnState !== 'committing') {
      this.newPartitions.clear();
      return;
    }
    const wanted = [...this.newPartitions.entries()];
    if (wanted.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const [, { topic, partition }] of wanted) {
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push(partition);
    }
    const topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }));
    const id = this.transactionalId!;
    try {
      await coordinatorCall(
        this.callContext,
        'transaction',
        id,
        `AddPartitionsToTxn for ${id}`,
        this.o.clock.nowMs() + this.o.deliveryTimeoutMs,
        async (conn) => {
          const version = versionOf(
            conn,
            ApiKey.AddPartitionsToTxn,
            'AddPartitionsToTxn',
            ADD_PARTITIONS_MAX_VERSION,
          );
          const res = await conn.send(apis.AddPartitionsToTxn, version, {
            ...apis.AddPartitionsToTxn.request.create(),
            v3AndBelowTransactionalId: id,
            v3AndBelowProducerId: this.producerId,
            v3AndBelowProducerEpoch: this.producerEpoch,
            v3AndBelowTopics: topics,
          });
          let code: number = res.errorCode;
          // The first partition error that is not OPERATION_NOT_ATTEMPTED (the others' echo) speaks for all.
          for (const t of res.resultsByTopicV3AndBelow) {
            for (const p of t.resultsByPartition) {
              if (p.partitionErrorCode === ErrorCode.NONE) continue;
              if (code === ErrorCode.NONE || code === ErrorCode.OPERATION_NOT_ATTEMPTED) {
                code = p.partitionErrorCode;
              }
            }
          }
          return { code, value: res };
        },
        new Set([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.OPERATION_NOT_ATTEMPTED]),
      );
    } catch (e) {
      // The records waiting for these partitions cannot be sent: the transaction must abort.
      const error = asClientError(e);
      if (FATAL_CODES.has(error.code)) this.fatal(error);
      else if (this.txnState === 'inTransaction' || this.txnState === 'committing') this.abortable(error);
      return;
    }
    for (const [key] of wanted) {
      this.newPartitions.delete(key);
      this.inTransaction.add(key);
    }
    this.txnStarted = true;
    this.o.hooks.wake();
  }

  async sendOffsetsToTransaction(
    offsets: readonly TransactionOffset[],
    group: GroupMetadataInput,
  ): Promise<void> {
    this.requireTransactional('sendOffsetsToTransaction');
    const byTopic = checkOffsets(offsets);
    const groupId = checkGroup(group);
    if (this.txnState === 'abortableError') throw this.mustAbort('sendOffsetsToTransaction');
    if (this.txnState !== 'inTransaction') {
      throw illegalState(`sendOffsetsToTransaction outside a transaction (state ${this.txnState})`);
    }
    const deadlineMs = this.deadline();
    const id = this.transactionalId!;
    await this.ops.enqueue(1, async () => {
      try {
        await coordinatorCall(
          this.callContext,
          'transaction',
          id,
          `AddOffsetsToTxn for ${id} and group ${groupId}`,
          deadlineMs,
          async (conn) => {
            const res = await conn.send(
              apis.AddOffsetsToTxn,
              versionOf(conn, ApiKey.AddOffsetsToTxn, 'AddOffsetsToTxn'),
              {
                transactionalId: id,
                producerId: this.producerId,
                producerEpoch: this.producerEpoch,
                groupId,
              },
            );
            return { code: res.errorCode, value: res };
          },
        );
      } catch (e) {
        throw this.coordinatorFailure(asClientError(e));
      }
      this.txnStarted = true;
      await this.txnOffsetCommit(id, groupId, group, byTopic, deadlineMs);
    });
  }

  /** TxnOffsetCommit to the group's coordinator; partitions refused transiently are sent again with the rest. */
  private async txnOffsetCommit(
    id: string,
    groupId: string,
    group: GroupMetadataInput,
    byTopic: Map<string, TransactionOffset[]>,
    deadlineMs: number,
  ): Promise<void> {
    const topics = [...byTopic].map(([name, list]) => ({
      name,
      partitions: list.map((o) => ({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: o.leaderEpoch ?? -1,
        committedMetadata: o.metadata ?? '',
      })),
    }));
    try {
      await coordinatorCall(
        this.callContext,
        'group',
        groupId,
        `TxnOffsetCommit for ${id} to group ${groupId}`,
        deadlineMs,
        async (conn) => {
          const res = await conn.send(
            apis.TxnOffsetCommit,
            versionOf(conn, ApiKey.TxnOffsetCommit, 'TxnOffsetCommit'),
            {
              transactionalId: id,
              groupId,
              producerId: this.producerId,
              producerEpoch: this.producerEpoch,
              generationId: group.generationId ?? -1,
              memberId: group.memberId ?? '',
              groupInstanceId: group.groupInstanceId ?? null,
              topics,
            },
          );
          // A lasting error outranks a transient one: retrying would not help the partition.
          let code: number = ErrorCode.NONE;
          for (const t of res.topics) {
            for (const p of t.partitions) {
              if (p.errorCode === ErrorCode.NONE) continue;
              if (
                code === ErrorCode.NONE ||
                (isTransientOffsetError(code) && !isTransientOffsetError(p.errorCode))
              ) {
                code = p.errorCode;
              }
            }
          }
          return { code, value: undefined };
        },
        new Set([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]),
      );
    } catch (e) {
      throw this.coordinatorFailure(asClientError(e));
    }
  }

  /**
   * Commits: flushes (every record of the transaction written), then EndTxn. A commit that timed
   * out may be called again; one whose records failed rejects and leaves the transaction to abort.
   */
  async commitTransaction(flush: () => Promise<void>): Promise<void> {
    this.requireTransactional('commitTransaction');
    if (this.txnState === 'abortableError') throw this.mustAbort('commitTransaction');
    if (this.txnState !== 'inTransaction' && this.txnState !== 'committing') {
      throw illegalState(
        this.txnState === 'aborting'
          ? 'commitTransaction after abortTransaction started (call abortTransaction() again to finish it)'
          : `commitTransaction without an open transaction (state ${this.txnState})`,
      );
    }
    this.txnState = 'committing';
    const deadlineMs = this.deadline();
    await flush();
    // Records sent to partitions not yet added wait for AddPartitionsToTxn: queued before EndTxn.
    await this.ops.enqueue(2, async () => {
      if (this.txnState === 'fatalError') throw this.unusable();
      if (this.txnState === 'abortableError') throw this.mustAbort('commitTransaction');
      if (this.txnStarted) await this.endTxn(true, deadlineMs);
    });
    this.completed();
  }

  /**
   * Aborts: records not sent yet fail (`dropUnsent`), the ones in flight finish, then EndTxn
   * abort — or, when sequences were lost, InitProducerId with the current epoch, which aborts
   * the transaction on the coordinator and bumps the epoch (KIP-360).
   */
  async abortTransaction(dropUnsent: () => void, settled: () => Promise<void>): Promise<void> {
    this.requireTransactional('abortTransaction');
    const s = this.txnState;
    if (s !== 'inTransaction' && s !== 'abortableError' && s !== 'aborting') {
      throw illegalState(
        s === 'committing'
          ? 'abortTransaction after commitTransaction started (call commitTransaction() again to finish it)'
          : `abortTransaction without an open transaction (state ${s})`,
      );
    }
    this.txnState = 'aborting';
    const deadlineMs = this.deadline();
    this.newPartitions.clear();
    dropUnsent();
    await settled();
    await this.ops.enqueue(2, async () => {
      if (this.txnState === 'fatalError') throw this.unusable();
      if (this.bumpOnAbort) await this.initTransactional(this.producerId, this.producerEpoch, deadlineMs);
      else if (this.txnStarted) await this.endTxn(false, deadlineMs);
    });
    this.completed();
  }

  private completed(): void {
    this.txnState = 'ready';
    this.txnStarted = false;
    this.lastError = null;
    this.inTransaction.clear();
    this.newPartitions.clear();
  }

  private async endTxn(commit: boolean, deadlineMs: number): Promise<void> {
    const id = this.transactionalId!;
    try {
      await coordinatorCall(
        this.callContext,
        'transaction',
        id,
        `EndTxn (${commit ? 'commit' : 'abort'}) for ${id}`,
        deadlineMs,
        async (conn) => {
          const res = await conn.send(
            apis.EndTxn,
            versionOf(conn, ApiKey.EndTxn, 'EndTxn', END_TXN_MAX_VERSION),
            {
              transactionalId: id,
              producerId: this.producerId,
              producerEpoch: this.producerEpoch,
              committed: commit,
            },
          );
          return { code: res.errorCode, value: res };
        },
      );
    } catch (e) {
      throw this.coordinatorFailure(asClientError(e));
    }
  }

  private deadline(): number {
    return this.o.clock.nowMs() + this.o.maxBlockMs;
  }
}
