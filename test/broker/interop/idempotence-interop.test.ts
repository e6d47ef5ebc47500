/**
 * Idempotent producers of third-party clients against a real broker, the clients judging:
 * kafkajs (idempotent, one request in flight) produces keyed records that a kafkajs consumer
 * reads back exactly once and in order; librdkafka (confluent-kafka-python, and kcat) produces
 * through a proxy that cuts the connection instead of forwarding some Produce responses — the
 * batches are written, the client does not know it and retries them — and every record must be
 * in the log exactly once, in the order sent, at the offset the client was told.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';

import { startBroker, type RunningBroker } from '../../../src/broker/embed.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { decodeRecordBatch } from '../../../src/protocol/records/batch.js';
import { BatchSplitter } from '../../../src/protocol/records/batch-view.js';
import { RawClient } from '../raw-client.js';
import { DroppingProxy, type DropOptions } from './dropping-proxy.js';
import { freePort, repoRoot } from './process.js';
import { jsonLines, PYTHON } from './records.js';
import { have, javaPartition, run, withBroker } from './support.js';

const PARTITIONS = 3;
const KAFKAJS_COUNT = 2_000;
const RDKAFKA_COUNT = 5_000;
const RDKAFKA_CUT_REQUEST_COUNT = 2_000;
const KCAT_COUNT = 3_000;
const IDEMPOTENT_PRODUCER = join(repoRoot(), 'test', 'broker', 'interop', 'python', 'idempotent_producer.py');
const NO_CONFLUENT = `confluent-kafka-python does not import with ${PYTHON} (CI installs python3-confluent-kafka)`;
const NO_KCAT = 'kcat is not installed (CI installs it; `kcat -V` failed here)';

interface Stored {
  partition: number;
  offset: number;
  key: string;
  value: string;
  producerId: bigint;
}

/**
 * A dropping proxy and a broker behind it that advertises the proxy's port. The broker listens
 * on a port picked beforehand: with advertised.listeners set, RunningBroker.port is the
 * advertised port, not the one it listens on. `b.port` below is the real one.
 */
async function withProxiedBroker(
  drops: DropOptions,
  run: (b: RunningBroker, proxy: DroppingProxy) => Promise<void>,
): Promise<void> {
  const proxy = await DroppingProxy.listen(drops);
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-idem-proxy-'));
  try {
    const port = await freePort();
    const b = await startBroker({
      port,
      dataDir,
      config: {
        'num.partitions': String(PARTITIONS),
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}`,
      },
    });
    try {
      assert.equal(b.bootstrap, `127.0.0.1:${proxy.port}`, 'the broker advertises the proxy');
      proxy.setTarget(port);
      await run({ ...b, port }, proxy);
    } finally {
      await b.stop();
    }
  } finally {
    await proxy.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function createTopic(b: RunningBroker, name: string): Promise<void> {
  const created = await b.broker.controller.createTopics(
    [{ name, numPartitions: PARTITIONS, replicationFactor: -1, assignments: [], configs: [] }],
    false,
  );
  assert.equal(created[0]!.errorCode, ErrorCode.NONE, `created ${name}`);
}

/** Every record of every partition, with raw Fetch requests straight to the broker (not the proxy). */
async function readTopic(b: RunningBroker, topic: string): Promise<Stored[]> {
  const raw = await RawClient.open(b.port);
  const out: Stored[] = [];
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      let offset = 0;
      let end = -1;
      for (let i = 0; i < 1000 && offset !== end; i++) {
        const p = await raw.fetchPartition(topic, partition, offset);
        assert.ok(p !== undefined, 'Fetch answered the partition');
        assert.equal(p.errorCode, ErrorCode.NONE, `Fetch ${topic}-${partition} at ${offset}`);
        end = Number(p.highWatermark);
        const it = new BatchSplitter(p.records ?? Buffer.alloc(0));
        while (it.next()) {
          const batch = decodeRecordBatch(Buffer.from(it.batch()), { maxDecompressedBytes: 1 << 26 });
          if (batch instanceof Error) throw batch;
          for (const r of batch.records) {
            const o = Number(batch.baseOffset) + r.offsetDelta;
            if (o < offset) continue;
            out.push({
              partition,
              offset: o,
              key: r.key?.toString('utf8') ?? '',
              value: r.value?.toString('utf8') ?? '',
              producerId: batch.producerId,
            });
          }
          offset = Number(batch.baseOffset) + batch.lastOffsetDelta + 1;
        }
      }
      assert.equal(offset, end, `read ${topic}-${partition} to its high watermark`);
    }
  } finally {
    raw.close();
  }
  return out;
}

/**
 * Judges a topic whose records are `v-<i>` for i in [0, count), key `k-<i % keys>`: each exactly
 * once, on the Java client's partition for its key, offsets continuous from 0, and in every
 * partition in the order sent (i increasing with the offset).
 */
function checkExactlyOnceInOrder(stored: readonly Stored[], count: number, keys: number, who: string): void {
  const byValue = new Map<string, Stored>();
  for (const s of stored) {
    assert.ok(!byValue.has(s.value), `${who}: ${s.value} is in the log more than once`);
    byValue.set(s.value, s);
  }
  for (let i = 0; i < count; i++) {
    assert.ok(byValue.has(`v-${i}`), `${who}: v-${i} is missing`);
  }
  assert.equal(stored.length, count, `${who}: nothing but the records sent`);
  for (let p = 0; p < PARTITIONS; p++) {
    const part = stored.filter((s) => s.partition === p).sort((a, b) => a.offset - b.offset);
    let last = -1;
    part.forEach((s, k) => {
      assert.equal(s.offset, k, `${who}: offsets of partition ${p} are continuous from 0`);
      const i = Number(s.value.slice(2));
      assert.equal(s.key, `k-${i % keys}`, `${who}: key of ${s.value}`);
      assert.equal(
        s.partition,
        javaPartition(Buffer.from(s.key), PARTITIONS),
        `${who}: ${s.value}'s partition`,
      );
      assert.ok(i > last, `${who}: partition ${p} in send order: ${s.value} at ${s.offset} after v-${last}`);
      last = i;
    });
  }
}

