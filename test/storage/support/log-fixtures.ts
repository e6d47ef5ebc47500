/**
 * Fixtures for the partition-log tests: temp folders, configs, batches built with the
 * protocol's encoder, a log opener, and readers that split and validate what a log returns.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';

import { CompressionCodec } from '../../../src/protocol/compression/index.js';
import { DecodeError } from '../../../src/protocol/primitives/errors.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  newRecordBatch,
  type DecodedRecordBatch,
  type ProducerRecord,
} from '../../../src/protocol/records/batch.js';
import { BatchField, BatchSplitter, readInt64Number } from '../../../src/protocol/records/batch-view.js';
import { ManualClock, type Clock } from '../../../src/runtime/clock.js';
import { nodeFileSystem, type FileHandle, type FileSystem } from '../../../src/runtime/fs.js';
import { StorageError } from '../../../src/storage/errors.js';
import { defaultLogConfig, type LogConfigValues } from '../../../src/storage/log-config.js';
import { openPartitionLog } from '../../../src/storage/log-loader.js';
import type { SyncWritePolicy } from '../../../src/storage/sync-writes.js';
import type { PartitionLog } from '../../../src/storage/log.js';

export const T0 = 1_700_000_000_000;

/** A temp folder for a test file; `dir()` hands out fresh partition folders inside it. */
export class TempRoot {
  readonly root: string;
  private n = 0;
  constructor(prefix = 'samsa-log-') {
    this.root = nodeFs.mkdtempSync(`${os.tmpdir()}/${prefix}`);
  }
  /** A new (not yet created) partition folder path. */
  dir(topic = 'topic'): string {
    return `${this.root}/${topic}${this.n++}-0`;
  }
  remove(): void {
    nodeFs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Kafka's defaults with test overrides. */
export function logConfig(overrides: Partial<LogConfigValues> = {}): LogConfigValues {
  return { ...defaultLogConfig(), ...overrides };
}

export interface BatchSpec {
  /** Number of records (default 1). */
  records?: number;
  /** Key prefix; record i has key `${key}-${i}` (default 'k'). */
  key?: string;
  /** Bytes of each value (default 16); values are deterministic from the key. */
  valueBytes?: number;
  /** Timestamp of record i: timestamp + i (default T0). */
  timestamp?: number;
  /** Explicit per-record timestamps (overrides `timestamp`). */
  timestamps?: number[];
  /** Partition leader epoch written by the "producer" (default -1). */
  partitionLeaderEpoch?: number;
}

/** One encoded magic-v2 batch (offsets from 0, as a producer sends it). */
export function makeBatch(spec: BatchSpec = {}): Buffer {
  const n = spec.timestamps?.length ?? spec.records ?? 1;
  const key = spec.key ?? 'k';
  const valueBytes = spec.valueBytes ?? 16;
  const records: ProducerRecord[] = [];
  for (let i = 0; i < n; i++) {
    const k = `${key}-${i}`;
    const value = Buffer.alloc(valueBytes, k);
    records.push({
      key: Buffer.from(k),
      value,
      timestamp: spec.timestamps?.[i] ?? (spec.timestamp ?? T0) + i,
    });
  }
  return encodeRecordBatch(
    newRecordBatch(records, { partitionLeaderEpoch: spec.partitionLeaderEpoch ?? -1 }),
    {
      compression: CompressionCodec.None,
    },
  );
}

export interface SplitBatch {
  baseOffset: number;
  lastOffset: number;
  partitionLeaderEpoch: number;
  maxTimestamp: number;
  bytes: Buffer;
}

/** Splits whole batches, checking framing and CRC of each; fails the test on a partial or bad batch. */
export function splitBatches(buf: Buffer): SplitBatch[] {
  const out: SplitBatch[] = [];
  const it = new BatchSplitter(buf, { verifyCrc: true });
  while (it.next()) {
    const b = it.batch();
    const baseOffset = readInt64Number(b, BatchField.baseOffset);
    out.push({
      baseOffset,
      lastOffset: baseOffset + b.readInt32BE(BatchField.lastOffsetDelta),
      partitionLeaderEpoch: b.readInt32BE(BatchField.partitionLeaderEpoch),
      maxTimestamp: readInt64Number(b, BatchField.maxTimestamp),
      bytes: Buffer.from(b),
    });
  }
  assert.equal(it.error, null, `invalid batch in read result: ${String(it.error)}`);
  assert.equal(it.validBytes, buf.length);
  return out;
}

/** Full decode (CRC checked) of a single batch. */
export function decode(bytes: Buffer): DecodedRecordBatch {
  const d = decodeRecordBatch(bytes, { maxDecompressedBytes: 64 * 1024 * 1024 });
  if (d instanceof DecodeError) assert.fail(`batch does not decode: ${d.message}`);
  return d;
}

export interface OpenSpec {
  dir: string;
  config?: LogConfigValues;
  fs?: FileSystem;
  clock?: Clock;
  cleanShutdown?: boolean;
  recoveryPoint?: number;
  logStartOffset?: number;
  /** When appends are written synchronously (default: the process-wide adaptive budget). */
  syncWrites?: SyncWritePolicy;
}

export interface Opened {
  log: PartitionLog;
  /** Lines the log wrote through its `log` callback (from open on). */
  lines: string[];
}

export async function openLog(spec: OpenSpec): Promise<Opened> {
  const lines: string[] = [];
  const log = await openPartitionLog({
    fs: spec.fs ?? nodeFileSystem,
    clock: spec.clock ?? new ManualClock(T0),
    dir: spec.dir,
    topicPartition: { topic: 'topic', partition: 0 },
    config: spec.config ?? logConfig(),
    recoveryPoint: spec.recoveryPoint ?? 0,
    logStartOffset: spec.logStartOffset ?? 0,
    cleanShutdown: spec.cleanShutdown ?? true,
    log: (m) => lines.push(m),
    ...(spec.syncWrites !== undefined && { syncWrites: spec.syncWrites }),
  });
  return { log, lines };
}

/** Every batch from `from` (default: the log start) to the log end, by repeated reads. */
export async function readAll(
  log: PartitionLog,
  from = log.logStartOffset,
  maxBytes = 64 * 1024,
): Promise<SplitBatch[]> {
  const out: SplitBatch[] = [];
  let offset = from;
  for (let guard = 0; offset < log.logEndOffset; guard++) {
    assert.ok(guard < 1_000_000, 'readAll does not progress');
    const r = await log.read(offset, maxBytes);
    const batches = splitBatches(r.records);
    assert.ok(batches.length > 0, `read at ${offset} (log end ${log.logEndOffset}) returned nothing`);
    const first = batches[0]!;
    assert.ok(
      first.baseOffset <= offset && offset <= first.lastOffset,
      `read at ${offset} started at batch [${first.baseOffset}, ${first.lastOffset}]`,
    );
    for (const b of batches) {
      if (out.length > 0)
        assert.equal(b.baseOffset, out[out.length - 1]!.lastOffset + 1, 'offsets not continuous');
      out.push(b);
    }
    offset = batches[batches.length - 1]!.lastOffset + 1;
  }
  return out;
}

/** Asserts that `p` rejects with a StorageError carrying `errorCode`; returns the error. */
export async function rejectsStorage(
  p: Promise<unknown>,
  errorCode: number,
  message?: RegExp,
): Promise<StorageError> {
  let caught: unknown = null;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== null, 'expected a rejection');
  assert.ok(
    caught instanceof StorageError,
    `expected a StorageError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : typeof caught}`,
  );
  assert.equal(caught.errorCode, errorCode, `error code of: ${caught.message}`);
  if (message !== undefined) assert.match(caught.message, message);
  return caught;
}

/** Segment `.log` files in a folder, sorted. */
export function logFiles(dir: string): string[] {
  return nodeFs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort();
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** A copy of a buffer (appends patch their input in place; tests keep what was acknowledged). */
export function copy(buf: Buffer): Buffer {
  return Buffer.from(buf);
}

/**
 * `inner` with handles that only write asynchronously (no `writeSync`): the log's path for
 * appends larger than its synchronous bound, or for file systems that cannot write synchronously.
 */
export function asyncWritesOnly(inner: FileSystem = nodeFileSystem): FileSystem {
  return mapHandles(inner, (h) => {
    delete h.writeSync;
    return h;
  });
}

/** A handle forwarding every call to `h` (a plain object: its methods can be spread and replaced). */
export function forwardingHandle(h: FileHandle): FileHandle {
  return {
    path: h.path,
    writev: (c, p) => h.writev(c, p),
    ...(h.writeSync !== undefined && { writeSync: (c: readonly Buffer[], p: number) => h.writeSync!(c, p) }),
    read: (i, o, l, p) => h.read(i, o, l, p),
    sync: () => h.sync(),
    truncate: (s) => h.truncate(s),
    sizeBytes: () => h.sizeBytes(),
    close: () => h.close(),
  };
}

/** `inner` with each opened handle replaced by `change(forwarding handle, path)`. */
export function mapHandles(
  inner: FileSystem,
  change: (h: FileHandle, path: string) => FileHandle,
): FileSystem {
  return {
    ...inner,
    open: async (path, mode) => change(forwardingHandle(await inner.open(path, mode)), path),
  };
}

/**
 * The real file system without fsyncs (sync, syncDir and the syncs inside writeFileAtomic do
 * nothing). For simulated crashes, whose durability model lives in FaultyFileSystem: the disk's
 * own durability does not matter there, and real fsyncs would only make the runs slow.
 */
export function withoutFsync(inner: FileSystem = nodeFileSystem): FileSystem {
  return {
    ...mapHandles(inner, (h) => ({ ...h, sync: () => Promise.resolve() })),
    async writeFileAtomic(path, data) {
      const tmpPath = `${path}.tmp`;
      const h = await inner.open(tmpPath, 'create');
      try {
        await h.truncate(0);
        await h.writev([typeof data === 'string' ? Buffer.from(data, 'utf8') : data], 0);
      } finally {
        await h.close();
      }
      await inner.rename(tmpPath, path);
    },
    syncDir: () => Promise.resolve(),
  };
}
