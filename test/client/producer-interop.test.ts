/**
 * Interop: 2,000 records with keys and headers, written by Samsa's Producer in every codec, are
 * read back exactly by third-party consumers (kafkajs and @platformatic/kafka, each as the only
 * member of its consumer group): values, keys, headers, the partition Kafka's Java partitioner
 * picks for the key, per-partition order and offsets continuous from 0.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compressionsAlgorithms,
  Consumer as PlatformaticConsumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializers,
} from '@platformatic/kafka';
import kafkajs, { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { decompress as zstdDecompress } from 'zstd-napi';
import { Producer, type CompressionName, type ProducerRecord } from '../../src/client/producer.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import { COMPRESSION_CODEC_MASK } from '../../src/protocol/records/batch-view.js';
import { RawClient } from '../broker/raw-client.js';
import { have, run } from '../broker/interop/support.js';
import { withBroker } from './support.js';

const TOPIC = 'interop';
const PARTITIONS = 4;
const COUNT = 2000;
const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const CONSUME_TIMEOUT_MS = 30_000;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/**
 * Snappy as Kafka's Java producer writes it (and Samsa, for the same reason): xerial framing, a
 * 16-byte header then blocks of a 4-byte length and a raw snappy block. @platformatic/kafka's
 * decoder reads only raw snappy, so the frames are unwrapped here and each block handed to it.
 */
function unframeSnappy(data: Buffer, rawBlock: (b: Buffer) => Buffer): Buffer {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return rawBlock(data);
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_BYTES;
  for (let i = 0; pos + 4 <= data.length && i < 1_000_000; i++) {
    const length = data.readInt32BE(pos);
    blocks.push(rawBlock(data.subarray(pos + 4, pos + 4 + length)));
    pos += 4 + length;
  }
  assert.equal(pos, data.length, 'xerial blocks fill the snappy data exactly');
  return Buffer.concat(blocks);
}

/** A Buffer view of what @platformatic/kafka's codecs return (Buffer, Uint8Array or DynamicBuffer). */
function plain(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const inner = (data as { buffer?: unknown }).buffer;
  assert.ok(Buffer.isBuffer(inner), 'a Buffer, a Uint8Array or a DynamicBuffer');
  return inner;
}

/**
 * kafkajs decodes only gzip itself; its codec slots get third-party decoders, not Samsa's:
 * @platformatic/kafka's snappy and lz4 (WebAssembly builds) and the zstd reference library.
 * @platformatic/kafka reads zstd only where node:zlib has it (Node 22.15+); elsewhere it gets
 * the reference library too.
 */
function installCodecs(): void {
  const algorithms = compressionsAlgorithms as unknown as Record<
    'snappy' | 'lz4' | 'zstd',
    { decompressSync: (d: unknown) => unknown; available: boolean }
  >;
  const rawSnappy = algorithms.snappy.decompressSync.bind(algorithms.snappy);
  if (!(rawSnappy as { xerial?: boolean }).xerial) {
    const framed = (d: unknown): Buffer => unframeSnappy(plain(d), (b) => plain(rawSnappy(b)));
    (framed as { xerial?: boolean }).xerial = true;
    algorithms.snappy.decompressSync = framed;
  }
  if (!algorithms.zstd.available) algorithms.zstd.decompressSync = (d) => zstdDecompress(plain(d));
  const codec = (decompress: (b: Buffer) => Buffer) => () => ({
    compress: () => Promise.reject(new Error('this test only reads')),
    decompress: (b: Buffer) => Promise.resolve(decompress(b)),
  });
  // Not a named export of the CommonJS module.
  const { CompressionCodecs } = kafkajs;
  CompressionCodecs[CompressionTypes.Snappy] = codec((b) => plain(algorithms.snappy.decompressSync(b)));
  CompressionCodecs[CompressionTypes.LZ4] = codec((b) => plain(algorithms.lz4.decompressSync(b)));
  CompressionCodecs[CompressionTypes.ZSTD] = codec((b) => zstdDecompress(b));
}

