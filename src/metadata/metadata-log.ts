/**
 * The metadata log: where metadata records are appended and replayed from. This interface is
 * the seam the Raft quorum takes over; `LocalMetadataLog` is the single-node implementation, a
 * partition log `__cluster_metadata-0` in the metadata folder whose every append is fsynced
 * before it counts (metadata must survive any crash).
 */
import { decodeRecordBatch, encodeRecordBatch, newRecordBatch } from '../protocol/records/batch.js';
import { BatchSplitter } from '../protocol/records/batch-view.js';
import type { Clock } from '../runtime/clock.js';
import type { FileSystem } from '../runtime/fs.js';
import { openPartitionLog } from '../storage/log-loader.js';
import { defaultLogConfig, parseLogConfig, isConfigError } from '../storage/log-config.js';
import type { PartitionLog } from '../storage/log.js';
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from './records.js';

export const METADATA_TOPIC = '__cluster_metadata';

export interface MetadataLog {
  /** Appends records as one atomic batch; resolves with the offset of the last one once committed. */
  append(records: readonly MetadataRecord[]): Promise<number>;
  /** Calls `visit` for every committed batch, in order, from the start. */
  replay(visit: (records: MetadataRecord[], lastOffset: number) => void): Promise<void>;
  close(): Promise<void>;
}

/** Largest metadata batch read back at once when replaying. */
const REPLAY_READ_BYTES = 8 * 1024 * 1024;

export class LocalMetadataLog implements MetadataLog {
  private readonly log: PartitionLog;
  private readonly clock: Clock;

  private constructor(log: PartitionLog, clock: Clock) {
    this.log = log;
    this.clock = clock;
  }

  /** Opens (creating) `<dir>/__cluster_metadata-0`, recovering it if needed. */
  static async open(o: {
    fs: FileSystem;
    clock: Clock;
    dir: string;
    cleanShutdown: boolean;
    log: (message: string) => void;
  }): Promise<LocalMetadataLog> {
    // Every append fsynced; never deleted by retention; large batches allowed.
    const config = parseLogConfig(
      { 'flush.messages': '1', 'retention.ms': '-1', 'max.message.bytes': String(REPLAY_READ_BYTES) },
      defaultLogConfig(),
    );
    if (isConfigError(config)) throw new Error(config.message);
    const log = await openPartitionLog({
      fs: o.fs,
      clock: o.clock,
      dir: `${o.dir}/${METADATA_TOPIC}-0`,
      topicPartition: { topic: METADATA_TOPIC, partition: 0 },
      config,
      recoveryPoint: 0,
      logStartOffset: 0,
      cleanShutdown: o.cleanShutdown,
      log: o.log,
    });
    return new LocalMetadataLog(log, o.clock);
  }

  async append(records: readonly MetadataRecord[]): Promise<number> {
    const nowMs = this.clock.nowMs();
    const batch = encodeRecordBatch(
      newRecordBatch(records.map((r) => ({ key: null, value: encodeMetadataRecord(r), timestamp: nowMs }))),
      { compression: 0 },
    );
    const info = await this.log.appendAsLeader(batch, 0);
    return info.lastOffset;
  }

  async replay(visit: (records: MetadataRecord[], lastOffset: number) => void): Promise<void> {
    let offset = this.log.logStartOffset;
    while (offset < this.log.logEndOffset) {
      const { records } = await this.log.read(offset, REPLAY_READ_BYTES);
      if (records.length === 0) break;
      const splitter = new BatchSplitter(records);
      while (splitter.next()) {
        const batch = decodeRecordBatch(splitter.batch(), { maxDecompressedBytes: 64 * REPLAY_READ_BYTES });
        if (!('records' in batch)) throw new Error(`metadata log: ${batch.message}`);
        const decoded: MetadataRecord[] = [];
        for (const rec of batch.records) {
          if (rec.value === null) continue;
          const m = decodeMetadataRecord(rec.value);
          if (typeof m === 'string') throw new Error(`metadata log at offset ${batch.baseOffset}: ${m}`);
          decoded.push(m);
        }
        const last = Number(batch.baseOffset) + batch.lastOffsetDelta;
        if (!batch.isControl) visit(decoded, last);
        offset = last + 1;
      }
    }
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
