/**
 * Topic compression.type: `producer` stores batches as sent (byte for byte but the base offset
 * and leader epoch); `uncompressed` or a codec rewrites every batch in another codec, keeping
 * its records and header fields, so consumers always read the topic's codec.
 *
 * recompressForTopic is checked on its own (fields kept, zero-copy, control batches, limits,
 * corrupt batches), then against a real broker: kafkajs (gzip, none) and kcat (every codec)
 * produce to a topic of each compression.type, the stored batches' codecs are read from the
 * partition log, and kcat consumes every key, value and header back. Raw produce requests
 * cover LogAppendTime, CORRUPT_MESSAGE, MESSAGE_TOO_LARGE and the zero-copy property.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import {
  decompressionLimitBytes,
  MAX_DECOMPRESSED_BATCH_BYTES,
  MAX_DECOMPRESSION_RATIO,
  recompressForTopic,
  topicCodec,
} from '../../src/broker/recompress.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { decodeResponse, encodeRequestFrame } from '../../src/protocol/frame.js';
import { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/generated/message/ProduceResponse.js';
import {
  buildEndTxnMarkerBatch,
  decodeRecordBatch,
  encodeRecordBatch,
  newRecordBatch,
  type DecodedRecordBatch,
  type NewBatchFields,
  type ProducerRecord,
} from '../../src/protocol/records/batch.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  BatchSplitter,
  BatchView,
  TimestampType,
  writeCrc,
} from '../../src/protocol/records/batch-view.js';
import type { CompressionType } from '../../src/storage/log-config.js';
import { StorageError } from '../../src/storage/errors.js';
import { have, run } from './interop/support.js';

const TYPES: readonly CompressionType[] = ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'];
const KCAT_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const KCAT_CODEC_ID: Readonly<Record<(typeof KCAT_CODECS)[number], CompressionCodec>> = {
  none: CompressionCodec.None,
  gzip: CompressionCodec.Gzip,
  snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4,
  zstd: CompressionCodec.Zstd,
};
const ALL_CODECS: readonly CompressionCodec[] = [0, 1, 2, 3, 4];
/** Kafka's default max.message.bytes. */
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 + 12;
/** Enough for everything a test here writes to one partition. */
const READ_ALL_BYTES = 64 * 1024 * 1024;
const KCAT_MISSING = 'kcat is not installed (CI installs it; `kcat -V` failed here)';

// ---------------------------------------------------------------------------------------------
// Helpers

function config(
  compressionType: CompressionType,
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
): { compressionType: CompressionType; maxMessageBytes: number } {
  return { compressionType, maxMessageBytes };
}

/** Records exercising every field: null key, null value, headers (one with a null value), odd timestamps. */
function sampleRecords(n: number, now = 1_700_000_000_000): ProducerRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 5 === 3 ? null : Buffer.from(`key-${i}`),
    value: i % 7 === 6 ? null : Buffer.from(`value ${i} `.repeat(1 + (i % 4))),
    headers:
      i % 3 === 0
        ? []
        : [
            { key: 'n', value: Buffer.from(String(i)) },
            { key: 'nothing', value: null },
          ],
    timestamp: now + ((i * 37) % 11) - 5,
  }));
}

function batchOf(
  codec: CompressionCodec,
  records: readonly ProducerRecord[],
  fields: NewBatchFields = {},
): Buffer {
  return encodeRecordBatch(newRecordBatch(records, fields), { compression: codec });
}

function decode(batch: Buffer): DecodedRecordBatch {
  const d = decodeRecordBatch(batch, { maxDecompressedBytes: READ_ALL_BYTES });
  if (d instanceof Error) throw d;
  return d;
}

function split(records: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const it = new BatchSplitter(records, { verifyCrc: true });
  while (it.next()) out.push(Buffer.from(it.batch()));
  assert.equal(it.error, null);
  return out;
}

/** Everything a decoded batch says except its codec and CRC, for comparing a rewrite with its source. */
function contentOf(b: DecodedRecordBatch): Omit<DecodedRecordBatch, 'compression' | 'crc'> {
  const { compression: _compression, crc: _crc, ...rest } = b;
  return {
    ...rest,
    records: b.records.map((r) => ({
      ...r,
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
    })),
  };
}

