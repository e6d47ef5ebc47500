/**
 * The Python clients against a real broker: confluent-kafka-python (librdkafka) and
 * kafka-python. confluent's AdminClient creates, describes, alters, grows and deletes topics;
 * both clients produce keyed records with headers and timestamps in every codec they support,
 * and both read them back by partition assignment (group consumption: groups-python.test.ts) — every
 * value, key, header, timestamp, per-key order, offset and the Java partitioner checked —, list
 * offsets by timestamp, and get MESSAGE_TOO_LARGE for a batch over the topic's max.message.bytes.
 * The Python side is in python/*.py (run from the source tree: dist/ has only compiled TS).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import {
  checkTopic,
  PYTHON,
  PYTHON_SCRIPTS,
  python,
  pythonConsumeAll,
  type Expected,
  type Seen,
} from './records.js';
import { have, withBroker } from './support.js';

const COUNT = Number(process.env['INTEROP_PY_MESSAGES'] ?? 10_000);
const PARTITIONS = 3;
const BASE_TS = 1_700_000_000_000;
/** Codecs by their id in a batch's attributes; both clients are tried with each. */
const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const CONFLUENT_CODECS = CODEC_NAMES;
const KAFKA_PYTHON_CODECS = CODEC_NAMES;

interface Produced {
  event: 'produced';
  ok: number;
  errors: string[];
  undelivered?: number;
  seconds: number;
  /** [i, partition, offset] for each delivered record. */
  delivered: [number, number, number][];
}

interface OffsetsForTimes {
  timestamp: number;
  offsets: Record<string, number>;
  errors?: string[];
}

interface Availability {
  confluent: boolean;
  kafkaPython: boolean;
  kafkaPythonCodecs: Record<string, boolean>;
}

const available: Availability = { confluent: false, kafkaPython: false, kafkaPythonCodecs: {} };
const NO_CONFLUENT =
  'confluent_kafka is not importable by /usr/bin/python3 (.ci/run installs python3-confluent-kafka)';
const NO_KAFKA_PYTHON = 'kafka is not importable by /usr/bin/python3 (.ci/run installs python3-kafka)';

function sentRecords(count: number): Map<string, Expected> {
  const sent = new Map<string, Expected>();
  for (let i = 0; i < count; i++) {
    sent.set(`value-${i}`, {
      key: `key-${i % 37}`,
      headers: `n=${i},kind=py`,
      seq: i,
      timestamp: BASE_TS + i,
    });
  }
  return sent;
}

/** The first offset in each partition whose timestamp is at least `ts`, or -1: what ListOffsets must answer. */
function expectedOffsetsForTime(seen: readonly Seen[], ts: number): Record<string, number> {
  const r: Record<string, number> = {};
  for (let p = 0; p < PARTITIONS; p++) {
    const hits = seen.filter((s) => s.partition === p && (s.timestamp ?? -1) >= ts).map((s) => s.offset);
    r[String(p)] = hits.length === 0 ? -1 : Math.min(...hits);
  }
  return r;
}

/** How many record batches of each codec a topic's segment files hold (attributes, bits 0-2, at byte 21 of a batch). */
function batchCodecs(dataDir: string, topic: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (let p = 0; existsSync(join(dataDir, `${topic}-${p}`)); p++) {
    const dir = join(dataDir, `${topic}-${p}`);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
      const buf = readFileSync(join(dir, f));
      for (let pos = 0; pos + 61 <= buf.length; pos += 12 + buf.readInt32BE(pos + 8)) {
        if (buf.readInt32BE(pos + 8) < 49) break; // not a batch: the rest of a preallocated file
        const codec = CODEC_NAMES[buf.readInt16BE(pos + 21) & 7] ?? 'unknown';
        counts.set(codec, (counts.get(codec) ?? 0) + 1);
      }
    }
  }
  return counts;
}

