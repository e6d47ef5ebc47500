/**
 * The log cleaner: latest value per key with offsets preserved, tombstones and their delete
 * horizon, dirty ratio and compaction lags, transactions (aborted data dropped, markers kept),
 * the offset map's memory bound, crash safety at every step of the swap (frozen there, and with
 * a simulated power loss), and an event loop that keeps running during a large clean.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';

import { CompressionCodec } from '../../src/protocol/compression/index.js';
import {
  buildEndTxnMarkerBatch,
  decodeRecordBatch,
  encodeRecordBatch,
  newRecordBatch,
  recordTimestamp,
  type DecodedRecordBatch,
} from '../../src/protocol/records/batch.js';
import { BatchSplitter } from '../../src/protocol/records/batch-view.js';
import { DecodeError } from '../../src/protocol/primitives/errors.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { FaultyFileSystem } from '../../src/runtime/faulty-fs.js';
import { nodeFileSystem, type FileSystem } from '../../src/runtime/fs.js';
import { LogCleaner, type CleanerStep, type LogCleanerDeps } from '../../src/storage/cleaner.js';
import { OffsetMap, offsetMapKey } from '../../src/storage/cleaner-offset-map.js';
import { defaultLogConfig, type LogConfigValues } from '../../src/storage/log-config.js';
import { openPartitionLog } from '../../src/storage/log-loader.js';
import type { PartitionLog } from '../../src/storage/log.js';

const root = nodeFs.mkdtempSync(os.tmpdir() + '/samsa-cleaner-');
after(() => nodeFs.rmSync(root, { recursive: true, force: true }));

let counter = 0;
function freshDir(): string {
  return `${root}/topic-${counter++}`;
}

const RETENTION_MS = 10_000;

function compactConfig(overrides: Partial<LogConfigValues> = {}): LogConfigValues {
  return {
    ...defaultLogConfig(),
    cleanupPolicy: { compact: true, delete: false },
    segmentBytes: 2048,
    indexIntervalBytes: 256,
    minCleanableDirtyRatio: 0,
    deleteRetentionMs: RETENTION_MS,
    fileDeleteDelayMs: 0,
    ...overrides,
  };
}

interface Opened {
  log: PartitionLog;
  dir: string;
  config: LogConfigValues;
  clock: ManualClock;
  fs: FileSystem;
}

async function openLog(
  dir: string,
  config: LogConfigValues,
  clock: ManualClock,
  opts: { fs?: FileSystem; cleanShutdown?: boolean; log?: (message: string) => void } = {},
): Promise<Opened> {
  const fs = opts.fs ?? nodeFileSystem;
  const log = await openPartitionLog({
    fs,
    clock,
    dir,
    topicPartition: { topic: 'compacted', partition: 0 },
    config,
    recoveryPoint: 0,
    logStartOffset: 0,
    cleanShutdown: opts.cleanShutdown ?? true,
    log: opts.log ?? (() => undefined),
  });
  return { log, dir, config, clock, fs };
}

// ---------------------------------------------------------------------------------------------
// A workload and its model

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
  /** Producer id of a transactional record, and how its transaction ended. */
  txn?: { pid: number; outcome: 'commit' | 'abort' | 'open' };
}

interface Put {
  key: string | null;
  value: string | null;
}

interface AppendOpts {
  codec?: CompressionCodec;
  pid?: number;
  transactional?: boolean;
}

/** Appends keyed batches to a log and remembers every record. */
class Writer {
  readonly records: Rec[] = [];
  private readonly openTxn = new Map<number, Rec[]>();
  private readonly sequences = new Map<number, number>();
  constructor(
    readonly log: PartitionLog,
    readonly clock: ManualClock,
  ) {}

  async append(puts: Put[], opts: AppendOpts = {}): Promise<Rec[]> {
    const timestamp = this.clock.nowMs();
    const pid = opts.pid ?? -1;
    const seq = pid >= 0 ? (this.sequences.get(pid) ?? 0) : -1;
    if (pid >= 0) this.sequences.set(pid, seq + puts.length);
    const batch = newRecordBatch(
      puts.map((p) => ({
        key: p.key === null ? null : Buffer.from(p.key),
        value: p.value === null ? null : Buffer.from(p.value),
        timestamp,
        headers: [{ key: 'h', value: Buffer.from('x') }],
      })),
      {
        producerId: BigInt(pid),
        producerEpoch: pid >= 0 ? 0 : -1,
        baseSequence: seq,
        isTransactional: opts.transactional === true,
      },
    );
    const info = await this.log.appendAsLeader(
      encodeRecordBatch(batch, { compression: opts.codec ?? CompressionCodec.None }),
      0,
    );
    const recs = puts.map((p, i) => ({
      offset: info.firstOffset + i,
      key: p.key,
      value: p.value,
      timestamp,
    }));
    if (opts.transactional === true) {
      const txn: NonNullable<Rec['txn']> = { pid, outcome: 'open' };
      for (const r of recs) (r as Rec).txn = txn;
      const list = this.openTxn.get(pid) ?? [];
      list.push(...recs);
      this.openTxn.set(pid, list);
    }
    this.records.push(...recs);
    return recs;
  }

  async endTxn(pid: number, commit: boolean): Promise<number> {
    const info = await this.log.appendAsLeader(
      buildEndTxnMarkerBatch({
        producerId: BigInt(pid),
        producerEpoch: 0,
        coordinatorEpoch: 0,
        commit,
        timestamp: this.clock.nowMs(),
      }),
      0,
    );
    for (const r of this.openTxn.get(pid) ?? []) r.txn!.outcome = commit ? 'commit' : 'abort';
    this.openTxn.delete(pid);
    return info.firstOffset;
  }
}