function assertStorageError(fn: () => unknown, code: number, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StorageError, `expected a StorageError, got ${String(e)}`);
    assert.equal(e.errorCode, code, e.message);
    if (pattern !== undefined) assert.match(e.message, pattern);
    return true;
  });
}

/** A batch whose attributes name `codec` but whose body is garbage, with a correct CRC (so only decompression fails). */
function garbageBatch(codec: CompressionCodec): Buffer {
  const good = batchOf(CompressionCodec.None, sampleRecords(3));
  const body = Buffer.from('this is not compressed data at all, not even close'.repeat(2));
  const buf = Buffer.concat([good.subarray(0, BATCH_HEADER_BYTES), body]);
  buf.writeInt32BE(buf.length - 12, BatchField.batchLength);
  buf.writeUInt16BE(codec, BatchField.attributes);
  writeCrc(buf);
  return buf;
}

interface ProduceResult {
  errorCode: number;
  errorMessage: string | null;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
}

/** Sends one Produce request (v9, acks=-1) for partition 0 over a fresh socket and returns the partition's answer. */
function rawProduce(port: number, topic: string, records: Buffer, apiVersion = 9): Promise<ProduceResult> {
  const body: ProduceRequest = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [
      {
        name: topic,
        partitionData: [{ index: 0, records, unknownTaggedFields: undefined }],
        unknownTaggedFields: undefined,
      },
    ],
    unknownTaggedFields: undefined,
  };
  const frame = Buffer.concat(
    encodeRequestFrame(ProduceRequest, body, { apiVersion, correlationId: 7, clientId: 'raw' }),
  );
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const socket = connect(port, '127.0.0.1', () => socket.write(frame));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no produce response within 10 s'));
    }, 10_000);
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4 || buffered.length < 4 + buffered.readInt32BE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      const decoded = decodeResponse(
        ProduceResponse,
        buffered.subarray(4, 4 + buffered.readInt32BE(0)),
        apiVersion,
      );
      if (!decoded.ok) return reject(decoded.error);
      const p = decoded.value.body.responses[0]?.partitionResponses[0];
      if (p === undefined) return reject(new Error('produce response without a partition'));
      resolve(p);
    });
  });
}

/** The partition's stored batches (copies), read straight from its log. */
async function storedBatches(b: RunningBroker, topic: string): Promise<Buffer[]> {
  const partition = b.broker.replicaManager.getPartition(topic, 0);
  assert.ok(partition, `${topic}-0 is hosted`);
  const { records } = await partition.log.read(0, READ_ALL_BYTES);
  return split(records);
}

interface Consumed {
  offset: number;
  key: string | null;
  value: string | null;
  headers: string;
  tstype: string;
  ts: number;
}