interface Seen {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: string;
}

const keyOf = (i: number): string => `key-${i % 97}`;
const codecOf = (i: number): CompressionName => CODECS[Math.floor((i * CODECS.length) / COUNT)]!;
/** Headers as the consumers print them: name=value, in record order. */
const headersOf = (i: number): string => `idx=${i},codec=${codecOf(i)}${i % 3 === 0 ? ',extra=ü€' : ''}`;

function javaPartition(key: string): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({
    partitionId: i,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: TOPIC, partitionMetadata, message: { key, value: null } });
}

/** Writes the records, a fifth in each codec, each fifth with its own producer, in order. */
async function produceAll(bootstrap: string): Promise<void> {
  for (const codec of CODECS) {
    const producer = new Producer({ bootstrapServers: bootstrap, compression: codec, lingerMs: 5 });
    try {
      const records: (ProducerRecord & { key: string })[] = [];
      for (let i = 0; i < COUNT; i++) {
        if (codecOf(i) !== codec) continue;
        const headers: Record<string, string> = { idx: String(i), codec };
        if (i % 3 === 0) headers['extra'] = 'ü€';
        records.push({ topic: TOPIC, key: keyOf(i), value: `value-${i}`, headers });
      }
      const metadata = await producer.sendBatch(records);
      metadata.forEach((m, j) => {
        assert.equal(
          m.partition,
          javaPartition(records[j]!.key),
          `partition of record ${j} in the ${codec} fifth`,
        );
      });
    } finally {
      await producer.close();
    }
  }
}

/** The codec of every stored batch of every partition, read with raw Fetch requests. */
async function storedCodecs(port: number): Promise<Set<number>> {
  const client = await RawClient.open(port);
  const codecs = new Set<number>();
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      let offset = 0n;
      for (let round = 0; round < 100; round++) {
        const response = await client.send(FetchRequest, FetchResponse, 4, {
          ...FetchRequest.create(),
          replicaId: -1,
          maxBytes: 1 << 24,
          topics: [
            {
              ...FetchRequest.structs.FetchTopic(),
              topic: TOPIC,
              partitions: [
                {
                  ...FetchRequest.structs.FetchPartition(),
                  partition,
                  fetchOffset: offset,
                  partitionMaxBytes: 1 << 24,
                },
              ],
            },
          ],
        });
        const data = response.responses[0]?.partitions[0];
        assert.ok(data !== undefined && data.errorCode === 0, `fetch ${TOPIC}-${partition}`);
        const records = data.records ?? Buffer.alloc(0);
        for (let pos = 0; pos + 61 <= records.length;) {
          const size = 12 + records.readInt32BE(pos + 8);
          if (pos + size > records.length) break;
          codecs.add(records.readInt16BE(pos + 21) & COMPRESSION_CODEC_MASK);
          offset = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + 23)) + 1n;
          pos += size;
        }
        if (offset >= data.highWatermark) break;
      }
    }
  } finally {
    client.close();
  }
  return codecs;
}

/** Reads the topic with kcat (librdkafka, which decodes every codec itself), when installed. */
async function kcatConsume(bootstrap: string): Promise<Seen[]> {
  const r = await run('kcat', [
    '-C',
    '-b',
    bootstrap,
    '-t',
    TOPIC,
    '-o',
    'beginning',
    '-e',
    '-c',
    String(COUNT),
    '-J',
    '-q',
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const j = JSON.parse(line) as {
        partition: number;
        offset: number;
        key: string;
        payload: string;
        headers?: string[];
      };
      const h = j.headers ?? [];
      const pairs: string[] = [];
      for (let i = 0; i + 1 < h.length; i += 2) pairs.push(`${h[i]}=${h[i + 1]}`);
      return {
        partition: j.partition,
        offset: j.offset,
        key: j.key,
        value: j.payload,
        headers: pairs.join(','),
      };
    });
}