/**
 * What a full clean of [0, end) must leave, in offset order: keyless records, the latest
 * committed record of each key (tombstones unless `tombstonesGone`), records of open
 * transactions, and everything from `end` on.
 */
function expectedAfterClean(records: Rec[], end: number, tombstonesGone: boolean): Rec[] {
  const latest = new Map<string, number>();
  for (const r of records) {
    if (r.offset >= end || r.key === null) continue;
    if (r.txn !== undefined && r.txn.outcome !== 'commit') continue;
    latest.set(r.key, Math.max(latest.get(r.key) ?? -1, r.offset));
  }
  return records.filter((r) => {
    if (r.offset >= end) return true;
    if (r.txn?.outcome === 'abort') return false;
    if (r.key === null) return true;
    const l = latest.get(r.key);
    if (l !== undefined && l > r.offset) return false;
    if (r.txn?.outcome === 'open') return true;
    return !(r.value === null && tombstonesGone);
  });
}

interface ReadRec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

interface ReadBack {
  records: ReadRec[];
  batches: DecodedRecordBatch[];
}

/** Reads the whole log from its start, batch by batch. */
async function readAll(log: PartitionLog): Promise<ReadBack> {
  const records: ReadRec[] = [];
  const batches: DecodedRecordBatch[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, 64 * 1024);
    if (r.records.length === 0) break;
    const splitter = new BatchSplitter(r.records, { verifyCrc: true });
    while (splitter.next()) {
      const batch = decodeRecordBatch(splitter.batch(), { maxDecompressedBytes: 1 << 26 });
      assert.ok(!(batch instanceof DecodeError), batch instanceof DecodeError ? batch.message : '');
      batches.push(batch);
      if (!batch.isControl) {
        for (const rec of batch.records) {
          const o = Number(batch.baseOffset) + rec.offsetDelta;
          if (o < offset) continue;
          records.push({
            offset: o,
            key: rec.key === null ? null : rec.key.toString(),
            value: rec.value === null ? null : rec.value.toString(),
            timestamp: recordTimestamp(batch, rec),
          });
        }
      }
      offset = Number(batch.baseOffset) + batch.lastOffsetDelta + 1;
    }
    assert.equal(splitter.error, null);
  }
  return { records, batches };
}

function summary(recs: readonly { offset: number; key: string | null; value: string | null }[]): string[] {
  return recs.map((r) => `${r.offset}:${r.key}=${r.value}`);
}

/** Offsets strictly increasing, each record as written at its offset, and every `required` one present. */
function assertSubsetOfOriginal(got: ReadRec[], original: Rec[], required: Rec[]): void {
  const byOffset = new Map(original.map((r) => [r.offset, r]));
  let last = -1;
  for (const r of got) {
    assert.ok(r.offset > last, `offset ${r.offset} after ${last}: duplicated or out of order`);
    last = r.offset;
    const o = byOffset.get(r.offset);
    assert.ok(o !== undefined, `offset ${r.offset} was never written`);
    assert.deepEqual([r.key, r.value], [o.key, o.value], `record at offset ${r.offset}`);
  }
  const have = new Set(got.map((r) => r.offset));
  for (const r of required)
    assert.ok(have.has(r.offset), `record ${r.offset} (${r.key}=${r.value}) was lost`);
}

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CODECS = [CompressionCodec.None, CompressionCodec.Gzip, CompressionCodec.Zstd, CompressionCodec.Lz4];

/** Updates of `keys` keys in small batches of varied codecs, some tombstones and keyless records. */
async function keyedWorkload(w: Writer, batches: number, keys: number, seed = 1): Promise<void> {
  const rnd = mulberry(seed);
  for (let i = 0; i < batches; i++) {
    const n = 1 + Math.floor(rnd() * 4);
    const puts: Put[] = [];
    for (let j = 0; j < n; j++) {
      const r = rnd();
      const key = r < 0.03 ? null : `key-${Math.floor(rnd() * keys)}`;
      const value = key !== null && r > 0.9 ? null : `v${i}.${j}-${'x'.repeat(Math.floor(rnd() * 40))}`;
      puts.push({ key, value });
    }
    await w.append(puts, { codec: CODECS[i % CODECS.length]! });
    if (i % 10 === 0) w.clock.advance(1);
  }
}

function listDir(dir: string): string[] {
  return nodeFs.readdirSync(dir).sort();
}

function newCleaner(clock: ManualClock, deps: Partial<LogCleanerDeps> = {}): LogCleaner {
  return new LogCleaner({ clock, ...deps });
}

// ---------------------------------------------------------------------------------------------

void describe('OffsetMap', () => {
  void test('keeps the largest offset per key; long keys are hashed; short and hashed keys never collide', () => {
    const map = new OffsetMap(10);
    map.put(Buffer.from('a'), 5);
    map.put(Buffer.from('a'), 3);
    map.put(Buffer.from('b'.repeat(100)), 7);
    assert.equal(map.get(Buffer.from('a')), 5);
    assert.equal(map.get(Buffer.from('b'.repeat(100))), 7);
    assert.equal(map.get(Buffer.from('b'.repeat(99))), -1);
    assert.equal(map.size, 2);
    assert.equal(map.latestOffset, 7);
    assert.ok(map.fits(8), 'map.fits(8)');
    assert.ok(!map.fits(9), '!map.fits(9)');
    assert.notEqual(offsetMapKey(Buffer.alloc(32, 1)), offsetMapKey(Buffer.alloc(33, 1)));
    assert.equal(offsetMapKey(Buffer.alloc(33, 1)).length, 17);
  });
});

