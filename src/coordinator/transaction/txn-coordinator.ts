/**
 * The transaction coordinator: Kafka's state machine for transactional ids, one TxnShard per
 * partition of `__transaction_state` this broker leads (ids mapped to partitions as Kafka maps
 * them: `Utils.abs(transactionalId.hashCode()) % partitions`).
 *
 *   InitProducerId  Empty/Complete* → Empty with the epoch bumped (a new producer id once the
 *                   epoch is exhausted); Ongoing → the open transaction is aborted with a bumped
 *                   epoch (fencing the old producer) and the caller retries.
 *   AddPartitions / AddOffsets  → Ongoing with the partitions added.
 *   EndTxn          Ongoing → PrepareCommit/PrepareAbort (durable before the answer) → markers
 *                   written to every partition of the transaction → CompleteCommit/CompleteAbort.
 *   Timeouts        an Ongoing transaction older than its timeout is aborted with a bumped epoch.
 *   Expiry          ids idle in Empty/Complete* for transactional.id.expiration.ms are deleted.
 *
 * One transition per id at a time: a request arriving during one gets CONCURRENT_TRANSACTIONS,
 * which clients retry. A shard loaded with transactions in PrepareCommit/PrepareAbort finishes
 * them (writes their markers again: markers are idempotent for the partitions).
 * Errors are Kafka's codes; PRODUCER_FENCED is mapped to INVALID_PRODUCER_EPOCH for request
 * versions older than KIP-588 by the handlers.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import type { Clock } from '../../runtime/clock.js';
import { partitionForGroup } from '../group-coordinator.js';
import type { ShardLog } from '../group-shard.js';
import {
  copyMetadata,
  MAX_PRODUCER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  partitionKey,
  TxnState,
  type TxnMetadata,
  type TxnPartition,
} from './txn-metadata.js';
import { TxnShard } from './txn-shard.js';

/** `__transaction_state`: the transaction coordinator's log. */
export const TRANSACTION_STATE_TOPIC = '__transaction_state';

export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms */
  readonly transactionMaxTimeoutMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  readonly abortTimedOutIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  readonly removeExpiredIntervalMs: number;
  /** transactional.id.expiration.ms */
  readonly transactionalIdExpirationMs: number;
}

export interface TxnMarkerRequest {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** COMMIT (true) or ABORT (false). */
  commit: boolean;
  partitions: TxnPartition[];
}

/** A marker's outcome on one partition. */
export interface TxnMarkerResult {
  topic: string;
  partition: number;
  errorCode: number;
}

export interface TxnCoordinatorDeps {
  readonly clock: Clock;
  readonly config: TxnCoordinatorConfig;
  /** A producer id never handed out before. */
  nextProducerId(): Promise<bigint>;
  /** Writes a COMMIT or ABORT marker to each partition; the error code of each. */
  writeMarkers(m: TxnMarkerRequest): Promise<TxnMarkerResult[]>;
  /** Whether the partition exists (a deleted topic's markers are given up). */
  partitionExists(topic: string, partition: number): boolean;
  logLine(message: string): void;
}

export type TxnShardLookup = { shard: TxnShard } | { errorCode: number };

export interface InitProducerIdResult {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

/** First delay before writing markers that failed again (the partition is offline, say); it doubles. */
const MARKER_RETRY_MS = 100;
const MARKER_RETRY_MAX_MS = 5_000;
/** How long a request waits for the previous transaction of its id to complete before CONCURRENT_TRANSACTIONS. */
const COMPLETION_WAIT_MS = 1_000;

function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_PRODUCER_EPOCH;
}

export class TransactionCoordinator {
  private readonly deps: TxnCoordinatorDeps;
  private readonly shards = new Map<number, TxnShard>();
  private readonly background = new Set<Promise<void>>();
  private timers: (() => void)[] = [];
  /** Wakers of background waits (marker retries): close() ends them at once. */
  private readonly sleepers = new Set<() => void>();
  private closed = false;