function idempotentBatches(stored: readonly Stored[]): number {
  return stored.filter((s) => s.producerId >= 0n).length;
}

/** Log end offsets summed over the partitions, seen from the broker itself. */
function logEnd(b: RunningBroker, topic: string): number {
  let total = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const partition = b.broker.replicaManager.getPartition(topic, p);
    assert.ok(partition !== undefined, `${topic}-${p} is hosted`);
    total += partition.log.logEndOffset;
  }
  return total;
}

/**
 * confluent-kafka-python's idempotent producer sends `count` records through a dropping proxy;
 * then the topic is read straight from the broker and judged.
 */
async function rdkafkaThroughProxy(topic: string, count: number, drops: DropOptions): Promise<void> {
  await withProxiedBroker(drops, async (b, proxy) => {
    await createTopic(b, topic);
    const r = await run(PYTHON, [IDEMPOTENT_PRODUCER, b.bootstrap, topic, String(count)], '', 55_000);
    assert.equal(r.code, 0, `the producer exited with ${r.code}\n${r.stderr}`);
    const lines = jsonLines<{
      event: string;
      value?: string;
      partition?: number;
      offset?: number;
      error?: string;
      message?: string;
      fatal?: boolean;
      delivered?: number;
      failed?: number;
      pending?: number;
    }>(r.stdout);
    const end = lines.at(-1);
    const failures = lines.filter((l) => l.event === 'failed').slice(0, 5);
    const fatal = lines.filter((l) => l.event === 'error' && l.fatal === true);
    assert.deepEqual(fatal, [], 'no fatal producer error (an idempotence violation is fatal in librdkafka)');
    assert.equal(end?.event, 'end', `the producer finished: ${JSON.stringify(end)}`);
    assert.deepEqual(
      [end.delivered, end.failed, end.pending],
      [count, 0, 0],
      `every record delivered; failures: ${JSON.stringify(failures)}`,
    );

    const stored = await readTopic(b, topic);
    checkExactlyOnceInOrder(stored, count, 37, 'librdkafka');
    // Delivery reports carry the offsets of the first write, also for a retried batch.
    const at = new Map(stored.map((s) => [s.value, s]));
    for (const l of lines) {
      if (l.event !== 'delivered') continue;
      const s = at.get(l.value!);
      assert.ok(s !== undefined, `${l.value} is in the log`);
      assert.deepEqual(
        [l.partition, l.offset],
        [s.partition, s.offset],
        `${l.value}: the delivery report's partition and offset are where it is`,
      );
    }
    assert.equal(idempotentBatches(stored), count, 'every record came in an idempotent batch');

    const repeats = proxy.repeats();
    const reachedBroker = proxy.sentBatches.reduce((n, s) => n + s.records, 0);
    console.log(
      `librdkafka through the proxy (cut at the ${drops.cut ?? 'response'}): ${proxy.stats.drops} connections cut, ${proxy.stats.produceResponses} ` +
        `Produce responses seen (${proxy.stats.connections} connections, ${proxy.stats.produceRequests} Produce requests); ` +
        `${repeats.batches} batches (${repeats.records} records) reached the broker again; ` +
        `${reachedBroker} records reached it in all, ${logEnd(b, topic)} are in the log: ` +
        `${reachedBroker - logEnd(b, topic)} suppressed as duplicates`,
    );
    assert.ok(proxy.stats.drops >= 5, `the proxy cut ≥ 5 connections at Produce (${proxy.stats.drops})`);
    assert.ok(repeats.batches >= 1, 'batches whose acknowledgement was lost reached the broker again');
    assert.equal(logEnd(b, topic), count, 'the log holds exactly what was sent');
  });
}