/** Consumes partition 0 of a topic from the beginning with kcat. */
async function kcatConsume(bootstrap: string, topic: string, expected: number): Promise<Consumed[]> {
  const r = await run('kcat', [
    '-C',
    '-b',
    bootstrap,
    '-t',
    topic,
    '-p',
    '0',
    '-o',
    'beginning',
    '-e',
    '-c',
    String(expected),
    '-J',
    '-q',
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => {
      const j = JSON.parse(l) as {
        offset: number;
        key: string | null;
        payload: string | null;
        headers?: (string | null)[];
        tstype: string;
        ts: number;
      };
      const h = j.headers ?? [];
      const pairs: string[] = [];
      for (let i = 0; i + 1 < h.length; i += 2) pairs.push(`${h[i]}=${h[i + 1]}`);
      return {
        offset: j.offset,
        key: j.key,
        value: j.payload,
        headers: pairs.join(','),
        tstype: j.tstype,
        ts: j.ts,
      };
    });
}

/**
 * LIBRDKAFKA_DOWNGRADE: librdkafka before 2.8 sends gzip, snappy and lz4 uncompressed ("Broker
 * does not support compression type …") to a broker that does not advertise Produce v0, as
 * Kafka 4.0 without KAFKA-18659 and Samsa (Produce 3-11) do not. The codecs kcat really sent
 * come from its `-d msg` lines: "Produce MessageSet with N message(s) (…, PID{…}, <codec>)".
 */
function kcatSentCodecs(stderr: string): CompressionCodec[] {
  const names: Readonly<Record<string, CompressionCodec>> = {
    uncompressed: 0,
    none: 0,
    gzip: 1,
    snappy: 2,
    lz4: 3,
    zstd: 4,
  };
  const out = new Set<CompressionCodec>();
  for (const m of stderr.matchAll(/Produce MessageSet with \d+ message\(s\) \(.*, (\w+)\)\s*$/gm)) {
    const codec = names[m[1]!];
    assert.ok(codec !== undefined, `unknown codec name in kcat output: ${m[1]}`);
    out.add(codec);
  }
  return [...out];
}

interface Expected {
  key: string | null;
  value: string | null;
  headers: string;
}

function checkConsumed(seen: Consumed[], expected: Expected[], label: string): void {
  assert.equal(seen.length, expected.length, `${label}: message count`);
  for (let i = 0; i < expected.length; i++) {
    const s = seen[i]!;
    const e = expected[i]!;
    assert.equal(s.offset, i, `${label}: offset of message ${i}`);
    assert.deepEqual({ key: s.key, value: s.value, headers: s.headers }, e, `${label}: message ${i}`);
  }
}

// ---------------------------------------------------------------------------------------------
// recompressForTopic on its own

void describe('recompressForTopic', () => {
  void test('maps every compression.type to its codec; limits are named and bounded', () => {
    assert.deepEqual(
      TYPES.map((t) => topicCodec(t)),
      [null, 0, 1, 2, 3, 4],
    );
    assert.equal(decompressionLimitBytes(CompressionCodec.Gzip, 1000), 1000 * MAX_DECOMPRESSION_RATIO);
    assert.equal(decompressionLimitBytes(CompressionCodec.Zstd, 1 << 30), MAX_DECOMPRESSED_BATCH_BYTES);
    assert.equal(decompressionLimitBytes(CompressionCodec.None, 1000), 1000 - BATCH_HEADER_BYTES);
    assert.equal(decompressionLimitBytes(CompressionCodec.None, 10), 0);
  });

  void test('returns the very same buffer when nothing needs rewriting (zero-copy)', () => {
    const gzip = Buffer.concat([batchOf(1, sampleRecords(4)), batchOf(1, sampleRecords(2))]);
    const none = batchOf(0, sampleRecords(4));
    for (const type of TYPES) {
      const b = batchOf(topicCodec(type) ?? 3, sampleRecords(5));
      assert.equal(recompressForTopic(b, config(type), 't-0'), b, type);
    }
    assert.equal(recompressForTopic(gzip, config('producer'), 't-0'), gzip);
    assert.equal(recompressForTopic(gzip, config('gzip'), 't-0'), gzip);
    assert.equal(recompressForTopic(none, config('uncompressed'), 't-0'), none);
    // A control batch is never recompressed, so a request of control batches alone is untouched.
    const marker = buildEndTxnMarkerBatch({
      producerId: 5n,
      producerEpoch: 1,
      coordinatorEpoch: 2,
      commit: true,
      timestamp: 1_700_000_000_000,
    });
    assert.equal(recompressForTopic(marker, config('zstd'), 't-0'), marker);
  });

  for (const from of ALL_CODECS) {
    for (const type of TYPES.filter((t) => t !== 'producer')) {
      const to = topicCodec(type)!;
      void test(`codec ${from} → ${type}: same records and header fields, topic's codec`, () => {
        const fields: NewBatchFields = {
          producerId: 123_456_789_012n,
          producerEpoch: 7,
          baseSequence: 4242,
          isTransactional: true,
          partitionLeaderEpoch: -1,
        };
        const batch = newRecordBatch(sampleRecords(40), fields);
        // Compaction leaves gaps in offset deltas: the rewrite keeps them and lastOffsetDelta.
        const gappy = {
          ...batch,
          lastOffsetDelta: 60,
          records: batch.records.map((r, i) => ({ ...r, offsetDelta: i + (i > 20 ? 20 : 0) })),
        };
        const sent = encodeRecordBatch(gappy, { compression: from });
        const out = recompressForTopic(sent, config(type), 't-0');
        if (from === to) {
          assert.equal(out, sent);
          return;
        }
        const [stored] = split(out);
        assert.ok(stored);
        assert.equal(new BatchView(stored).compression, to);
        const d = decode(stored);
        assert.equal(d.compression, to);
        assert.deepEqual(contentOf(d), contentOf(decode(sent)));
      });
    }
  }

  void test('a mixed request: only batches in another codec are rewritten; control batches and matching ones keep their bytes', () => {
    const marker = buildEndTxnMarkerBatch({
      producerId: 9n,
      producerEpoch: 0,
      coordinatorEpoch: 3,
      commit: false,
      timestamp: 1_700_000_000_000,
    });
    const zstd = batchOf(4, sampleRecords(6));
    const gzip = batchOf(1, sampleRecords(8));
    const none = batchOf(0, sampleRecords(3), { timestampType: TimestampType.LogAppendTime });
    const out = recompressForTopic(Buffer.concat([gzip, marker, zstd, none]), config('zstd'), 't-0');
    const stored = split(out);
    assert.equal(stored.length, 4);
    assert.deepEqual(
      stored.map((b) => new BatchView(b).compression),
      [4, 0, 4, 4],
    );
    assert.deepEqual(stored[1], marker);
    assert.deepEqual(stored[2], zstd);
    assert.deepEqual(contentOf(decode(stored[0]!)), contentOf(decode(gzip)));
    assert.deepEqual(contentOf(decode(stored[3]!)), contentOf(decode(none)));
    assert.equal(new BatchView(stored[3]!).timestampType, TimestampType.LogAppendTime);
  });

  void test('a batch that cannot be decompressed, or fails its CRC, is CORRUPT_MESSAGE', () => {
    for (const codec of [1, 2, 3, 4] as const) {
      assertStorageError(
        () => recompressForTopic(garbageBatch(codec), config('uncompressed'), 't-0'),
        ErrorCode.CORRUPT_MESSAGE,
        /t-0: a \w+ batch cannot be recompressed to uncompressed/,
      );
    }
    const flipped = batchOf(1, sampleRecords(10));
    flipped[flipped.length - 3]! ^= 0xff;
    assertStorageError(
      () => recompressForTopic(flipped, config('zstd'), 't-0'),
      ErrorCode.CORRUPT_MESSAGE,
      /CRC32C mismatch/,
    );
    // An unknown codec id (5-7) in a batch the topic must rewrite.
    const unknown = batchOf(0, sampleRecords(2));
    unknown.writeUInt16BE(6, BatchField.attributes);
    writeCrc(unknown);
    assertStorageError(() => recompressForTopic(unknown, config('gzip'), 't-0'), ErrorCode.CORRUPT_MESSAGE);
  });

  void test('decompression is bounded: past the limit the batch is MESSAGE_TOO_LARGE', () => {
    const bomb = batchOf(CompressionCodec.Zstd, [{ key: null, value: Buffer.alloc(300_000), timestamp: 1 }]);
    assert.ok(bomb.length < 2000, `a zstd batch of zeros is small (${bomb.length} bytes)`);
    // 64 × 2000 bytes = 128,000 bytes of records may come out; 300,000 do not fit.
    assertStorageError(
      () => recompressForTopic(bomb, config('gzip', 2000), 't-0'),
      ErrorCode.MESSAGE_TOO_LARGE,
      /decompress to more than 128000 bytes/,
    );
    // Stored uncompressed, the records must fit in max.message.bytes: decompression stops there.
    const small = batchOf(CompressionCodec.Gzip, [{ key: null, value: Buffer.alloc(5000), timestamp: 1 }]);
    assertStorageError(
      () => recompressForTopic(small, config('uncompressed', 2000), 't-0'),
      ErrorCode.MESSAGE_TOO_LARGE,
      /more than 1939 bytes/,
    );
    assert.ok(recompressForTopic(small, config('uncompressed', 6000), 't-0').length > 5000);
  });

  void test('max.message.bytes is checked on the batch as sent and again after recompression', () => {
    // As sent: Kafka refuses a batch over the limit before validating it, even one that would shrink.
    const big = batchOf(CompressionCodec.None, [{ key: null, value: Buffer.alloc(5000, 'a'), timestamp: 1 }]);
    assertStorageError(
      () => recompressForTopic(big, config('gzip', 2000), 't-0'),
      ErrorCode.MESSAGE_TOO_LARGE,
      /exceeds max.message.bytes 2000/,
    );
    // After: random data grows a little more under gzip than under zstd.
    const records = [{ key: null, value: randomBytes(1500), timestamp: 1 }];
    const zstd = batchOf(CompressionCodec.Zstd, records);
    const gzipped = batchOf(CompressionCodec.Gzip, records);
    assert.ok(gzipped.length > zstd.length, `gzip ${gzipped.length} > zstd ${zstd.length}`);
    assertStorageError(
      () => recompressForTopic(zstd, config('gzip', zstd.length), 't-0'),
      ErrorCode.MESSAGE_TOO_LARGE,
      new RegExp(`is ${gzipped.length} bytes recompressed gzip, above max.message.bytes ${zstd.length}`),
    );
    assert.equal(
      new BatchView(recompressForTopic(zstd, config('gzip', gzipped.length), 't-0')).compression,
      1,
    );
  });

  void test('bad framing is left to the log: the request comes back unchanged', () => {
    const torn = batchOf(CompressionCodec.Gzip, sampleRecords(3)).subarray(0, 40);
    assert.equal(recompressForTopic(torn, config('zstd'), 't-0'), torn);
    const tornTail = Buffer.concat([
      batchOf(1, sampleRecords(3)),
      batchOf(1, sampleRecords(3)).subarray(0, 30),
    ]);
    assert.equal(recompressForTopic(tornTail, config('zstd'), 't-0'), tornTail);
  });
});

// ---------------------------------------------------------------------------------------------
// Against a real broker

void describe('compression.type on a broker', { timeout: 240_000 }, () => {
  let b: RunningBroker;
  let dataDir: string;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let kcat = false;

  before(async () => {
    dataDir = mkdtempSync(`${tmpdir()}/samsa-compression-`);
    b = await startBroker({ port: 0, dataDir });
    kafka = new Kafka({ brokers: [b.bootstrap], clientId: 'compression', logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    kcat = await have('kcat', ['-V']);
  });

  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await b?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function createTopic(topic: string, configs: Record<string, string>): Promise<void> {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: 1,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
    });
    assert.ok(b.broker.replicaManager.getPartition(topic, 0), `${topic}-0 is hosted`);
  }

  function logEnd(topic: string): number {
    return b.broker.replicaManager.getPartition(topic, 0)!.log.logEndOffset;
  }

  for (const type of TYPES) {
    void test(`compression.type=${type}: kafkajs and kcat produce, batches stored ${type === 'producer' ? 'as sent' : `as ${type}`}, kcat reads all back`, async (t) => {
      const topic = `ct-${type}`;
      await createTopic(topic, { 'compression.type': type });
      const expected: Expected[] = [];
      /** Offset ranges and the codec the producer used for each. */
      const steps: { from: number; to: number; codecs: CompressionCodec[]; label: string }[] = [];

      for (const [label, codec, kjs] of [
        ['kafkajs gzip', CompressionCodec.Gzip, CompressionTypes.GZIP],
        ['kafkajs none', CompressionCodec.None, CompressionTypes.None],
      ] as const) {
        const from = logEnd(topic);
        const messages = Array.from({ length: 25 }, (_, i) => ({
          key: i === 4 ? null : `${label}-key-${i}`,
          value: i === 9 ? null : `${label} value ${i} `.repeat(1 + (i % 5)),
          headers: i % 2 === 0 ? { src: label, n: String(i) } : {},
        }));
        await producer.send({ topic, compression: kjs, messages });
        for (const m of messages) {
          expected.push({
            key: m.key,
            value: m.value,
            headers: Object.entries(m.headers)
              .map(([k, v]) => `${k}=${v}`)
              .join(','),
          });
        }
        steps.push({ from, to: logEnd(topic), codecs: [codec], label });
      }

      if (kcat) {
        for (const codec of KCAT_CODECS) {
          const from = logEnd(topic);
          const lines = Array.from({ length: 30 }, (_, i) => ({
            key: `kcat-${codec}-${i}`,
            value: `kcat ${codec} value ${i} `.repeat(3 + (i % 4)),
          }));
          const r = await run(
            'kcat',
            [
              ...['-P', '-b', b.bootstrap, '-t', topic, '-p', '0', '-K', '\t'],
              ...['-z', codec, '-H', `src=kcat-${codec}`, '-d', 'msg'],
            ],
            lines.map((l) => `${l.key}\t${l.value}`).join('\n') + '\n',
          );
          assert.equal(r.code, 0, r.stderr);
          for (const l of lines) expected.push({ key: l.key, value: l.value, headers: `src=kcat-${codec}` });
          const sent = kcatSentCodecs(r.stderr);
          assert.ok(sent.length > 0, `kcat's debug output names the codec it sent:\n${r.stderr}`);
          if (sent.some((c) => c !== KCAT_CODEC_ID[codec])) {
            t.diagnostic(
              `kcat -z ${codec}: librdkafka sent codec(s) ${sent.join(',')} (see LIBRDKAFKA_DOWNGRADE)`,
            );
          }
          steps.push({ from, to: logEnd(topic), codecs: sent, label: `kcat ${codec}` });
        }
      }
      assert.equal(logEnd(topic), expected.length);

      const stored = await storedBatches(b, topic);
      assert.ok(stored.length >= steps.length);
      for (const batch of stored) {
        const view = new BatchView(batch);
        const step = steps.find((s) => view.baseOffsetNumber >= s.from && view.baseOffsetNumber < s.to);
        assert.ok(step, `batch at ${view.baseOffsetNumber} belongs to a step`);
        const want = topicCodec(type);
        if (want !== null) {
          assert.equal(view.compression, want, `${step.label}: batch at offset ${view.baseOffsetNumber}`);
        } else {
          assert.ok(
            (step.codecs as number[]).includes(view.compression),
            `${step.label}: batch at offset ${view.baseOffsetNumber} stored with codec ${view.compression}, sent with ${step.codecs.join(',')}`,
          );
        }
        assert.equal(view.producerId, -1n);
        assert.equal(decode(batch).records.length, view.lastOffsetDelta + 1);
      }

      if (!kcat) return t.skip(`${KCAT_MISSING}; stored codecs checked for kafkajs only`);
      checkConsumed(await kcatConsume(b.bootstrap, topic, expected.length), expected, topic);
    });
  }

  void test('LogAppendTime with recompression: the rewritten batch carries the append time', async (t) => {
    const topic = 'ct-logappend';
    await createTopic(topic, { 'compression.type': 'gzip', 'message.timestamp.type': 'LogAppendTime' });
    const before = Date.now();
    const messages = Array.from({ length: 12 }, (_, i) => ({
      key: `k${i}`,
      value: `old timestamp ${i} `.repeat(4),
      headers: { n: String(i) },
      timestamp: String(1000 + i),
    }));
    await producer.send({ topic, compression: CompressionTypes.None, messages: messages.slice(0, 6) });
    await producer.send({ topic, compression: CompressionTypes.GZIP, messages: messages.slice(6) });
    const afterMs = Date.now();
    const stored = await storedBatches(b, topic);
    assert.equal(stored.length, 2);
    const stamps: number[] = [];
    for (const batch of stored) {
      const d = decode(batch); // CRC checked: it covers the stamped header
      assert.equal(d.compression, CompressionCodec.Gzip);
      assert.equal(d.timestampType, TimestampType.LogAppendTime);
      assert.ok(
        d.maxTimestamp >= before && d.maxTimestamp <= afterMs,
        `${d.maxTimestamp} in [${before}, ${afterMs}]`,
      );
      assert.equal(d.baseTimestamp, 1000 + (d.baseOffset === 0n ? 0 : 6), 'baseTimestamp kept as sent');
      stamps.push(d.maxTimestamp);
    }
    if (!kcat) return t.skip(KCAT_MISSING);
    const seen = await kcatConsume(b.bootstrap, topic, messages.length);
    checkConsumed(
      seen,
      messages.map((m) => ({ key: m.key, value: m.value, headers: `n=${m.headers.n}` })),
      topic,
    );
    for (const s of seen) {
      assert.equal(s.tstype, 'logappend');
      assert.equal(s.ts, stamps[s.offset < 6 ? 0 : 1]);
    }
  });

  void test('a compressed batch that cannot be decompressed is refused with CORRUPT_MESSAGE', async () => {
    const topic = 'ct-corrupt';
    await createTopic(topic, { 'compression.type': 'gzip' });
    for (const codec of [2, 3, 4] as const) {
      const r = await rawProduce(b.port, topic, garbageBatch(codec));
      assert.equal(r.errorCode, ErrorCode.CORRUPT_MESSAGE, r.errorMessage ?? '');
      assert.match(r.errorMessage ?? '', /ct-corrupt-0: a \w+ batch cannot be recompressed to gzip/);
    }
    // Two batches in one partition's records: refused from Produce v3 on (one batch per partition).
    const mixed = Buffer.concat([batchOf(0, sampleRecords(3)), garbageBatch(CompressionCodec.Lz4)]);
    assert.equal((await rawProduce(b.port, topic, mixed)).errorCode, ErrorCode.INVALID_RECORD);
    assert.equal(logEnd(topic), 0);
    const ok = await rawProduce(b.port, topic, batchOf(CompressionCodec.Snappy, sampleRecords(3)));
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(logEnd(topic), 3);
  });

  void test('max.message.bytes: checked as sent and after recompression (MESSAGE_TOO_LARGE)', async () => {
    const topic = 'ct-too-large';
    await createTopic(topic, { 'compression.type': 'uncompressed', 'max.message.bytes': '2000' });
    // 10,000 bytes of one letter: a tiny gzip batch, far over the limit once stored uncompressed.
    const gzip = batchOf(CompressionCodec.Gzip, [
      { key: null, value: Buffer.alloc(10_000, 'z'), timestamp: 1 },
    ]);
    assert.ok(gzip.length < 2000);
    const r = await rawProduce(b.port, topic, gzip);
    assert.equal(r.errorCode, ErrorCode.MESSAGE_TOO_LARGE, r.errorMessage ?? '');
    const fits = batchOf(CompressionCodec.Gzip, [
      { key: null, value: Buffer.alloc(1000, 'z'), timestamp: 1 },
    ]);
    assert.equal((await rawProduce(b.port, topic, fits)).errorCode, ErrorCode.NONE);
    assert.equal(logEnd(topic), 1);
    const [stored] = await storedBatches(b, topic);
    assert.equal(new BatchView(stored!).compression, CompressionCodec.None);
  });

  void test('compression.type=producer (and a batch already in the topic codec) is stored byte for byte', async () => {
    const pairs: [CompressionType, CompressionCodec[]][] = [
      ['producer', [0, 1, 2, 3, 4]],
      ['lz4', [3]],
    ];
    for (const [type, codecs] of pairs) {
      const topic = `ct-zero-copy-${type}`;
      await createTopic(topic, { 'compression.type': type });
      const sent = codecs.map((codec, i) =>
        batchOf(codec, sampleRecords(5 + i), {
          producerId: 1000n + BigInt(i),
          producerEpoch: 0,
          baseSequence: 0,
        }),
      );
      for (const batch of sent) {
        const r = await rawProduce(b.port, topic, Buffer.from(batch));
        assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
      }
      const stored = await storedBatches(b, topic);
      assert.equal(stored.length, sent.length);
      let offset = 0;
      for (let i = 0; i < sent.length; i++) {
        const s = stored[i]!;
        const want = sent[i]!;
        assert.equal(s.length, want.length);
        // Only the base offset (bytes 0-7) and the partition leader epoch (12-15) differ.
        assert.deepEqual(s.subarray(8, 12), want.subarray(8, 12));
        assert.deepEqual(
          s.subarray(16),
          want.subarray(16),
          `${type}: batch ${i} bytes after the leader epoch`,
        );
        assert.equal(new BatchView(s).baseOffsetNumber, offset);
        offset += 5 + i;
      }
    }
  });

  void test('recompression keeps producer id, epoch and base sequence on the stored batch', async () => {
    const topic = 'ct-idempotent';
    await createTopic(topic, { 'compression.type': 'zstd' });
    const sent = batchOf(CompressionCodec.Gzip, sampleRecords(20), {
      producerId: 77_000n,
      producerEpoch: 2,
      baseSequence: 0,
    });
    const r = await rawProduce(b.port, topic, sent);
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    const [stored] = await storedBatches(b, topic);
    const d = decode(stored!);
    assert.equal(d.compression, CompressionCodec.Zstd);
    assert.equal(d.producerId, 77_000n);
    assert.equal(d.producerEpoch, 2);
    assert.equal(d.baseSequence, 0);
    assert.equal(d.partitionLeaderEpoch, b.broker.replicaManager.getPartition(topic, 0)!.leaderEpoch);
    const { baseOffset: _b, partitionLeaderEpoch: _e, ...got } = contentOf(d);
    const { baseOffset: _b2, partitionLeaderEpoch: _e2, ...want } = contentOf(decode(sent));
    assert.deepEqual(got, want);
  });
});