  constructor(deps: TxnCoordinatorDeps) {
    this.deps = deps;
  }

  private now(): number {
    return this.deps.clock.nowMs();
  }

  // ---------------------------------------------------------------- shards

  shardFor(transactionalId: string, statePartitions: number): TxnShardLookup {
    if (statePartitions <= 0) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    const shard = this.shards.get(partitionForGroup(transactionalId, statePartitions));
    if (shard === undefined) return { errorCode: ErrorCode.NOT_COORDINATOR };
    switch (shard.state) {
      case 'active':
        return { shard };
      case 'loading':
        return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
      case 'failed':
      case 'closed':
        return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    }
  }

  shardPartitions(): number[] {
    return [...this.shards.keys()];
  }

  /** Every active shard (ListTransactions asks them all). */
  activeShards(): TxnShard[] {
    return [...this.shards.values()].filter((s) => s.state === 'active');
  }

  /** Starts serving a partition this broker now leads: replays it, then finishes what it left half done. */
  loadPartition(partition: number, coordinatorEpoch: number, log: ShardLog): void {
    if (this.closed) return;
    const existing = this.shards.get(partition);
    if (existing !== undefined && existing.coordinatorEpoch === coordinatorEpoch) return;
    existing?.transitioning.clear();
    if (existing !== undefined) existing.state = 'closed';
    const shard = new TxnShard(partition, coordinatorEpoch, log, this.deps.clock, (m) =>
      this.deps.logLine(m),
    );
    this.shards.set(partition, shard);
    this.track(
      shard.load().then(
        () => {
          for (const m of shard.txns.values()) {
            if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) {
              shard.transitioning.add(m.transactionalId);
              this.startCompletion(shard, m);
            }
          }
        },
        (e: unknown) => {
          shard.state = 'failed';
          this.deps.logLine(`${shard.name}: loading failed (${String(e)}); its transactions are unavailable`);
        },
      ),
    );
  }

  unloadPartition(partition: number): void {
    const shard = this.shards.get(partition);
    if (shard === undefined) return;
    shard.state = 'closed';
    this.shards.delete(partition);
  }

  private track(p: Promise<void>): void {
    const run = p.catch((e: unknown) => this.deps.logLine(`transaction coordinator: ${String(e)}`));
    this.background.add(run);
    void run.finally(() => this.background.delete(run));
  }

  /** Starts the timers that abort timed-out transactions and remove expired ids. */
  start(): void {
    const every = (ms: number, task: () => void): void => {
      let cancel: () => void = () => undefined;
      const arm = (): void => {
        cancel = this.deps.clock.schedule(ms, () => {
          if (this.closed) return;
          task();
          arm();
        });
      };
      arm();
      this.timers.push(() => cancel());
    };
    every(this.deps.config.abortTimedOutIntervalMs, () => this.abortTimedOut());
    every(this.deps.config.removeExpiredIntervalMs, () => this.removeExpired());
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const cancel of this.timers) cancel();
    this.timers = [];
    for (const s of this.shards.values()) s.state = 'closed';
    for (const wake of [...this.sleepers]) wake();
    await Promise.all([...this.background]);
  }

  // ---------------------------------------------------------------- transitions

  /**
   * Runs a transition of `id` alone; `busy` while another is in flight. `work` may hand the
   * transition over (to the background completion of a transaction), which then ends it.
   */
  private async exclusive<T>(
    shard: TxnShard,
    id: string,
    busy: T,
    work: (handOver: () => void) => Promise<T>,
  ): Promise<T> {
    if (shard.transitioning.has(id)) return busy;
    shard.transitioning.add(id);
    let handedOver = false;
    try {
      return await work(() => {
        handedOver = true;
      });
    } finally {
      if (!handedOver) shard.transitioning.delete(id);
    }
  }

  /**
   * Resolves once the previous transaction of `id` has completed (markers written), or after
   * COMPLETION_WAIT_MS: a producer starting its next transaction right after EndTxn would
   * otherwise get CONCURRENT_TRANSACTIONS and back off (300 ms in kafkajs), as Kafka 4's
   * coordinator also avoids by waiting (KAFKA-18654).
   */
  private afterCompletion(shard: TxnShard, id: string): Promise<void> {
    const completion = shard.completions.get(id);
    if (completion === undefined) return Promise.resolve();
    // A waiter that times out leaves the set: a completion retrying its markers for long (a
    // partition without a leader) does not collect one callback per client retry.
    return new Promise<void>((resolve) => {
      const cancel = this.deps.clock.schedule(COMPLETION_WAIT_MS, () => {
        completion.waiters.delete(done);
        resolve();
      });
      const done = (): void => {
        cancel();
        resolve();
      };
      completion.waiters.add(done);
    });
  }

  /** Writes `next` as the state of its id; the error code for the client when it fails. */
  private async persist(shard: TxnShard, next: TxnMetadata | null, id: string): Promise<number> {
    try {
      await shard.write(id, next);
      return ErrorCode.NONE;
    } catch (e) {
      this.deps.logLine(`${shard.name}: writing the state of transactional id ${id} failed: ${String(e)}`);
      return shard.state === 'active' ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.NOT_COORDINATOR;
    }
  }

  // ---------------------------------------------------------------- InitProducerId

  initProducerId(
    shard: TxnShard,
    transactionalId: string,
    transactionTimeoutMs: number,
    expected: { producerId: bigint; producerEpoch: number } | null,
  ): Promise<InitProducerIdResult> {
    const fail = (errorCode: number): InitProducerIdResult => ({
      errorCode,
      producerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
    });
    if (transactionalId === '') return Promise.resolve(fail(ErrorCode.INVALID_REQUEST));
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.deps.config.transactionMaxTimeoutMs) {
      return Promise.resolve(fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT));
    }
    return this.afterCompletion(shard, transactionalId).then(() =>
      this.initProducerIdNow(shard, transactionalId, transactionTimeoutMs, expected, fail),
    );
  }

  private initProducerIdNow(
    shard: TxnShard,
    transactionalId: string,
    transactionTimeoutMs: number,
    expected: { producerId: bigint; producerEpoch: number } | null,
    fail: (errorCode: number) => InitProducerIdResult,
  ): Promise<InitProducerIdResult> {
    return this.exclusive(
      shard,
      transactionalId,
      fail(ErrorCode.CONCURRENT_TRANSACTIONS),
      async (handOver) => {
        const nowMs = this.now();
        let current = shard.txns.get(transactionalId);
        if (current === undefined) {
          current = {
            transactionalId,
            producerId: await this.deps.nextProducerId(),
            previousProducerId: NO_PRODUCER_ID,
            producerEpoch: NO_PRODUCER_EPOCH,
            lastProducerEpoch: NO_PRODUCER_EPOCH,
            transactionTimeoutMs,
            state: TxnState.Empty,
            partitions: new Map(),
            txnStartTimestampMs: -1,
            txnLastUpdateTimestampMs: nowMs,
          };
        }
        if (
          expected !== null &&
          !(
            current.producerEpoch === NO_PRODUCER_EPOCH ||
            expected.producerId === current.producerId ||
            (expected.producerId === current.previousProducerId && isEpochExhausted(expected.producerEpoch))
          )
        ) {
          return fail(ErrorCode.PRODUCER_FENCED);
        }
        switch (current.state) {
          case TxnState.PrepareCommit:
          case TxnState.PrepareAbort:
          case TxnState.PrepareEpochFence:
          case TxnState.Dead:
            return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
          case TxnState.Ongoing: {
            // Fence the producer of the open transaction and abort it; the caller retries.
            const code = await this.beginCompletion(shard, current, false, true, handOver);
            return fail(code === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : code);
          }
          case TxnState.Empty:
          case TxnState.CompleteCommit:
          case TxnState.CompleteAbort:
            break;
        }
        const next = copyMetadata(current);
        if (expected !== null && expected.producerEpoch !== NO_PRODUCER_EPOCH) {
          if (
            expected.producerId === current.producerId &&
            expected.producerEpoch === current.lastProducerEpoch
          ) {
            // A retry of a bump whose answer was lost: the current epoch again.
            return {
              errorCode: ErrorCode.NONE,
              producerId: current.producerId,
              producerEpoch: current.producerEpoch,
            };
          }
          if (
            expected.producerId === current.producerId &&
            expected.producerEpoch !== current.producerEpoch
          ) {
            return fail(ErrorCode.PRODUCER_FENCED);
          }
        }
        if (isEpochExhausted(current.producerEpoch)) {
          next.previousProducerId = current.producerId;
          next.producerId = await this.deps.nextProducerId();
          next.producerEpoch = 0;
          next.lastProducerEpoch = NO_PRODUCER_EPOCH;
        } else {
          next.lastProducerEpoch = current.producerEpoch;
          next.producerEpoch = current.producerEpoch + 1;
        }
        next.transactionTimeoutMs = transactionTimeoutMs;
        next.state = TxnState.Empty;
        next.partitions = new Map();
        next.txnStartTimestampMs = -1;
        next.txnLastUpdateTimestampMs = nowMs;
        const code = await this.persist(shard, next, transactionalId);
        if (code !== ErrorCode.NONE) return fail(code);
        // lastProducerEpoch is not in the record (value version 0): keep it in memory for retries.
        shard.txns.get(transactionalId)!.lastProducerEpoch = next.lastProducerEpoch;
        return { errorCode: ErrorCode.NONE, producerId: next.producerId, producerEpoch: next.producerEpoch };
      },
    );
  }

  // ---------------------------------------------------------------- AddPartitions / AddOffsets

  /** The error of a request from `producerId`/`epoch` for `id`, or null when it may go on. */
  private producerError(shard: TxnShard, id: string, producerId: bigint, epoch: number): number | null {
    const m = shard.txns.get(id);
    if (m === undefined || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (m.producerEpoch !== epoch) return ErrorCode.PRODUCER_FENCED;
    if (shard.transitioning.has(id)) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) {
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
    return null;
  }

  /**
   * Adds partitions to the transaction of `id` (AddPartitionsToTxn, and AddOffsetsToTxn with
   * the group's `__consumer_offsets` partition). One error code for all of them.
   */
  addPartitions(
    shard: TxnShard,
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: TxnPartition[],
  ): Promise<number> {
    if (transactionalId === '') return Promise.resolve(ErrorCode.INVALID_REQUEST);
    return this.afterCompletion(shard, transactionalId).then(() =>
      this.addPartitionsNow(shard, transactionalId, producerId, producerEpoch, partitions),
    );
  }

  private addPartitionsNow(
    shard: TxnShard,
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: TxnPartition[],
  ): Promise<number> {
    const early = this.producerError(shard, transactionalId, producerId, producerEpoch);
    if (early !== null) return Promise.resolve(early);
    return this.exclusive(shard, transactionalId, ErrorCode.CONCURRENT_TRANSACTIONS, async () => {
      const current = shard.txns.get(transactionalId)!;
      const missing = partitions.filter((p) => !current.partitions.has(partitionKey(p.topic, p.partition)));
      if (current.state === TxnState.Ongoing && missing.length === 0) return ErrorCode.NONE;
      const next = copyMetadata(current);
      for (const p of missing) next.partitions.set(partitionKey(p.topic, p.partition), p);
      const nowMs = this.now();
      if (current.state !== TxnState.Ongoing) next.txnStartTimestampMs = nowMs;
      next.state = TxnState.Ongoing;
      next.txnLastUpdateTimestampMs = nowMs;
      return this.persist(shard, next, transactionalId);
    });
  }

  /** AddPartitionsToTxn v4+ verifyOnly: which partitions are in the transaction (no change). */
  verifyPartitions(
    shard: TxnShard,
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: TxnPartition[],
  ): Map<string, number> {
    const out = new Map<string, number>();
    const early = this.producerError(shard, transactionalId, producerId, producerEpoch);
    const m = shard.txns.get(transactionalId);
    for (const p of partitions) {
      const key = partitionKey(p.topic, p.partition);
      if (early !== null) out.set(key, early);
      else
        out.set(
          key,
          m?.state === TxnState.Ongoing && m.partitions.has(key)
            ? ErrorCode.NONE
            : ErrorCode.TRANSACTION_ABORTABLE,
        );
    }
    return out;
  }

  // ---------------------------------------------------------------- EndTxn

  endTxn(
    shard: TxnShard,
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number> {
    if (transactionalId === '') return Promise.resolve(ErrorCode.INVALID_REQUEST);
    const m = shard.txns.get(transactionalId);
    if (m === undefined || m.producerId !== producerId)
      return Promise.resolve(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (m.producerEpoch !== producerEpoch) return Promise.resolve(ErrorCode.PRODUCER_FENCED);
    return this.exclusive(shard, transactionalId, ErrorCode.CONCURRENT_TRANSACTIONS, async (handOver) => {
      const current = shard.txns.get(transactionalId)!;
      switch (current.state) {
        case TxnState.Ongoing:
          return this.beginCompletion(shard, current, commit, false, handOver);
        // A retry of an EndTxn that completed (or is completing): the same outcome is fine.
        case TxnState.CompleteCommit:
        case TxnState.PrepareCommit:
          return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
        case TxnState.CompleteAbort:
        case TxnState.PrepareAbort:
          return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
        case TxnState.Empty:
        case TxnState.Dead:
        case TxnState.PrepareEpochFence:
          return ErrorCode.INVALID_TXN_STATE;
      }
    });
  }

  /**
   * Moves an Ongoing transaction to PrepareCommit/PrepareAbort (with the epoch bumped when
   * `fence`: the open producer is fenced), durably, then finishes it in the background: markers,
   * then CompleteCommit/CompleteAbort. The caller holds the id's transition and hands it over to
   * that background work.
   */
  private async beginCompletion(
    shard: TxnShard,
    current: TxnMetadata,
    commit: boolean,
    fence: boolean,
    handOver: () => void,
  ): Promise<number> {
    const next = copyMetadata(current);
    // At an exhausted epoch Kafka aborts with it; the next InitProducerId rotates the producer id.
    if (fence && !isEpochExhausted(current.producerEpoch)) {
      next.lastProducerEpoch = current.producerEpoch;
      next.producerEpoch = current.producerEpoch + 1;
    }
    next.state = commit ? TxnState.PrepareCommit : TxnState.PrepareAbort;
    next.txnLastUpdateTimestampMs = this.now();
    const code = await this.persist(shard, next, current.transactionalId);
    if (code !== ErrorCode.NONE) return code;
    const prepared = shard.txns.get(current.transactionalId)!;
    prepared.lastProducerEpoch = next.lastProducerEpoch;
    // The id stays in transition until its markers are written and the completion is durable.
    handOver();
    this.startCompletion(shard, prepared);
    return ErrorCode.NONE;
  }

  /** Finishes a prepared transaction in the background; requests for the id may wait for it. */
  private startCompletion(shard: TxnShard, prepared: TxnMetadata): void {
    const id = prepared.transactionalId;
    const waiters = new Set<() => void>();
    const done: Promise<void> = this.complete(shard, prepared).finally(() => {
      if (shard.completions.get(id)?.done === done) shard.completions.delete(id);
      for (const w of waiters) w();
    });
    shard.completions.set(id, { done, waiters });
    this.track(done);
  }

  /** Writes the markers of a prepared transaction, then its Complete state. Holds the id's transition. */
  private async complete(shard: TxnShard, prepared: TxnMetadata): Promise<void> {
    const id = prepared.transactionalId;
    const commit = prepared.state === TxnState.PrepareCommit;
    try {
      // As in Kafka, markers are retried until written or their topic is gone: a partition
      // without its marker could never move its last stable offset past this transaction.
      let remaining = [...prepared.partitions.values()];
      for (
        let delayMs = MARKER_RETRY_MS;
        remaining.length > 0;
        delayMs = Math.min(2 * delayMs, MARKER_RETRY_MAX_MS)
      ) {
        if (shard.state !== 'active' || this.closed) return;
        const results = await this.deps.writeMarkers({
          producerId: prepared.producerId,
          producerEpoch: prepared.producerEpoch,
          coordinatorEpoch: shard.coordinatorEpoch,
          commit,
          partitions: remaining,
        });
        const failed = new Set(
          results
            .filter((r) => r.errorCode !== ErrorCode.NONE && this.deps.partitionExists(r.topic, r.partition))
            .map((r) => partitionKey(r.topic, r.partition)),
        );
        remaining = remaining.filter((p) => failed.has(partitionKey(p.topic, p.partition)));
        if (remaining.length > 0) {
          if (delayMs === MARKER_RETRY_MS) {
            this.deps.logLine(
              `${shard.name}: transaction of ${id}: writing markers to ${remaining.map((p) => `${p.topic}-${p.partition}`).join(', ')} failed; retrying`,
            );
          }
          await this.sleep(delayMs);
        }
      }
      if (shard.state !== 'active') return;
      const done = copyMetadata(shard.txns.get(id) ?? prepared);
      done.state = commit ? TxnState.CompleteCommit : TxnState.CompleteAbort;
      done.partitions = new Map();
      done.txnLastUpdateTimestampMs = this.now();
      const lastEpoch = done.lastProducerEpoch;
      if ((await this.persist(shard, done, id)) === ErrorCode.NONE)
        shard.txns.get(id)!.lastProducerEpoch = lastEpoch;
    } finally {
      shard.transitioning.delete(id);
    }
  }

  // ---------------------------------------------------------------- timers

  /** Waits `ms` on the clock, or until close(). */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.sleepers.delete(wake);
        cancel();
        resolve();
      };
      const cancel = this.deps.clock.schedule(ms, wake);
      this.sleepers.add(wake);
    });
  }

  /** Aborts (fencing their producers) the Ongoing transactions older than their timeout. */
  abortTimedOut(): void {
    const nowMs = this.now();
    for (const shard of this.activeShards()) {
      for (const m of shard.txns.values()) {
        if (m.state !== TxnState.Ongoing || shard.transitioning.has(m.transactionalId)) continue;
        if (nowMs - m.txnStartTimestampMs < m.transactionTimeoutMs) continue;
        this.deps.logLine(
          `${shard.name}: aborting the transaction of ${m.transactionalId} (producer ${m.producerId}), open for longer than its timeout of ${m.transactionTimeoutMs} ms`,
        );
        this.track(
          this.exclusive(shard, m.transactionalId, ErrorCode.CONCURRENT_TRANSACTIONS, async (handOver) => {
            const current = shard.txns.get(m.transactionalId);
            if (current?.state !== TxnState.Ongoing) return ErrorCode.NONE;
            return this.beginCompletion(shard, current, false, true, handOver);
          }).then(() => undefined),
        );
      }
    }
  }

  /** Deletes (tombstones) ids idle in Empty/Complete* for longer than transactional.id.expiration.ms. */
  removeExpired(): void {
    const nowMs = this.now();
    for (const shard of this.activeShards()) {
      for (const m of shard.txns.values()) {
        const idle =
          m.state === TxnState.Empty ||
          m.state === TxnState.CompleteCommit ||
          m.state === TxnState.CompleteAbort;
        if (!idle || shard.transitioning.has(m.transactionalId)) continue;
        if (nowMs - m.txnLastUpdateTimestampMs < this.deps.config.transactionalIdExpirationMs) continue;
        this.track(
          this.exclusive(shard, m.transactionalId, ErrorCode.NONE, () =>
            this.persist(shard, null, m.transactionalId),
          ).then(() => undefined),
        );
      }
    }
  }
}