void describe('idempotent producers of other clients', { timeout: 120_000 }, () => {
  void test('kafkajs (idempotent): 2,000 keyed records, read back by a kafkajs consumer exactly once, in order', async () => {
    await withBroker({}, async (b) => {
      const topic = 'idem-kafkajs';
      await createTopic(b, topic);
      const kafka = new Kafka({
        brokers: [b.bootstrap],
        clientId: 'idem-kafkajs',
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        const BATCH = 100;
        for (let start = 0; start < KAFKAJS_COUNT; start += BATCH) {
          await producer.send({
            topic,
            acks: -1,
            messages: Array.from({ length: BATCH }, (_, j) => ({
              key: `k-${(start + j) % 37}`,
              value: `v-${start + j}`,
            })),
          });
        }
      } finally {
        await producer.disconnect();
      }

      const consumer = kafka.consumer({
        groupId: 'idem-kafkajs',
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
      });
      const seen: Stored[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        let done!: () => void;
        const finished = new Promise<void>((r) => (done = r));
        await consumer.run({
          eachMessage: ({ partition, message }) => {
            seen.push({
              partition,
              offset: Number(message.offset),
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
              producerId: -1n,
            });
            if (seen.length >= KAFKAJS_COUNT) done();
            return Promise.resolve();
          },
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
        clearTimeout(timer);
      } finally {
        await consumer.disconnect();
      }
      checkExactlyOnceInOrder(seen, KAFKAJS_COUNT, 37, 'kafkajs consumer');
      assert.equal(logEnd(b, topic), KAFKAJS_COUNT, 'the log holds exactly what was sent');
      const stored = await readTopic(b, topic);
      assert.equal(idempotentBatches(stored), KAFKAJS_COUNT, 'every record came in an idempotent batch');
    });
  });

  void test('librdkafka (confluent-kafka-python, enable.idempotence) through a proxy that loses Produce responses', async (t) => {
    if (!(await have(PYTHON, ['-c', 'import confluent_kafka']))) {
      t.skip(NO_CONFLUENT);
      return;
    }
    await rdkafkaThroughProxy('idem-rdkafka', RDKAFKA_COUNT, {
      every: 5,
      minBytes: 30,
      maxDrops: 20,
      after: 2,
      cut: 'response',
    });
  });

  void test('librdkafka (enable.idempotence) through a proxy that cuts right after Produce requests', async (t) => {
    if (!(await have(PYTHON, ['-c', 'import confluent_kafka']))) {
      t.skip(NO_CONFLUENT);
      return;
    }
    await rdkafkaThroughProxy('idem-rdkafka-req', RDKAFKA_CUT_REQUEST_COUNT, {
      every: 4,
      maxDrops: 12,
      after: 2,
      cut: 'request',
    });
  });

  void test('kcat (enable.idempotence) through a proxy that loses Produce responses', async (t) => {
    if (!(await have('kcat', ['-V']))) {
      t.skip(NO_KCAT);
      return;
    }
    await withProxiedBroker({ every: 4, minBytes: 30, maxDrops: 10, after: 1 }, async (b, proxy) => {
      const topic = 'idem-kcat';
      await createTopic(b, topic);
      const input = Array.from({ length: KCAT_COUNT }, (_, i) => `k-${i % 37}:v-${i}\n`).join('');
      const r = await run(
        'kcat',
        [
          '-P',
          '-b',
          // kcat gives up when all its broker connections are down at once: a second
          // bootstrap address keeps one handle up while the proxy cuts the other.
          `${b.bootstrap},localhost:${b.bootstrap.split(':')[1]!}`,
          '-t',
          topic,
          '-K',
          ':',
          '-X',
          'enable.idempotence=true',
          '-X',
          'partitioner=murmur2_random',
          '-X',
          'batch.num.messages=20',
          '-X',
          'linger.ms=1',
          '-X',
          'reconnect.backoff.ms=10',
          '-X',
          'reconnect.backoff.max.ms=100',
          '-X',
          'retry.backoff.ms=20',
          '-X',
          'message.timeout.ms=30000',
        ],
        input,
        45_000,
      );
      assert.equal(r.code, 0, `kcat exited with ${r.code}\n${r.stderr}`);
      assert.ok(!/Delivery failed/.test(r.stderr), `no delivery failure\n${r.stderr}`);

      const stored = await readTopic(b, topic);
      checkExactlyOnceInOrder(stored, KCAT_COUNT, 37, 'kcat');
      const repeats = proxy.repeats();
      console.log(
        `kcat through the proxy: ${proxy.stats.drops} connections cut after ${proxy.stats.produceResponses} ` +
          `Produce responses; ${repeats.batches} batches (${repeats.records} records) reached the broker again`,
      );
      assert.ok(proxy.stats.drops >= 1, `the proxy cut connections after Produce (${proxy.stats.drops})`);
    });
  });
});