/** Produces COUNT records with `producerScript` in `codec`, then reads and checks them with every Python client. */
async function produceAndCheck(t: TestContext, producerScript: string, codec: string): Promise<void> {
  await withBroker({ 'num.partitions': String(PARTITIONS) }, async (b, dataDir) => {
    const topic = `py-${producerScript === PYTHON_SCRIPTS.confluent ? 'confluent' : 'kafka-python'}-${codec}`;
    if (available.confluent) {
      const [created] = await python(PYTHON_SCRIPTS.confluent, ['create', b.bootstrap, topic, PARTITIONS]);
      assert.deepEqual(created, { op: 'create', ok: true });
    }
    const [produced] = await python<Produced>(producerScript, [
      'produce',
      b.bootstrap,
      topic,
      codec,
      COUNT,
      BASE_TS,
    ]);
    assert.ok(produced !== undefined);
    assert.deepEqual(produced.errors, []);
    assert.equal(produced.ok, COUNT);
    t.diagnostic(`produced ${COUNT} records with ${codec} in ${produced.seconds} s`);
    // The codec must really be on the wire (clients fall back to none for a broker that lacks a feature).
    const onDisk = batchCodecs(dataDir, topic);
    t.diagnostic(`batches on disk: ${JSON.stringify(Object.fromEntries(onDisk))}`);
    // librdkafka sends lz4 only to a broker serving FindCoordinator (its LZ4 feature check), which Samsa does.
    if (codec !== 'none' && !onDisk.has(codec)) {
      assert.fail(`no ${codec} batch on disk: ${JSON.stringify(Object.fromEntries(onDisk))}`);
    }
    const reported = new Map(produced.delivered.map(([i, p, o]) => [`value-${i}`, `${p}/${o}`]));
    const sent = sentRecords(COUNT);
    const timestamps = [
      BASE_TS - 86_400_000,
      BASE_TS,
      BASE_TS + Math.floor(COUNT / 2),
      BASE_TS + COUNT - 1,
      BASE_TS + COUNT,
    ];

    const readers = [
      ...(available.confluent ? [['confluent-kafka', PYTHON_SCRIPTS.confluent] as const] : []),
      ...(available.kafkaPython ? [['kafka-python', PYTHON_SCRIPTS.kafkaPython] as const] : []),
    ];
    for (const [who, script] of readers) {
      const unreadable = [...onDisk.keys()].filter(
        (c) => who === 'kafka-python' && available.kafkaPythonCodecs[c] !== true,
      );
      if (unreadable.length > 0) {
        t.diagnostic(`kafka-python not reading: it has no library for ${unreadable.join(', ')}`);
        continue;
      }
      const seen = await pythonConsumeAll(script, b.bootstrap, topic);
      assert.equal(seen.length, COUNT, `${who} read every record`);
      checkTopic(seen, { partitions: PARTITIONS, sent, required: sent.keys() });
      for (const s of seen) {
        assert.equal(
          `${s.partition}/${s.offset}`,
          reported.get(s.value),
          `${who}: ${s.value} where its delivery report said`,
        );
      }
      // ListOffsets by timestamp: per record, also inside compressed batches.
      const answers = await python<OffsetsForTimes>(script, [
        'offsets-for-times',
        b.bootstrap,
        topic,
        ...timestamps,
      ]);
      assert.equal(answers.length, timestamps.length);
      for (const a of answers) {
        assert.deepEqual(a.errors ?? [], [], `${who}: offsets_for_times(${a.timestamp}) errors`);
        assert.deepEqual(
          a.offsets,
          expectedOffsetsForTime(seen, a.timestamp),
          `${who}: offsets_for_times(${a.timestamp})`,
        );
      }
      if (who === 'confluent-kafka') {
        const [marks] = await python<{ watermarks: Record<string, [number, number]> }>(script, [
          'watermarks',
          b.bootstrap,
          topic,
        ]);
        const expected: Record<string, [number, number]> = {};
        for (let p = 0; p < PARTITIONS; p++)
          expected[String(p)] = [0, seen.filter((s) => s.partition === p).length];
        assert.deepEqual(marks?.watermarks, expected, 'get_watermark_offsets');
      }
    }
  });
}

