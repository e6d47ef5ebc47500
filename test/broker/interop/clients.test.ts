/**
 * Real clients against a real broker over sockets: kafkajs produces and kcat (librdkafka)
 * consumes; kcat and confluent-kafka-python (librdkafka) produce in every codec and
 * kafka-python consumes. Every value, key, header, per-key order and partition is checked.
 * kcat and kafka-python read by partition assignment; kafkajs and @platformatic/kafka read as
 * members of a consumer group (their only way to consume a whole topic).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Consumer as PlatformaticConsumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializers,
} from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { have, javaPartition, run, withBroker } from './support.js';

const PYTHON = '/usr/bin/python3';
const PARTITIONS = 3;
const COUNT = Number(process.env['INTEROP_MESSAGES'] ?? 2000);

interface Seen {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: string;
}

/** Consumes a topic from the beginning with kcat; one JSON object per message. */
async function kcatConsume(bootstrap: string, topic: string, expected: number): Promise<Seen[]> {
  const r = await run('kcat', [
    '-C',
    '-b',
    bootstrap,
    '-t',
    topic,
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
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const j = JSON.parse(l) as {
        partition: number;
        offset: number;
        key: string | null;
        payload: string | null;
        headers?: string[];
      };
      // kcat lists headers as a flat array: name, value, name, value …
      const h = j.headers ?? [];
      const pairs: string[] = [];
      for (let i = 0; i + 1 < h.length; i += 2) pairs.push(`${h[i]}=${h[i + 1]}`);
      return {
        partition: j.partition,
        offset: j.offset,
        key: j.key ?? '',
        value: j.payload ?? '',
        headers: pairs.join(','),
      };
    });
}

/** Consumes every partition from the beginning with kafka-python (no group). */
async function kafkaPythonConsume(bootstrap: string, topic: string, expected: number): Promise<Seen[]> {
  const script = `
import json, sys
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id=None, enable_auto_commit=False, consumer_timeout_ms=10000)
parts = [TopicPartition(sys.argv[2], p) for p in sorted(c.partitions_for_topic(sys.argv[2]))]
c.assign(parts)
c.seek_to_beginning(*parts)
n = 0
for m in c:
    print(json.dumps({"partition": m.partition, "offset": m.offset, "key": (m.key or b"").decode(), "value": (m.value or b"").decode(),
                      "headers": ",".join(k + "=" + v.decode() for k, v in m.headers)}), flush=True)
    n += 1
    if n >= int(sys.argv[3]):
        break
c.close()
`;
  const r = await run(PYTHON, ['-c', script, bootstrap, topic, String(expected)]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Seen);
}

/** Consumes a whole topic as the only member of a kafkajs consumer group. */
async function kafkajsConsume(bootstrap: string, topic: string, expected: number): Promise<Seen[]> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'interop-consumer', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `kjs-${topic}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  const seen: Seen[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        const headers = Object.entries(message.headers ?? {}).map(([k, v]) => `${k}=${String(v)}`);
        seen.push({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers: headers.join(','),
        });
        if (seen.length >= expected) done();
        return Promise.resolve();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, 60_000)))]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/** Consumes a whole topic as the only member of an @platformatic/kafka consumer group. */
async function platformaticConsume(bootstrap: string, topic: string, expected: number): Promise<Seen[]> {
  const consumer = new PlatformaticConsumer({
    clientId: 'interop-platformatic',
    bootstrapBrokers: [bootstrap],
    groupId: `platformatic-${topic}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    deserializers: stringDeserializers,
  });
  const seen: Seen[] = [];
  const deadline = Date.now() + 60_000;
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      maxWaitTime: 200,
    });
    for await (const m of stream) {
      const headers = [...m.headers].map(([k, v]) => `${String(k)}=${String(v)}`);
      seen.push({
        partition: m.partition,
        offset: Number(m.offset),
        key: m.key,
        value: m.value,
        headers: headers.join(','),
      });
      if (seen.length >= expected || Date.now() > deadline) break;
    }
    await stream.close();
  } finally {
    await consumer.close();
  }
  return seen;
}

