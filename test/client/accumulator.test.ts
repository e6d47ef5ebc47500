/**
 * The record accumulator on a manual clock: batching by size and linger, readiness, muting while
 * in flight, retries, splitting, delivery timeouts, buffer memory backpressure, and batches that
 * decode back to exactly the records appended (size accounting checked against the encoder).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RECORD_FRAMING_MAX_BYTES,
  RecordAccumulator,
  recordPayloadBytes,
  type RecordMetadata,
  type RecordSink,
} from '../../src/client/accumulator.js';
import { KafkaClientError } from '../../src/client/errors.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { decodeRecordBatch, type RecordHeader } from '../../src/protocol/records/batch.js';
import { DecodeError } from '../../src/protocol/primitives/errors.js';
import { ManualClock } from '../../src/runtime/clock.js';

/** Collects outcomes by index. */
class Collect implements RecordSink {
  readonly ok = new Map<number, RecordMetadata>();
  readonly failed = new Map<number, Error>();
  resolve(index: number, metadata: RecordMetadata): void {
    this.ok.set(index, metadata);
  }
  reject(index: number, error: Error): void {
    this.failed.set(index, error);
  }
}

function make(
  overrides: Partial<{
    batchSizeBytes: number;
    lingerMs: number;
    bufferMemoryBytes: number;
    compression: CompressionCodec;
  }> = {},
): { acc: RecordAccumulator; clock: ManualClock } {
  const clock = new ManualClock();
  const acc = new RecordAccumulator({
    batchSizeBytes: overrides.batchSizeBytes ?? 16384,
    lingerMs: overrides.lingerMs ?? 5,
    bufferMemoryBytes: overrides.bufferMemoryBytes ?? 1 << 20,
    compression: overrides.compression ?? CompressionCodec.None,
    clock,
  });
  return { acc, clock };
}

const NO_HEADERS: readonly RecordHeader[] = [];

/** Appends value `v` (a string) to t-p with memory taken; returns whether the sender should look. */
function add(
  acc: RecordAccumulator,
  sink: RecordSink,
  index: number,
  value: string,
  opts: { partition?: number; key?: string; headers?: RecordHeader[]; timestamp?: number } = {},
): boolean {
  const key = opts.key === undefined ? null : Buffer.from(opts.key);
  const v = Buffer.from(value);
  const headers = opts.headers ?? NO_HEADERS;
  const payload = recordPayloadBytes(key, v, headers);
  const reserved = payload + RECORD_FRAMING_MAX_BYTES;
  assert.ok(acc.tryReserve(reserved), 'memory available for the test record');
  const record = {
    offsetDelta: 0,
    timestampDelta: 0,
    key,
    value: v,
    headers,
    timestamp: opts.timestamp ?? 1_000,
  };
  return acc.append('t', opts.partition ?? 0, record, payload, reserved, sink, index);
}

function decode(buf: Buffer) {
  const batch = decodeRecordBatch(buf, { maxDecompressedBytes: 1 << 24 });
  assert.ok(
    !(batch instanceof DecodeError),
    `batch decodes: ${batch instanceof DecodeError ? batch.message : ''}`,
  );
  return batch;
}