void describe('Python clients: confluent-kafka (librdkafka) and kafka-python', { timeout: 150_000 }, () => {
  before(async () => {
    available.confluent = await have(PYTHON, ['-c', 'import confluent_kafka']);
    available.kafkaPython = await have(PYTHON, ['-c', 'import kafka']);
    if (available.kafkaPython) {
      const [codecs] = await python<Record<string, boolean>>(PYTHON_SCRIPTS.kafkaPython, ['codecs']);
      available.kafkaPythonCodecs = { none: true, ...codecs };
    }
  });

  void test('confluent AdminClient: create_topics, describe_configs, alter_configs, create_partitions, delete_topics', async (t) => {
    if (!available.confluent) return t.skip(NO_CONFLUENT);
    await withBroker({ 'num.partitions': String(PARTITIONS) }, async (b) => {
      const lines = await python<{ op: string; [k: string]: unknown }>(PYTHON_SCRIPTS.confluent, [
        'admin-suite',
        b.bootstrap,
        'adm',
      ]);
      const r = new Map(lines.map((l) => [l.op, l]));
      const op = (name: string): Record<string, unknown> => {
        const l = r.get(name);
        assert.ok(l !== undefined, `${name} ran: ${JSON.stringify(lines)}`);
        return l;
      };
      const DYNAMIC_TOPIC_CONFIG = 1;
      const STATIC_BROKER_CONFIG = 4;
      const DEFAULT_CONFIG = 5;
      assert.equal(op('create')['ok'], true);
      assert.equal(op('create-again')['error'], 'TOPIC_ALREADY_EXISTS');
      assert.equal(op('create-bad-config')['error'], 'INVALID_CONFIG');
      assert.equal(op('create-validate-only')['ok'], true);
      assert.equal(op('create-validate-only')['exists'], false, 'validate_only creates nothing');
      assert.deepEqual(op('partitions')['partitions'], [0, 1, 2]);
      assert.deepEqual(op('describe')['configs'], {
        'retention.ms': { value: '86400000', source: DYNAMIC_TOPIC_CONFIG, default: false },
        'max.message.bytes': { value: '1048588', source: DEFAULT_CONFIG, default: true },
        'cleanup.policy': { value: 'delete', source: DEFAULT_CONFIG, default: true },
        'segment.bytes': { value: '1073741824', source: DEFAULT_CONFIG, default: true },
      });
      assert.equal(op('alter')['ok'], true);
      // AlterConfigs replaces the whole set: retention.ms goes back to its default.
      const afterAlter = {
        'retention.ms': { value: '604800000', source: DEFAULT_CONFIG, default: true },
        'max.message.bytes': { value: '500000', source: DYNAMIC_TOPIC_CONFIG, default: false },
        'cleanup.policy': { value: 'compact', source: DYNAMIC_TOPIC_CONFIG, default: false },
        'segment.bytes': { value: '1073741824', source: DEFAULT_CONFIG, default: true },
      };
      assert.deepEqual(op('describe-after-alter')['configs'], afterAlter);
      assert.equal(op('alter-invalid')['error'], 'INVALID_CONFIG');
      assert.deepEqual(
        op('describe-after-invalid')['configs'],
        afterAlter,
        'a refused alter changes nothing',
      );
      const broker = op('describe-broker');
      assert.equal(broker['ok'], true);
      assert.deepEqual(broker['configs'], {
        'num.partitions': { value: '3', source: STATIC_BROKER_CONFIG },
        'message.max.bytes': { value: '1048588', source: DEFAULT_CONFIG },
        'log.dirs': { value: b.broker.config.logDirs.join(','), source: STATIC_BROKER_CONFIG },
      });
      assert.equal(op('create-partitions')['ok'], true);
      assert.deepEqual(op('partitions-after')['partitions'], [0, 1, 2, 3, 4, 5]);
      assert.equal(op('create-partitions-fewer')['error'], 'INVALID_PARTITIONS');
      assert.equal(op('delete')['ok'], true);
      assert.equal(op('partitions-after-delete')['partitions'], null);
      assert.equal(op('delete-again')['error'], 'UNKNOWN_TOPIC_OR_PART');
    });
  });

  for (const codec of CONFLUENT_CODECS) {
    void test(`confluent-kafka produces ${COUNT} records with ${codec}; both clients read them back exactly`, async (t) => {
      if (!available.confluent) return t.skip(NO_CONFLUENT);
      await produceAndCheck(t, PYTHON_SCRIPTS.confluent, codec);
    });
  }

  for (const codec of KAFKA_PYTHON_CODECS) {
    void test(`kafka-python produces ${COUNT} records with ${codec}; both clients read them back exactly`, async (t) => {
      if (!available.kafkaPython) return t.skip(NO_KAFKA_PYTHON);
      if (available.kafkaPythonCodecs[codec] !== true) {
        return t.skip(`kafka-python here has no ${codec} library (kafka.codec.has_${codec}() is false)`);
      }
      await produceAndCheck(t, PYTHON_SCRIPTS.kafkaPython, codec);
    });
  }

  void test('DeleteRecords from Python', (t) => {
    t.skip(
      'neither confluent-kafka 1.7 (AdminClient has no delete_records) nor kafka-python 2.0.2 (KafkaAdminClient has no delete_records) can send it',
    );
  });

  void test('a record batch over the topic max.message.bytes: MESSAGE_TOO_LARGE from the broker', async (t) => {
    if (!available.confluent) return t.skip(NO_CONFLUENT);
    await withBroker({ 'num.partitions': String(PARTITIONS) }, async (b) => {
      // Below both clients' own request limits (1 MB), so only the broker can refuse it.
      const [created] = await python(PYTHON_SCRIPTS.confluent, [
        'create',
        b.bootstrap,
        'small',
        1,
        'max.message.bytes=100000',
      ]);
      assert.deepEqual(created, { op: 'create', ok: true });
      const confluentBig = await python(PYTHON_SCRIPTS.confluent, [
        'produce-one',
        b.bootstrap,
        'small',
        200_000,
      ]);
      assert.deepEqual(confluentBig, [
        { ok: false, error: 'MSG_SIZE_TOO_LARGE', code: 10, message: 'Broker: Message size too large' },
      ]);
      const confluentSmall = await python(PYTHON_SCRIPTS.confluent, [
        'produce-one',
        b.bootstrap,
        'small',
        50_000,
      ]);
      assert.deepEqual(confluentSmall, [{ ok: true, offset: 0 }]);
      if (available.kafkaPython) {
        const kpBig = await python(PYTHON_SCRIPTS.kafkaPython, [
          'produce-one',
          b.bootstrap,
          'small',
          200_000,
        ]);
        assert.deepEqual(kpBig, [
          {
            ok: false,
            error: 'MessageSizeTooLargeError',
            errno: 10,
            message: '[Error 10] MessageSizeTooLargeError',
          },
        ]);
        const kpSmall = await python(PYTHON_SCRIPTS.kafkaPython, [
          'produce-one',
          b.bootstrap,
          'small',
          50_000,
        ]);
        assert.deepEqual(kpSmall, [{ ok: true, offset: 1 }]);
      } else {
        t.diagnostic(NO_KAFKA_PYTHON);
      }
    });
  });
});