void describe('LogCleaner: compaction', () => {
  void test('keeps exactly the latest value per key at its original offset; the active segment is untouched', async () => {
    const clock = new ManualClock();
    const { log } = await openLog(freshDir(), compactConfig(), clock);
    const w = new Writer(log, clock);
    await keyedWorkload(w, 400, 40);
    const active = log.activeSegment;
    const activeSize = active.sizeBytes;
    const activeBase = active.baseOffset;
    const before = await readAll(log);
    const segmentsBefore = log.segments.length;
    assert.ok(segmentsBefore > 10, `only ${segmentsBefore} segments`);

    const cleaner = newCleaner(clock);
    const part = await cleaner.cleanablePart(log, 0);
    assert.equal(part.firstDirtyOffset, 0);
    assert.equal(part.firstUncleanableOffset, activeBase);
    assert.equal(part.cleanBytes, 0);
    assert.equal(part.dirtyRatio, 1);
    assert.ok(part.shouldClean, 'part.shouldClean');

    const result = await cleaner.clean(log, 0);
    assert.ok(result !== null && result.complete, 'result !== null && result.complete');
    assert.equal(result.cleanedUpTo, activeBase);
    assert.ok(result.recordsRemoved > 0, 'result.recordsRemoved > 0');
    assert.ok(result.bytesAfter < result.bytesBefore, 'result.bytesAfter < result.bytesBefore');

    // The active segment: same object, same bytes, and nothing at or past it changed.
    assert.equal(log.activeSegment, active);
    assert.equal(active.sizeBytes, activeSize);
    const after = await readAll(log);
    assert.deepEqual(summary(after.records), summary(expectedAfterClean(w.records, activeBase, false)));
    assert.deepEqual(
      summary(after.records.filter((r) => r.offset >= activeBase)),
      summary(before.records.filter((r) => r.offset >= activeBase)),
    );
    // Timestamps and headers survive re-encoding.
    const ts = new Map(w.records.map((r) => [r.offset, r.timestamp]));
    for (const r of after.records) assert.equal(r.timestamp, ts.get(r.offset), `timestamp at ${r.offset}`);
    for (const b of after.batches) for (const r of b.records) assert.equal(r.headers[0]?.key, 'h');
    // Each cleaned segment still ends where the next begins (its last batch is kept).
    for (let i = 0; i < log.segments.length - 1; i++) {
      const s = log.segments[i]!;
      await s.indexes();
      assert.equal(s.nextOffset, log.segments[i + 1]!.baseOffset);
    }
    assert.deepEqual(
      listDir(log.dir).filter((n) => /\.(cleaned|swap|deleted)$/.test(n)),
      [],
    );

    // Cleaning again changes nothing; reopening gives the same log.
    assert.equal(await cleaner.clean(log, result.cleanedUpTo), null);
    const again = await cleaner.clean(log, 0, { force: true });
    assert.ok(again !== null, 'again !== null');
    assert.equal(again.recordsRemoved, 0);
    // This time the small cleaned segments merge into fewer (groups of up to segment.bytes).
    assert.ok(
      log.segments.length < segmentsBefore,
      `${log.segments.length} segments, ${segmentsBefore} before`,
    );
    assert.deepEqual(summary((await readAll(log)).records), summary(after.records));
    await log.close();
    const reopened = await openLog(log.dir, compactConfig(), clock);
    assert.deepEqual(summary((await readAll(reopened.log)).records), summary(after.records));
    // Reads from any offset land on the first record at or after it.
    const kept = after.records.map((r) => r.offset);
    for (const probe of [0, 1, 17, 99, activeBase - 1]) {
      const r = await reopened.log.read(probe, 1);
      const splitter = new BatchSplitter(r.records);
      assert.ok(splitter.next(), 'splitter.next()');
      const b = decodeRecordBatch(splitter.batch(), { maxDecompressedBytes: 1 << 26 });
      assert.ok(!(b instanceof DecodeError), '!(b instanceof DecodeError)');
      assert.ok(
        Number(b.baseOffset) + b.lastOffsetDelta >= probe,
        'Number(b.baseOffset) + b.lastOffsetDelta >= probe',
      );
      const firstKept = kept.find((o) => o >= probe);
      const inBatch = b.records.map((x) => Number(b.baseOffset) + x.offsetDelta).filter((o) => o >= probe);
      if (inBatch.length > 0) assert.equal(inBatch[0], firstKept);
    }
    await reopened.log.close();
  });

  void test('keeps tombstones until delete.retention.ms after they were first cleaned, then removes them', async () => {
    const clock = new ManualClock();
    const { log } = await openLog(freshDir(), compactConfig(), clock);
    const w = new Writer(log, clock);
    for (let i = 0; i < 30; i++) await w.append([{ key: `k${i % 10}`, value: `a${i}` }]);
    await w.append([
      { key: 'k1', value: null },
      { key: 'k2', value: null },
    ]);
    await w.append([{ key: 'k3', value: null }]);
    await w.append([{ key: 'k3', value: 'back' }]); // a tombstone superseded by a later value
    for (let i = 0; i < 30; i++) await w.append([{ key: `other${i % 5}`, value: `b${i}` }]);
    await log.rollNow();
    const end = log.activeSegment.baseOffset;

    const cleaner = newCleaner(clock);
    const first = await cleaner.clean(log, 0);
    assert.ok(first !== null, 'first !== null');
    let got = await readAll(log);
    assert.deepEqual(summary(got.records), summary(expectedAfterClean(w.records, end, false)));
    const tombstones = got.records.filter((r) => r.value === null).map((r) => r.key);
    assert.deepEqual(tombstones, ['k1', 'k2']);
    // The batch holding them carries the delete horizon, and record timestamps did not move.
    const horizonBatch = got.batches.find((b) => b.records.some((r) => r.value === null))!;
    assert.ok(horizonBatch.hasDeleteHorizon, 'horizonBatch.hasDeleteHorizon');
    assert.equal(horizonBatch.baseTimestamp, clock.nowMs() + RETENTION_MS);
    const ts = new Map(w.records.map((r) => [r.offset, r.timestamp]));
    for (const r of got.records) assert.equal(r.timestamp, ts.get(r.offset));

    // Before the horizon: nothing due, and a forced clean keeps them.
    clock.advance(RETENTION_MS - 1);
    assert.equal((await cleaner.cleanablePart(log, first.cleanedUpTo)).deleteHorizonDue, false);
    assert.equal(await cleaner.clean(log, first.cleanedUpTo), null);
    await cleaner.clean(log, first.cleanedUpTo, { force: true });
    got = await readAll(log);
    assert.equal(got.records.filter((r) => r.value === null).length, 2);

    // After it: due even with nothing dirty, and the clean drops them.
    clock.advance(2);
    const part = await cleaner.cleanablePart(log, first.cleanedUpTo);
    assert.equal(part.dirtyBytes, 0);
    assert.ok(part.deleteHorizonDue && part.shouldClean, 'part.deleteHorizonDue && part.shouldClean');
    const second = await cleaner.clean(log, first.cleanedUpTo);
    assert.ok(second !== null, 'second !== null');
    assert.equal(second.tombstonesRemoved, 2);
    got = await readAll(log);
    assert.deepEqual(summary(got.records), summary(expectedAfterClean(w.records, end, true)));
    assert.equal(got.records.filter((r) => r.value === null).length, 0);
    assert.equal((await cleaner.cleanablePart(log, second.cleanedUpTo)).shouldClean, false);
    await log.close();
  });

  void test('respects min.cleanable.dirty.ratio', async () => {
    const clock = new ManualClock();
    const { log } = await openLog(freshDir(), compactConfig({ minCleanableDirtyRatio: 0.5 }), clock);
    const w = new Writer(log, clock);
    for (let i = 0; i < 200; i++) await w.append([{ key: `k${i}`, value: `v${i}-${'y'.repeat(30)}` }]);
    await log.rollNow();
    const cleaner = newCleaner(clock);
    const first = await cleaner.clean(log, 0);
    assert.ok(first !== null, 'first !== null');
    // A little dirt: below the ratio, nothing happens.
    for (let i = 0; i < 20; i++) await w.append([{ key: `k${i}`, value: `new${i}` }]);
    await log.rollNow();
    const part = await cleaner.cleanablePart(log, first.cleanedUpTo);
    assert.ok(part.dirtyBytes > 0 && part.dirtyRatio < 0.5, `ratio ${part.dirtyRatio}`);
    assert.equal(part.shouldClean, false);
    assert.equal(await cleaner.clean(log, first.cleanedUpTo), null);
    // Enough dirt: cleaned.
    for (let i = 20; i < 200; i++) await w.append([{ key: `k${i}`, value: `new${i}-${'y'.repeat(60)}` }]);
    await log.rollNow();
    const part2 = await cleaner.cleanablePart(log, first.cleanedUpTo);
    assert.ok(part2.dirtyRatio >= 0.5, `ratio ${part2.dirtyRatio}`);
    const second = await cleaner.clean(log, first.cleanedUpTo);
    assert.ok(second !== null, 'second !== null');
    assert.equal(second.recordsRemoved, 200);
    const got = await readAll(log);
    assert.deepEqual(
      summary(got.records),
      summary(expectedAfterClean(w.records, log.activeSegment.baseOffset, false)),
    );
    await log.close();
  });

  void test('respects min.compaction.lag.ms, and max.compaction.lag.ms forces a clean below the ratio', async () => {
    const clock = new ManualClock();
    const config = compactConfig({ minCompactionLagMs: 60_000, minCleanableDirtyRatio: 0.99 });
    const { log } = await openLog(freshDir(), config, clock);
    const w = new Writer(log, clock);
    for (let i = 0; i < 100; i++) await w.append([{ key: `k${i % 10}`, value: `old${i}-${'z'.repeat(20)}` }]);
    await log.rollNow();
    const oldEnd = log.activeSegment.baseOffset;
    clock.advance(30_000);
    for (let i = 0; i < 100; i++)
      await w.append([{ key: `k${i % 10}`, value: `young${i}-${'z'.repeat(20)}` }]);
    await log.rollNow();
    const cleaner = newCleaner(clock);

    // Everything is younger than the lag: nothing cleanable.
    clock.advance(1_000);
    let part = await cleaner.cleanablePart(log, 0);
    assert.equal(part.firstUncleanableOffset, 0);
    assert.equal(await cleaner.clean(log, 0, { force: true }), null);

    // The old half is past the lag, the young half not: only the old half is cleaned.
    clock.advance(30_000);
    part = await cleaner.cleanablePart(log, 0);
    assert.equal(part.firstUncleanableOffset, oldEnd);
    const result = await cleaner.clean(log, 0, { force: true });
    assert.ok(result !== null, 'result !== null');
    assert.equal(result.cleanedUpTo, oldEnd);
    const got = await readAll(log);
    assert.deepEqual(summary(got.records), summary(expectedAfterClean(w.records, oldEnd, false)));
    await log.close();

    // max.compaction.lag.ms: dirty ratio far below the minimum, but the dirt is too old.
    const clock2 = new ManualClock();
    const config2 = compactConfig({ minCleanableDirtyRatio: 1, maxCompactionLagMs: 5_000 });
    const { log: log2 } = await openLog(freshDir(), config2, clock2);
    const w2 = new Writer(log2, clock2);
    for (let i = 0; i < 200; i++) await w2.append([{ key: `k${i}`, value: `v${i}` }]);
    await log2.rollNow();
    const c2 = newCleaner(clock2);
    const first = await c2.clean(log2, 0, { force: true });
    assert.ok(first !== null, 'first !== null');
    await w2.append([{ key: 'k1', value: 'update' }]);
    await log2.rollNow();
    let p2 = await c2.cleanablePart(log2, first.cleanedUpTo);
    assert.ok(p2.dirtyRatio < 1, 'p2.dirtyRatio < 1');
    assert.equal(p2.maxCompactionLagExceeded, false);
    assert.equal(await c2.clean(log2, first.cleanedUpTo), null);
    clock2.advance(5_001);
    p2 = await c2.cleanablePart(log2, first.cleanedUpTo);
    assert.ok(p2.maxCompactionLagExceeded && p2.shouldClean, 'p2.maxCompactionLagExceeded && p2.shouldClean');
    const forced = await c2.clean(log2, first.cleanedUpTo);
    assert.ok(forced !== null, 'forced !== null');
    assert.equal(forced.recordsRemoved, 1);
    await log2.close();
  });

  void test('does nothing for cleanup.policy=delete, and cleans compact,delete', async () => {
    const clock = new ManualClock();
    const { log } = await openLog(
      freshDir(),
      compactConfig({ cleanupPolicy: { compact: false, delete: true } }),
      clock,
    );
    const w = new Writer(log, clock);
    for (let i = 0; i < 100; i++) await w.append([{ key: 'same', value: `v${i}` }]);
    await log.rollNow();
    const cleaner = newCleaner(clock);
    assert.equal(await cleaner.clean(log, 0, { force: true }), null);
    log.config = compactConfig({ cleanupPolicy: { compact: true, delete: true } });
    const result = await cleaner.clean(log, 0);
    assert.ok(result !== null, 'result !== null');
    assert.deepEqual(summary((await readAll(log)).records), [`99:same=v99`]);
    await log.close();
  });

  void test('maxCleanableOffset (the last stable offset) bounds the clean', async () => {
    const clock = new ManualClock();
    const { log } = await openLog(freshDir(), compactConfig(), clock);
    const w = new Writer(log, clock);
    for (let i = 0; i < 300; i++) await w.append([{ key: `k${i % 7}`, value: `v${i}` }]);
    await log.rollNow();
    const cleaner = newCleaner(clock);
    const result = await cleaner.clean(log, 0, { maxCleanableOffset: 150 });
    assert.ok(result !== null, 'result !== null');
    assert.ok(result.cleanedUpTo <= 150, 'result.cleanedUpTo <= 150');
    const got = await readAll(log);
    assert.deepEqual(summary(got.records), summary(expectedAfterClean(w.records, result.cleanedUpTo, false)));
    await log.close();
  });

  void test('a full offset map cleans the prefix that fits; repeated cleans finish the job', async () => {
    const clock = new ManualClock();
    const { log } = await openLog(freshDir(), compactConfig(), clock);
    const w = new Writer(log, clock);
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 40; k++) await w.append([{ key: `k${k}`, value: `r${round}-${k}` }]);
    }
    await log.rollNow();
    const end = log.activeSegment.baseOffset;
    const cleaner = newCleaner(clock, { maxOffsetMapEntries: 15 });
    let checkpoint = 0;
    let cleans = 0;
    while (checkpoint < end) {
      const result = await cleaner.clean(log, checkpoint);
      assert.ok(result !== null && result.complete, 'result !== null && result.complete');
      assert.ok(result.mappedKeys <= 15, 'result.mappedKeys <= 15');
      assert.ok(result.cleanedUpTo > checkpoint, 'progress');
      // At every step the log is exactly "clean below the checkpoint", up to superseded dirt.
      const got = await readAll(log);
      assertSubsetOfOriginal(got.records, w.records, expectedAfterClean(w.records, end, false));
      checkpoint = result.cleanedUpTo;
      cleans++;
    }
    assert.ok(cleans >= 3, `${cleans} cleans`);
    const got = await readAll(log);
    assert.deepEqual(summary(got.records), summary(expectedAfterClean(w.records, end, false)));
    assert.equal(got.records.length, 40);
    await log.close();
  });
});