async function kafkajsConsume(bootstrap: string): Promise<Seen[]> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'producer-interop', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: 'kafkajs-reader',
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  const seen: Seen[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        seen.push({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers: Object.entries(message.headers ?? {})
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(','),
        });
        if (seen.length >= COUNT) done();
        return Promise.resolve();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, CONSUME_TIMEOUT_MS)))]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function platformaticConsume(bootstrap: string): Promise<Seen[]> {
  const consumer = new PlatformaticConsumer({
    clientId: 'producer-interop-platformatic',
    bootstrapBrokers: [bootstrap],
    groupId: 'platformatic-reader',
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    deserializers: stringDeserializers,
  });
  const seen: Seen[] = [];
  const deadline = Date.now() + CONSUME_TIMEOUT_MS;
  try {
    const stream = await consumer.consume({
      topics: [TOPIC],
      mode: MessagesStreamModes.EARLIEST,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      maxWaitTime: 200,
    });
    for await (const m of stream) {
      seen.push({
        partition: m.partition,
        offset: Number(m.offset),
        key: m.key,
        value: m.value,
        headers: [...m.headers].map(([k, v]) => `${String(k)}=${String(v)}`).join(','),
      });
      if (seen.length >= COUNT || Date.now() > deadline) break;
    }
    await stream.close();
  } finally {
    await consumer.close();
  }
  return seen;
}

/** Exactly the records written: each once, in its Java partition, in order, offsets from 0 without gaps. */
function checkExact(seen: Seen[], reader: string): void {
  assert.equal(seen.length, COUNT, `${reader} read every record`);
  assert.equal(new Set(seen.map((s) => s.value)).size, COUNT, `${reader}: no duplicates`);
  const byPartition = new Map<number, Seen[]>();
  for (const s of seen) {
    const list = byPartition.get(s.partition) ?? [];
    list.push(s);
    byPartition.set(s.partition, list);
  }
  for (const [partition, list] of byPartition) {
    list.sort((a, b) => a.offset - b.offset);
    let previous = -1;
    list.forEach((s, i) => {
      assert.equal(s.offset, i, `${reader}: offsets of partition ${partition} continuous from 0`);
      const index = Number(s.value.slice('value-'.length));
      assert.ok(index > previous, `${reader}: partition ${partition} holds its records in send order`);
      previous = index;
      assert.equal(s.key, keyOf(index), `${reader}: key of record ${index}`);
      assert.equal(s.headers, headersOf(index), `${reader}: headers of record ${index}`);
      assert.equal(
        partition,
        javaPartition(s.key),
        `${reader}: record ${index} in the Java partition of its key`,
      );
    });
  }
}

void describe('Producer interop', () => {
  void test(`${COUNT} records in every codec are read back exactly by kafkajs, @platformatic/kafka and kcat`, async (t) => {
    installCodecs();
    await withBroker(
      { 'num.partitions': String(PARTITIONS), 'group.initial.rebalance.delay.ms': '0' },
      async (b) => {
        await produceAll(b.bootstrap);
        assert.deepEqual(
          [...(await storedCodecs(b.port))].sort(),
          [
            CompressionCodec.None,
            CompressionCodec.Gzip,
            CompressionCodec.Snappy,
            CompressionCodec.Lz4,
            CompressionCodec.Zstd,
          ],
          'batches of every codec are stored',
        );
        checkExact(await kafkajsConsume(b.bootstrap), 'kafkajs');
        checkExact(await platformaticConsume(b.bootstrap), '@platformatic/kafka');
        if (await have('kcat')) checkExact(await kcatConsume(b.bootstrap), 'kcat');
        else t.diagnostic('kcat is not installed (.ci/run installs it): librdkafka not checked');
      },
    );
  });
});