function checkExact(
  seen: Seen[],
  count: number,
  keyOf: (i: number) => string,
  headerOf: (i: number) => string,
): void {
  assert.equal(seen.length, count);
  const byValue = new Map(seen.map((s) => [s.value, s]));
  assert.equal(byValue.size, count, 'no duplicates');
  const lastIndexPerKey = new Map<string, number>();
  const offsetsPerPartition = new Map<number, number[]>();
  for (const s of seen)
    (offsetsPerPartition.get(s.partition) ?? offsetsPerPartition.set(s.partition, []).get(s.partition)!).push(
      s.offset,
    );
  for (const offsets of offsetsPerPartition.values()) {
    offsets.forEach((o, i) => assert.equal(o, i, 'offsets are continuous from 0 in each partition'));
  }
  const ordered = [...seen].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const s of ordered) {
    const i = Number(s.value.slice('value-'.length));
    assert.equal(s.key, keyOf(i));
    assert.equal(s.headers, headerOf(i));
    assert.equal(
      s.partition,
      javaPartition(Buffer.from(s.key), PARTITIONS),
      `key ${s.key} on the Java client's partition`,
    );
    const last = lastIndexPerKey.get(s.key) ?? -1;
    assert.ok(i > last, `per-key order for ${s.key}`);
    lastIndexPerKey.set(s.key, i);
  }
}

void describe('third-party clients produce and consume', { timeout: 240_000 }, () => {
  void test('kafkajs produces (gzip and none); kcat, kafka-python, kafkajs and @platformatic/kafka consume exactly', async (t) => {
    if (!(await have('kcat'))) return t.skip('kcat is not installed (.ci/run installs it)');
    await withBroker({ 'num.partitions': String(PARTITIONS) }, async (b) => {
      const kafka = new Kafka({ brokers: [b.bootstrap], clientId: 'interop', logLevel: logLevel.NOTHING });
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      const keyOf = (i: number): string => `key-${i % 37}`;
      const headerOf = (i: number): string => `n=${i},kind=test`;
      for (const [codec, from] of [
        [CompressionTypes.None, 0],
        [CompressionTypes.GZIP, COUNT / 2],
      ] as const) {
        for (let start = from; start < from + COUNT / 2; start += 250) {
          await producer.send({
            topic: 'kjs',
            compression: codec,
            messages: Array.from({ length: 250 }, (_, j) => {
              const i = start + j;
              return { key: keyOf(i), value: `value-${i}`, headers: { n: String(i), kind: 'test' } };
            }),
          });
        }
      }
      await producer.disconnect();
      checkExact(await kcatConsume(b.bootstrap, 'kjs', COUNT), COUNT, keyOf, headerOf);
      checkExact(await kafkajsConsume(b.bootstrap, 'kjs', COUNT), COUNT, keyOf, headerOf);
      checkExact(await platformaticConsume(b.bootstrap, 'kjs', COUNT), COUNT, keyOf, headerOf);
      if (await have(PYTHON, ['-c', 'import kafka'])) {
        checkExact(await kafkaPythonConsume(b.bootstrap, 'kjs', COUNT), COUNT, keyOf, headerOf);
      }
    });
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    void test(`kcat produces with ${codec}; kafka-python and kcat consume exactly`, async (t) => {
      if (!(await have('kcat'))) return t.skip('kcat is not installed (.ci/run installs it)');
      await withBroker({ 'num.partitions': String(PARTITIONS) }, async (b) => {
        const n = Math.min(COUNT, 1000);
        const keyOf = (i: number): string => `k${i % 11}`;
        const headerOf = (i: number): string => `n=${i}`;
        const lines = Array.from({ length: n }, (_, i) => `${keyOf(i)}\t${`value-${i}`}`).join('\n') + '\n';
        // kcat's -H sets one header for all messages; per-message headers come from the value here.
        const r = await run(
          'kcat',
          [
            '-P',
            '-b',
            b.bootstrap,
            '-t',
            `kc-${codec}`,
            '-K',
            '\t',
            '-z',
            codec,
            '-X',
            'partitioner=murmur2_random',
            '-X',
            'topic.metadata.refresh.interval.ms=100',
          ],
          lines,
        );
        assert.equal(r.code, 0, r.stderr);
        const seen = await kcatConsume(b.bootstrap, `kc-${codec}`, n);
        checkExact(
          seen.map((s) => ({ ...s, headers: `n=${s.value.slice(6)}` })),
          n,
          keyOf,
          headerOf,
        );
        if (await have(PYTHON, ['-c', 'import kafka'])) {
          const py = await kafkaPythonConsume(b.bootstrap, `kc-${codec}`, n);
          checkExact(
            py.map((s) => ({ ...s, headers: `n=${s.value.slice(6)}` })),
            n,
            keyOf,
            headerOf,
          );
        }
      });
    });
  }
});