void describe('RecordAccumulator', () => {
  void test('records of a partition share a batch until linger; the batch then decodes to them exactly', () => {
    const { acc, clock } = make({ lingerMs: 5 });
    const sink = new Collect();
    const headers = [
      { key: 'h', value: Buffer.from('x') },
      { key: 'n', value: null },
    ];
    assert.equal(add(acc, sink, 0, 'a', { key: 'k0', timestamp: 1000 }), true, 'a new batch');
    assert.equal(add(acc, sink, 1, 'b', { timestamp: 990, headers }), false, 'same batch');
    assert.equal(add(acc, sink, 2, 'c', { key: 'k2', timestamp: 1010 }), false, 'same batch');
    let r = acc.ready(clock.nowMs(), false);
    assert.equal(r.ready.length, 0, 'not ready before linger');
    assert.equal(r.nextReadyMs, clock.nowMs() + 5);
    clock.advance(5);
    r = acc.ready(clock.nowMs(), false);
    assert.equal(r.ready.length, 1);
    const batch = r.ready[0]!;
    acc.markInFlight(batch);
    const wire = batch.encode(CompressionCodec.None);
    assert.equal(wire.length, batch.sizeBytes, 'size accounting equals the encoded size');
    const d = decode(wire);
    assert.equal(d.records.length, 3);
    assert.equal(d.baseTimestamp, 1000);
    assert.equal(d.maxTimestamp, 1010);
    assert.deepEqual(
      d.records.map((x) => [
        x.key?.toString() ?? null,
        x.value?.toString(),
        d.baseTimestamp + x.timestampDelta,
      ]),
      [
        ['k0', 'a', 1000],
        [null, 'b', 990],
        ['k2', 'c', 1010],
      ],
    );
    assert.deepEqual(
      d.records[1]!.headers.map((h) => [h.key, h.value?.toString() ?? null]),
      [
        ['h', 'x'],
        ['n', null],
      ],
    );
    assert.equal(d.producerId, -1n, 'not idempotent');
    batch.succeed(100n, -1);
    acc.complete(batch);
    assert.deepEqual(
      [0, 1, 2].map((i) => sink.ok.get(i)),
      [
        { topic: 't', partition: 0, offset: 100n, timestamp: 1000 },
        { topic: 't', partition: 0, offset: 101n, timestamp: 990 },
        { topic: 't', partition: 0, offset: 102n, timestamp: 1010 },
      ],
    );
    assert.equal(acc.bufferedBytes, 0, 'memory given back');
    assert.equal(acc.incompleteBatches, 0);
  });

  void test('batchSize closes a batch: the full one is ready at once, the next one lingers', () => {
    const { acc, clock } = make({ batchSizeBytes: 200, lingerMs: 1000 });
    const sink = new Collect();
    let i = 0;
    while (acc.ready(clock.nowMs(), false).ready.length === 0) {
      assert.ok(i < 50, 'a 200-byte batch fills within 50 records of 10 bytes');
      add(acc, sink, i++, 'value-0000');
    }
    assert.equal(add(acc, sink, i++, 'value-0000'), true, 'the next record starts a new batch');
    const r = acc.ready(clock.nowMs(), false);
    assert.equal(r.ready.length, 1, 'only the full batch is ready');
    const full = r.ready[0]!;
    assert.ok(full.sizeBytes <= 200, `full batch within batchSize (${full.sizeBytes})`);
    assert.ok(full.sizeBytes + 30 > 200, `full batch has no room for another record (${full.sizeBytes})`);
    assert.equal(full.encode(CompressionCodec.None).length, full.sizeBytes);
    acc.markInFlight(full);
    full.succeed(0n, -1);
    acc.complete(full);
    assert.equal(acc.ready(clock.nowMs(), false).ready.length, 0, 'the second batch waits for linger');
    assert.equal(acc.ready(clock.nowMs(), true).ready.length, 1, 'but a forced drain (flush) takes it');
  });

  void test('a record larger than batchSize gets a batch of its own', () => {
    const { acc, clock } = make({ batchSizeBytes: 100 });
    const sink = new Collect();
    add(acc, sink, 0, 'small');
    add(acc, sink, 1, 'x'.repeat(500));
    add(acc, sink, 2, 'small');
    const heads = acc.ready(clock.nowMs(), false).ready;
    assert.equal(heads.length, 1);
    assert.equal(heads[0]!.recordCount, 1, 'the small record was closed out by the big one');
    acc.markInFlight(heads[0]!);
    heads[0]!.succeed(0n, -1);
    acc.complete(heads[0]!);
    const big = acc.ready(clock.nowMs(), false).ready[0]!;
    assert.equal(big.recordCount, 1);
    assert.ok(big.sizeBytes > 500, 'the big record alone');
  });

  void test('a partition in flight is muted; a retry waits out its backoff and stays ahead of later batches', () => {
    const { acc, clock } = make({ batchSizeBytes: 80, lingerMs: 0 });
    const sink = new Collect();
    add(acc, sink, 0, 'x'.repeat(30));
    add(acc, sink, 1, 'y'.repeat(30));
    const first = acc.ready(clock.nowMs(), false).ready[0]!;
    assert.equal(first.recordCount, 1);
    acc.markInFlight(first);
    assert.equal(acc.ready(clock.nowMs(), false).ready.length, 0, 'muted while in flight');
    acc.retry(first, clock.nowMs() + 100);
    const r = acc.ready(clock.nowMs(), false);
    assert.equal(r.ready.length, 0, 'backoff');
    assert.equal(r.nextReadyMs, clock.nowMs() + 100);
    assert.equal(acc.ready(clock.nowMs(), true).ready.length, 0, 'flush does not skip the backoff');
    clock.advance(100);
    assert.equal(acc.ready(clock.nowMs(), false).ready[0], first, 'the retried batch goes first');
    acc.markInFlight(first);
    assert.equal(first.attempts, 2);
    first.succeed(7n, 5555);
    acc.complete(first);
    assert.deepEqual(
      sink.ok.get(0),
      { topic: 't', partition: 0, offset: 7n, timestamp: 5555 },
      'LogAppendTime',
    );
    const second = acc.ready(clock.nowMs(), false).ready[0]!;
    assert.equal(second.records[0]!.value?.toString(), 'y'.repeat(30));
  });

  void test('partitions are independent: one in flight does not hold back another', () => {
    const { acc, clock } = make({ lingerMs: 0 });
    const sink = new Collect();
    add(acc, sink, 0, 'a', { partition: 0 });
    const p0 = acc.ready(clock.nowMs(), false).ready[0]!;
    acc.markInFlight(p0);
    add(acc, sink, 1, 'b', { partition: 1 });
    add(acc, sink, 2, 'c', { partition: 0 });
    const heads = acc.ready(clock.nowMs(), false).ready;
    assert.deepEqual(
      heads.map((b) => b.partition),
      [1],
    );
  });

  void test('split keeps order and outcome routing; flush waits for both halves', async () => {
    const { acc, clock } = make({ lingerMs: 0 });
    const sink = new Collect();
    for (let i = 0; i < 5; i++) add(acc, sink, i, `v${i}`, { timestamp: 2000 + i });
    const b = acc.ready(clock.nowMs(), false).ready[0]!;
    acc.markInFlight(b);
    let flushed = false;
    const flush = acc.whenAllDone().then(() => (flushed = true));
    acc.splitHead(b);
    const a1 = acc.ready(clock.nowMs(), false).ready[0]!;
    assert.equal(a1.recordCount, 3);
    acc.markInFlight(a1);
    a1.succeed(10n, -1);
    acc.complete(a1);
    await Promise.resolve();
    assert.equal(flushed, false, 'flush waits for the second half');
    const a2 = acc.ready(clock.nowMs(), false).ready[0]!;
    assert.equal(a2.recordCount, 2);
    assert.equal(decode(a2.encode(CompressionCodec.None)).records[0]!.value?.toString(), 'v3');
    acc.markInFlight(a2);
    a2.succeed(13n, -1);
    acc.complete(a2);
    await flush;
    assert.deepEqual(
      [...sink.ok.entries()].sort((x, y) => x[0] - y[0]).map(([i, m]) => [i, m.offset, m.timestamp]),
      [0, 1, 2, 3, 4].map((i) => [i, 10n + BigInt(i), 2000 + i]),
    );
    assert.equal(acc.bufferedBytes, 0, 'memory of the split batch given back');
  });

  void test('batches waiting past deliveryTimeoutMs fail with DEADLINE_EXCEEDED; one in flight does not', () => {
    const { acc, clock } = make({ lingerMs: 0, batchSizeBytes: 70 });
    const sink = new Collect();
    add(acc, sink, 0, 'x'.repeat(20), { partition: 0 });
    add(acc, sink, 1, 'y'.repeat(20), { partition: 0 });
    add(acc, sink, 2, 'z', { partition: 1 });
    const p0 = acc.ready(clock.nowMs(), false).ready.find((b) => b.partition === 0)!;
    acc.markInFlight(p0);
    assert.equal(acc.expire(clock.nowMs(), 1000), clock.nowMs() + 1000);
    clock.advance(1000);
    acc.expire(clock.nowMs(), 1000);
    assert.equal(sink.failed.size, 2);
    const e = sink.failed.get(1);
    assert.ok(e instanceof KafkaClientError && e.errorName === 'DEADLINE_EXCEEDED', 'delivery timeout error');
    assert.match(e.message, /t-0/);
    assert.ok(sink.failed.has(2), 'the other partition too');
    assert.ok(!sink.failed.has(0), 'the batch in flight waits for its answer');
    p0.succeed(0n, -1);
    acc.complete(p0);
    assert.equal(acc.incompleteBatches, 0);
    assert.equal(acc.bufferedBytes, 0);
  });

  void test('buffer memory: FIFO waiters get memory as batches complete; a waiter times out at its deadline', async () => {
    const { acc, clock } = make({ bufferMemoryBytes: 100, lingerMs: 0 });
    const sink = new Collect();
    assert.ok(acc.tryReserve(60), 'first 60 bytes');
    const record = {
      offsetDelta: 0,
      timestampDelta: 0,
      key: null,
      value: Buffer.alloc(10),
      headers: NO_HEADERS,
      timestamp: 1,
    };
    acc.append('t', 0, record, 12, 60, sink, 0);
    assert.equal(acc.tryReserve(50), false, 'no room for 50 more');
    const order: string[] = [];
    const w1 = acc.reserve(50, clock.nowMs() + 1000).then(() => order.push('w1'));
    const w2 = acc.reserve(10, clock.nowMs() + 1000).then(() => order.push('w2'));
    assert.equal(acc.tryReserve(10), false, 'FIFO: no overtaking the waiters');
    assert.ok(acc.memoryExhausted, 'waiters make every batch ready');
    const b = acc.ready(clock.nowMs(), false).ready[0]!;
    acc.markInFlight(b);
    b.succeed(0n, -1);
    acc.complete(b);
    await Promise.all([w1, w2]);
    assert.deepEqual(order, ['w1', 'w2']);
    assert.equal(acc.bufferedBytes, 60);
    const late = acc.reserve(50, clock.nowMs() + 300);
    clock.advance(300);
    await assert.rejects(late, (e: unknown) => {
      assert.ok(e instanceof KafkaClientError, 'a KafkaClientError');
      assert.equal(e.errorName, 'DEADLINE_EXCEEDED');
      assert.match(e.message, /50 bytes.*maxBlockMs.*60 of 100 bytes/);
      return true;
    });
    acc.release(60);
    assert.equal(acc.bufferedBytes, 0);
  });

  void test('each codec compresses the batch and records its codec in the attributes', () => {
    for (const codec of [
      CompressionCodec.Gzip,
      CompressionCodec.Snappy,
      CompressionCodec.Lz4,
      CompressionCodec.Zstd,
    ]) {
      const { acc, clock } = make({ lingerMs: 0, compression: codec });
      const sink = new Collect();
      for (let i = 0; i < 20; i++)
        add(acc, sink, i, `repetitive value ${i % 3}`.repeat(10), { key: `k${i}` });
      const b = acc.ready(clock.nowMs(), false).ready[0]!;
      const wire = b.encode(codec);
      assert.ok(wire.length < b.sizeBytes, `codec ${codec} made the batch smaller`);
      const d = decode(wire);
      assert.equal(d.compression, codec);
      assert.equal(d.records.length, 20);
      assert.equal(d.records[19]!.key?.toString(), 'k19');
    }
  });
});
