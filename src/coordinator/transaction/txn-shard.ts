/**
 * One shard of the transaction coordinator: the transactional ids that hash to one partition of
 * `__transaction_state`, whose log is their only durable state. Loading replays the partition;
 * a change is appended first and applied once the append is durable (Kafka's transaction
 * coordinator completes a state transition only then), so a failed append changes nothing.
 */
import { decodeRecordBatch, encodeRecordBatch, newRecordBatch } from '../../protocol/records/batch.js';
import { BatchSplitter } from '../../protocol/records/batch-view.js';
import type { Clock } from '../../runtime/clock.js';
import type { ShardLog } from '../group-shard.js';
import { decodeTxnRecord, encodeTxnRecord, type TxnMetadata } from './txn-metadata.js';

export type TxnShardState = 'loading' | 'active' | 'failed' | 'closed';

/** Bytes read per step while replaying the partition. */
const LOAD_READ_BYTES = 1024 * 1024;

export class TxnShard {
  readonly partition: number;
  /** The leader epoch of the partition: the coordinator epoch stamped on transaction markers. */
  readonly coordinatorEpoch: number;
  state: TxnShardState = 'loading';
  readonly txns = new Map<string, TxnMetadata>();
  /** Ids with a state transition in flight: other requests for them wait (CONCURRENT_TRANSACTIONS). */
  readonly transitioning = new Set<string>();
  /**
   * Ids whose prepared transaction is being completed (markers, then Complete*): when it will be,
   * and the requests waiting for it (each leaves the set when its wait times out).
   */
  readonly completions = new Map<string, { done: Promise<void>; waiters: Set<() => void> }>();
  private readonly log: ShardLog;
  private readonly clock: Clock;
  private readonly logLine: (m: string) => void;

  constructor(
    partition: number,
    coordinatorEpoch: number,
    log: ShardLog,
    clock: Clock,
    logLine: (m: string) => void,
  ) {
    this.partition = partition;
    this.coordinatorEpoch = coordinatorEpoch;
    this.log = log;
    this.clock = clock;
    this.logLine = logLine;
  }

  get name(): string {
    return `__transaction_state-${this.partition}`;
  }

  /** Replays the partition from its log start; the shard serves requests once this resolves. */
  async load(): Promise<void> {
    let offset = this.log.logStartOffset;
    while (offset < this.log.logEndOffset) {
      const bytes = await this.log.read(offset, LOAD_READ_BYTES);
      if (bytes.length === 0) break;
      const splitter = new BatchSplitter(bytes);
      while (splitter.next()) {
        const batch = decodeRecordBatch(splitter.batch(), { maxDecompressedBytes: 64 * LOAD_READ_BYTES });
        if (!('records' in batch)) throw new Error(`${this.name}: ${batch.message}`);
        offset = Number(batch.baseOffset) + batch.lastOffsetDelta + 1;
        if (batch.isControl) continue;
        for (const r of batch.records) {
          if (r.key === null) continue;
          const decoded = decodeTxnRecord(r.key, r.value);
          if (typeof decoded === 'string') {
            this.logLine(`${this.name}: skipped a malformed record (${decoded})`);
            continue;
          }
          if (decoded.metadata === null) this.txns.delete(decoded.transactionalId);
          else this.txns.set(decoded.transactionalId, decoded.metadata);
        }
      }
      if (splitter.error !== null) throw new Error(`${this.name}: ${splitter.error.message}`);
    }
    if (this.state === 'loading') this.state = 'active';
  }

  /**
   * Appends the new state of `transactionalId` (null: a tombstone) and applies it once durable.
   * Rejects when the append fails; the state is then unchanged.
   */
  async write(transactionalId: string, metadata: TxnMetadata | null): Promise<void> {
    const { key, value } = encodeTxnRecord(transactionalId, metadata);
    const batch = encodeRecordBatch(newRecordBatch([{ key, value, timestamp: this.clock.nowMs() }]), {
      compression: 0,
    });
    await this.log.append(batch);
    if (this.state !== 'active') throw new Error(`${this.name} is no longer served here`);
    if (metadata === null) this.txns.delete(transactionalId);
    else this.txns.set(transactionalId, metadata);
  }
}