void describe('LogCleaner: transactions and producers', () => {
  void test('drops aborted data (which never supersedes), keeps committed data, open transactions and every marker', async () => {
    const clock = new ManualClock();
    const { log } = await openLog(freshDir(), compactConfig(), clock);
    const w = new Writer(log, clock);
    await w.append([
      { key: 'a', value: 'a0' },
      { key: 'b', value: 'b0' },
      { key: 'c', value: 'c0' },
      { key: 'd', value: 'd0' },
    ]);
    // Producer 7 commits an update of b; producer 8 aborts updates of a and c.
    await w.append([{ key: 'b', value: 'b-committed' }], { pid: 7, transactional: true });
    await w.append([{ key: 'a', value: 'a-aborted' }], { pid: 8, transactional: true });
    await w.append(
      [
        { key: 'c', value: 'c-aborted' },
        { key: 'x', value: 'x-aborted' },
      ],
      {
        pid: 8,
        transactional: true,
      },
    );
    await w.endTxn(7, true);
    await w.endTxn(8, false);
    // Producer 9's transaction (an update of d) ends only in the active segment.
    await w.append([{ key: 'd', value: 'd-late-commit' }], {
      pid: 9,
      transactional: true,
      codec: CompressionCodec.Gzip,
    });
    // Producer 10 never ends its transaction on c.
    await w.append([{ key: 'c', value: 'c-open' }], { pid: 10, transactional: true });
    for (let i = 0; i < 40; i++)
      await w.append([{ key: `filler${i % 4}`, value: `f${i}-${'p'.repeat(30)}` }]);
    await log.rollNow();
    const end = log.activeSegment.baseOffset;
    await w.endTxn(9, true);

    const cleaner = newCleaner(clock);
    const result = await cleaner.clean(log, 0);
    assert.ok(result !== null, 'result !== null');
    assert.equal(result.abortedRecordsRemoved, 3);
    const got = await readAll(log);
    assert.deepEqual(summary(got.records), summary(expectedAfterClean(w.records, end, false)));
    const values = got.records.map((r) => `${r.key}=${r.value}`);
    assert.ok(values.includes('a=a0'), 'an aborted update does not supersede');
    assert.ok(
      !values.includes('b=b0') && values.includes('b=b-committed'),
      "!values.includes('b=b0') && values.includes('b=b-committed')",
    );
    assert.ok(
      values.includes('c=c0') && values.includes('c=c-open'),
      'an open transaction supersedes nothing',
    );
    assert.ok(
      !values.includes('d=d0') && values.includes('d=d-late-commit'),
      "!values.includes('d=d0') && values.includes('d=d-late-commit')",
    );
    assert.ok(!values.some((v) => v.includes('aborted')), "!values.some((v) => v.includes('aborted'))");
    // Both markers below the end are still there, and the one after it.
    const markers = got.batches.filter((b) => b.isControl).map((b) => Number(b.producerId));
    assert.deepEqual(markers, [7, 8, 9]);
    await log.close();
  });

  void test("an emptied batch stays (empty, offsets intact) only when it is its producer's last or ends a segment", async () => {
    const clock = new ManualClock();
    const { log } = await openLog(freshDir(), compactConfig({ segmentBytes: 1 << 20 }), clock);
    const w = new Writer(log, clock);
    // Idempotent producer 5 writes k, then plain writes supersede everything it wrote.
    await w.append([{ key: 'k', value: 'p5-first' }], { pid: 5 });
    await w.append([{ key: 'k', value: 'p5-second' }], { pid: 5, codec: CompressionCodec.Zstd });
    await w.append([{ key: 'j', value: 'plain' }]);
    await w.append([{ key: 'k', value: 'plain-1' }]);
    await w.append([{ key: 'k', value: 'plain-2' }]);
    await w.append([{ key: 'j', value: 'plain-last' }]);
    await log.rollNow();
    const cleaner = newCleaner(clock);
    const result = await cleaner.clean(log, 0);
    assert.ok(result !== null, 'result !== null');
    const got = await readAll(log);
    assert.deepEqual(summary(got.records), ['4:k=plain-2', '5:j=plain-last']);
    // Offsets 0 (p5's first batch) and 2, 3 went; offset 1 (p5's last batch) stays, empty, uncompressed.
    const layout = got.batches.map(
      (b) => `${b.baseOffset}+${b.lastOffsetDelta}:${b.records.length}:${b.compression}`,
    );
    assert.deepEqual(layout, ['1+0:0:0', '4+0:1:0', '5+0:1:0']);
    assert.equal(got.batches[0]!.producerId, 5n);
    assert.equal(got.batches[0]!.baseSequence, 1);

    // Cleaning again keeps that empty batch as it is.
    await w.append([{ key: 'j', value: 'newer' }]);
    await log.rollNow();
    const again = await cleaner.clean(log, result.cleanedUpTo);
    assert.ok(again !== null, 'again !== null');
    const got2 = await readAll(log);
    assert.deepEqual(summary(got2.records), ['4:k=plain-2', '6:j=newer']);
    assert.deepEqual(
      got2.batches.map((b) => `${b.baseOffset}:${b.records.length}`),
      ['1:0', '4:1', '6:1'],
    );
    await log.close();
  });

  void test('a group whose last batch empties keeps it, so the cleaned segment ends where the group did', async () => {
    const clock = new ManualClock();
    // Two batches of ~105 bytes per segment, and two segments never fit in one group.
    const { log } = await openLog(freshDir(), compactConfig({ segmentBytes: 250 }), clock);
    const w = new Writer(log, clock);
    const pad = 'q'.repeat(30);
    await w.append([{ key: 'k', value: `a${pad}` }]);
    await w.append([{ key: 'j', value: `b${pad}` }]);
    await w.append([{ key: 'k', value: `c${pad}` }]);
    await w.append([{ key: 'j', value: `d${pad}` }]);
    await log.rollNow();
    assert.deepEqual(
      log.segments.map((s) => s.baseOffset),
      [0, 2, 4],
    );
    const result = await newCleaner(clock).clean(log, 0);
    assert.ok(result !== null, 'result !== null');
    assert.equal(result.segmentsBefore, 1);
    const got = await readAll(log);
    assert.deepEqual(summary(got.records), [`2:k=c${pad}`, `3:j=d${pad}`]);
    assert.deepEqual(
      got.batches.map((b) => `${b.baseOffset}:${b.records.length}`),
      ['1:0', '2:1', '3:1'],
    );
    const first = log.segments[0]!;
    assert.equal(first.baseOffset, 0);
    assert.equal(first.nextOffset, 2);
    await log.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Crash safety

/** A log with several segments of keyed updates and tombstones, flushed. */
async function crashFixture(fs: FileSystem): Promise<{ o: Opened; w: Writer }> {
  const clock = new ManualClock();
  const o = await openLog(freshDir(), compactConfig({ segmentBytes: 1500 }), clock, { fs });
  const w = new Writer(o.log, clock);
  await keyedWorkload(w, 150, 12, 7);
  await o.log.rollNow();
  await w.append([{ key: 'tail', value: 'in the active segment' }]);
  await o.log.flush();
  return { o, w };
}

/** Runs a clean that stops for good at the nth time `step` is reached; resolves once it stopped there. */
async function cleanUntil(
  o: Opened,
  step: CleanerStep,
  nth: number,
  atStop: () => Promise<void> = () => Promise.resolve(),
): Promise<boolean> {
  let seen = 0;
  let stopped!: (v: boolean) => void;
  const stoppedThere = new Promise<boolean>((r) => (stopped = r));
  const failure: { error: Error | null } = { error: null };
  const cleaner = newCleaner(o.clock, {
    onStep: async (s) => {
      if (s !== step || ++seen !== nth) return;
      await atStop();
      stopped(true);
      await new Promise<never>(() => undefined); // the process is gone
    },
  });
  void cleaner.clean(o.log, 0).then(
    () => stopped(false),
    (e: unknown) => {
      failure.error = e instanceof Error ? e : new Error(`the clean failed: ${JSON.stringify(e)}`);
      stopped(false);
    },
  );
  const there = await stoppedThere;
  if (failure.error !== null) throw failure.error;
  return there;
}

const STOPS: [CleanerStep, number][] = [
  ['cleaned-written', 1],
  ['swap-renamed', 1],
  ['old-file-renamed', 1],
  ['old-file-renamed', 2],
  ['old-file-renamed', 4],
  ['old-renamed', 1],
  ['swap-installed', 1],
  ['swapped', 1],
  ['swap-renamed', 2],
  ['old-file-renamed', 7],
  ['swapped', 3],
];

/** The leftovers a stop at each step leaves in the folder: [.cleaned, .swap, .deleted] present. */
const LEFTOVERS: Record<CleanerStep, [boolean, boolean, boolean]> = {
  'cleaned-written': [true, false, false],
  'swap-renamed': [false, true, false],
  'old-file-renamed': [false, true, true],
  'old-renamed': [false, true, true],
  'swap-installed': [false, false, true],
  swapped: [false, false, true],
};

async function checkAfterRecovery(
  dir: string,
  w: Writer,
  end: number,
  logEnd: number,
  expectSwapCompleted?: boolean,
): Promise<void> {
  const clock = new ManualClock();
  const lines: string[] = [];
  const reopened = await openLog(dir, compactConfig({ segmentBytes: 1500 }), clock, {
    cleanShutdown: false,
    log: (m) => lines.push(m),
  });
  if (expectSwapCompleted !== undefined) {
    const completed = lines.some((l) => l.includes('completed an interrupted compaction swap'));
    assert.equal(completed, expectSwapCompleted, lines.join('\n'));
  }
  const names = listDir(dir);
  assert.deepEqual(
    names.filter((n) => /\.(cleaned|swap|deleted)$/.test(n)),
    [],
  );
  assert.equal(reopened.log.logEndOffset, logEnd);
  const got = await readAll(reopened.log);
  assertSubsetOfOriginal(got.records, w.records, expectedAfterClean(w.records, end, false));
  // And the recovered log cleans to the exact result.
  const result = await newCleaner(clock).clean(reopened.log, 0, { force: true });
  assert.ok(result !== null, 'result !== null');
  const final = await readAll(reopened.log);
  assert.deepEqual(summary(final.records), summary(expectedAfterClean(w.records, end, false)));
  await reopened.log.close();
}

void describe('LogCleaner: crash safety', () => {
  for (const [step, nth] of STOPS) {
    void test(`a crash at ${step} #${nth} loses and duplicates nothing`, async () => {
      const { o, w } = await crashFixture(nodeFileSystem);
      const end = o.log.activeSegment.baseOffset;
      const logEnd = o.log.logEndOffset;
      assert.ok(o.log.segments.length > 8, 'o.log.segments.length > 8');
      const stopped = await cleanUntil(o, step, nth);
      assert.ok(stopped, `the clean never reached ${step} #${nth}`);
      const names = listDir(o.dir);
      const has = (suffix: string): boolean => names.some((n) => n.endsWith(suffix));
      assert.deepEqual([has('.cleaned'), has('.swap'), has('.deleted')], LEFTOVERS[step], names.join(' '));
      // The frozen log is abandoned as a dead process's would be; the folder is opened anew.
      await checkAfterRecovery(o.dir, w, end, logEnd, LEFTOVERS[step][1]);
    });
  }

  void test('a power loss at each step (unsynced renames and writes lost at random) loses and duplicates nothing', async () => {
    for (const [step, nth] of STOPS) {
      for (const seed of [1, 2]) {
        const fs = new FaultyFileSystem({ crashMode: true });
        const { o, w } = await crashFixture(fs);
        const end = o.log.activeSegment.baseOffset;
        const logEnd = o.log.logEndOffset;
        const stopped = await cleanUntil(o, step, nth, async () => {
          await fs.simulateCrash(seed * 101 + nth);
        });
        assert.ok(stopped, `the clean never reached ${step} #${nth}`);
        await checkAfterRecovery(o.dir, w, end, logEnd);
      }
    }
  });

  void test('a failing rename during the swap is rolled back, and the log keeps working', async () => {
    const fs = new FaultyFileSystem();
    const { o, w } = await crashFixture(fs);
    const before = await readAll(o.log);
    fs.inject({ op: 'rename', path: '.deleted', nth: 3, fault: { kind: 'error', code: 'EIO' } });
    await assert.rejects(newCleaner(o.clock).clean(o.log, 0), /EIO/);
    assert.deepEqual(
      listDir(o.dir).filter((n) => /\.(cleaned|swap|deleted)$/.test(n)),
      [],
    );
    assert.deepEqual(summary((await readAll(o.log)).records), summary(before.records));
    await w.append([{ key: 'after', value: 'failure' }]);
    const result = await newCleaner(o.clock).clean(o.log, 0);
    assert.ok(result !== null && result.complete, 'result !== null && result.complete');
    await o.log.close();
    await checkAfterRecovery(o.dir, w, result.cleanedUpTo, o.log.logEndOffset);
  });

  void test('a truncation during the clean makes it give up the rest safely', async () => {
    const { o, w } = await crashFixture(nodeFileSystem);
    let seen = 0;
    let truncatedTo = -1;
    const cleaner = newCleaner(o.clock, {
      onStep: async (step, info) => {
        if (step !== 'cleaned-written' || ++seen !== 3) return;
        truncatedTo = info.baseOffset + 1;
        await o.log.truncateTo(truncatedTo);
      },
    });
    const result = await cleaner.clean(o.log, 0);
    assert.ok(result !== null, 'result !== null');
    assert.equal(result.complete, false);
    assert.equal(result.cleanedUpTo, 0);
    assert.equal(result.segmentsAfter, 2, 'two groups were swapped before the truncation');
    assert.deepEqual(
      listDir(o.dir).filter((n) => /\.(cleaned|swap|deleted)$/.test(n)),
      [],
    );
    // What the first two groups lost to superseding records that the truncation then removed is
    // why callers bound cleaning by the high watermark; the untouched group is all there.
    const got = await readAll(o.log);
    const end = o.log.logEndOffset;
    assert.ok(end <= truncatedTo, `log end ${end}`);
    const untouched = w.records.filter((r) => r.offset >= truncatedTo - 1 && r.offset < end);
    assertSubsetOfOriginal(got.records, w.records, untouched);
    await o.log.close();
  });

  void test('replaced files are removed after file.delete.delay.ms (or at flushPendingDeletes)', async () => {
    const { o } = await crashFixture(nodeFileSystem);
    const cleaner = newCleaner(o.clock, { fileDeleteDelayMs: 60_000 });
    const result = await cleaner.clean(o.log, 0);
    assert.ok(result !== null, 'result !== null');
    assert.ok(
      listDir(o.dir).some((n) => n.endsWith('.deleted')),
      "listDir(o.dir).some((n) => n.endsWith('.deleted'))",
    );
    await cleaner.flushPendingDeletes();
    assert.ok(
      !listDir(o.dir).some((n) => n.endsWith('.deleted')),
      "!listDir(o.dir).some((n) => n.endsWith('.deleted'))",
    );
    await o.log.close();
  });
});

void describe('LogCleaner: background work', () => {
  void test('a large clean leaves the event loop running and appends flowing', async (t) => {
    const clock = new ManualClock();
    const config = compactConfig({ segmentBytes: 256 * 1024, indexIntervalBytes: 4096 });
    const { log } = await openLog(freshDir(), config, clock);
    const w = new Writer(log, clock);
    const value = 'v'.repeat(200);
    for (let i = 0; i < 400; i++) {
      const puts: Put[] = [];
      for (let j = 0; j < 50; j++)
        puts.push({ key: `key-${(i * 50 + j) % 3000}`, value: `${i}.${j}${value}` });
      await w.append(puts, { codec: i % 2 === 0 ? CompressionCodec.None : CompressionCodec.Lz4 });
    }
    await log.rollNow();
    const end = log.activeSegment.baseOffset;
    assert.ok(log.sizeBytes > 2 * 1024 * 1024, `${log.sizeBytes} bytes`);

    const cleaner = newCleaner(clock);
    let ticks = 0;
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 1);
    let done = false;
    const cleaning = cleaner.clean(log, 0).finally(() => (done = true));
    let appendsDuring = 0;
    try {
      while (!done) {
        await w.append([{ key: `key-${appendsDuring % 3000}`, value: `during-${appendsDuring}` }]);
        if (!done) appendsDuring++;
        await new Promise((r) => setTimeout(r, 2));
      }
    } finally {
      clearInterval(timer);
    }
    const result = await cleaning;
    assert.ok(result !== null, 'result !== null');
    t.diagnostic(
      `cleaned ${result.bytesBefore} bytes in ${result.durationMs} ms; ${ticks} ticks, longest gap ` +
        `${maxGap.toFixed(1)} ms; ${appendsDuring} appends during the clean`,
    );
    assert.ok(result.recordsRemoved >= 17_000, `${result.recordsRemoved} removed`);
    assert.ok(appendsDuring > 3, `only ${appendsDuring} appends completed during the clean`);
    assert.ok(ticks > 10, `only ${ticks} timer ticks`);
    assert.ok(maxGap < 250, `the event loop stalled for ${maxGap.toFixed(0)} ms`);
    const got = await readAll(log);
    assert.deepEqual(summary(got.records), summary(expectedAfterClean(w.records, end, false)));
    await log.close();
  });
});
