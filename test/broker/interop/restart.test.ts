/**
 * The real `samsa server` process stopped and started again on the same data folder: a
 * SIGTERM shuts down cleanly (exit 0, clean-shutdown marker) and a restart serves every record;
 * a SIGKILL in the middle of producing loses no acknowledged record (a killed process does not
 * lose the page cache), duplicates nothing, leaves offsets continuous, and the restarted broker
 * recovers its logs and keeps its topics, partition counts and topic configs. kafkajs produces
 * (retries off, so each record is sent once and acknowledged at most once); kcat and
 * kafka-python read back by partition assignment (consumer groups are another issue).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { freePort, repoRoot, SamsaProcess, type Exit } from './process.js';
import {
  checkTopic,
  kcatConsumeAll,
  PYTHON,
  PYTHON_SCRIPTS,
  pythonConsumeAll,
  type Expected,
  type Seen,
} from './records.js';
import { have, javaPartition } from './support.js';

const COUNT = Number(process.env['RESTART_MESSAGES'] ?? 10_000);
const PARTITIONS = 3;
/** How long after the threshold the kill comes (random below 30 ms unless set): where in a request it lands varies. */
const KILL_DELAY_MS = Number(process.env['RESTART_KILL_DELAY_MS'] ?? Math.floor(Math.random() * 30));
const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
/** ConfigResourceTypes.TOPIC (kafkajs is CommonJS: only some of its exports import by name). */
const TOPIC = 2;

const built = existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'main.js'));
const NOT_BUILT = 'bin/samsa.js runs the compiled CLI: run `npm run build` first';

function kafkaClient(bootstrap: string): Kafka {
  return new Kafka({
    brokers: [bootstrap],
    clientId: 'restart-interop',
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    requestTimeout: 10_000,
  });
}

function newProducer(kafka: Kafka): Producer {
  return kafka.producer({ retry: { retries: 0 }, idempotent: false, allowAutoTopicCreation: true });
}

async function withDataDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-restart-'));
  try {
    await run(dir);
  } finally {
    await SamsaProcess.killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function expectTooLarge(producer: Producer, topic: string, bytes: number): Promise<void> {
  await assert.rejects(
    producer.send({ topic, acks: -1, messages: [{ key: 'big', value: Buffer.alloc(bytes, 120) }] }),
    (e: Error & { type?: string }) => {
      assert.equal(e.type, 'MESSAGE_TOO_LARGE', `${e.name}: ${e.message}`);
      return true;
    },
  );
}

function headersOf(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

interface SentBatch {
  values: string[];
  status: 'pending' | 'acked' | 'failed';
  error?: string;
}

/**
 * Four producers (four connections) each send COUNT/4 records to `topic` in batches of 100
 * (acks -1 and 1, none and gzip, one request at a time), stopping at their first failure;
 * `onThreshold` runs once `threshold` records are acknowledged. Keys are per producer, so
 * per-key order is each producer's order.
 */
async function produceInLoops(
  kafka: Kafka,
  topic: string,
  threshold: number,
  onThreshold: () => void,
): Promise<{ sent: Map<string, Expected>; batches: SentBatch[] }> {
  const LOOPS = 4;
  const BATCH = 100;
  const perLoop = Math.ceil(COUNT / LOOPS);
  const sent = new Map<string, Expected>();
  const batches: SentBatch[] = [];
  let ackedCount = 0;
  let reached = false;
  const loop = async (l: number): Promise<void> => {
    const producer = newProducer(kafka);
    await producer.connect();
    try {
      for (let b = 0; b * BATCH < perLoop; b++) {
        const headers = (seq: number): Record<string, string> => ({ loop: String(l), seq: String(seq) });
        const messages = Array.from({ length: Math.min(BATCH, perLoop - b * BATCH) }, (_, j) => {
          const seq = b * BATCH + j;
          const value = `v-${l}-${seq}`;
          const e = { key: `k-${l}-${seq % 13}`, headers: headersOf(headers(seq)), seq };
          sent.set(value, e);
          return { key: e.key, value, headers: headers(seq) };
        });
        const batch: SentBatch = { values: messages.map((m) => m.value), status: 'pending' };
        batches.push(batch);
        try {
          await producer.send({
            topic,
            acks: b % 2 === 0 ? -1 : 1,
            compression: (b >> 1) % 2 === 0 ? CompressionTypes.None : CompressionTypes.GZIP,
            messages,
          });
        } catch (e) {
          batch.status = 'failed';
          batch.error = String(e);
          return;
        }
        batch.status = 'acked';
        ackedCount += messages.length;
        if (!reached && ackedCount >= threshold) {
          reached = true;
          onThreshold();
        }
      }
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, (_, l) => loop(l)));
  assert.ok(reached, `${threshold} records were acknowledged`);
  return { sent, batches };
}

after(() => SamsaProcess.killAll());

void describe('samsa server restarts', { timeout: 120_000 }, () => {
  void test('SIGTERM: exit 0 with the clean-shutdown marker; a restart serves every record exactly', async (t) => {
    if (!built) return t.skip(NOT_BUILT);
    if (!(await have('kcat'))) return t.skip('kcat is not installed (.ci/run installs it)');
    await withDataDir(async (dir) => {
      const first = await SamsaProcess.start({ port: await freePort(), dataDir: dir });
      const sent = new Map<string, Expected>();
      const acked: string[] = [];
      const producer = newProducer(kafkaClient(first.bootstrap));
      await producer.connect();
      try {
        const quarter = Math.ceil(COUNT / 4);
        const modes = [
          [-1, CompressionTypes.None],
          [-1, CompressionTypes.GZIP],
          [1, CompressionTypes.None],
          [1, CompressionTypes.GZIP],
        ] as const;
        for (const [m, [acks, compression]] of modes.entries()) {
          const end = Math.min(COUNT, (m + 1) * quarter);
          for (let start = m * quarter; start < end; start += 250) {
            const messages = [];
            for (let i = start; i < Math.min(end, start + 250); i++) {
              const headers = { n: String(i), kind: 'restart' };
              const e = { key: `key-${i % 37}`, headers: headersOf(headers), seq: i };
              sent.set(`value-${i}`, e);
              messages.push({ key: e.key, value: `value-${i}`, headers });
            }
            await producer.send({ topic: 'clean', acks, compression, messages });
            acked.push(...messages.map((x) => x.value));
          }
        }
      } finally {
        await producer.disconnect();
      }
      assert.equal(acked.length, COUNT);

      const exit = await first.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, first.output);
      assert.match(first.stdout, /SIGTERM: shutting down/);
      assert.match(first.stdout, /samsa broker \d+ stopped/);
      assert.ok(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), `${CLEAN_SHUTDOWN_FILE} after a clean shutdown`);

      // Restarted on another port: the broker must advertise its new address.
      const second = await SamsaProcess.start({ port: await freePort(), dataDir: dir });
      assert.match(
        second.stdout,
        /opened \d+ partition log\(s\) in .* \(after a clean shutdown\)/,
        second.output,
      );
      assert.doesNotMatch(second.stdout, /unclean/, second.output);
      assert.ok(!existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), 'the marker is removed while running');

      const seen = await kcatConsumeAll(second.bootstrap, 'clean');
      assert.equal(seen.length, COUNT);
      checkTopic(seen, { partitions: PARTITIONS, sent, required: acked });

      const exit2 = await second.stop('SIGTERM');
      assert.deepEqual(exit2, { code: 0, signal: null }, second.output);
    });
  });

  void test('SIGTERM while producing: in-flight requests answered, acknowledged records kept, exit 0', async (t) => {
    if (!built) return t.skip(NOT_BUILT);
    if (!(await have('kcat'))) return t.skip('kcat is not installed (.ci/run installs it)');
    await withDataDir(async (dir) => {
      const first = await SamsaProcess.start({ port: await freePort(), dataDir: dir });
      const kafka = kafkaClient(first.bootstrap);
      const admin = kafka.admin();
      await admin.connect();
      try {
        assert.equal(
          await admin.createTopics({
            waitForLeaders: true,
            topics: [{ topic: 'busy', numPartitions: PARTITIONS }],
          }),
          true,
        );
      } finally {
        await admin.disconnect();
      }
      let stopped: Promise<Exit> | undefined;
      const { sent, batches } = await produceInLoops(kafka, 'busy', Math.floor(COUNT / 2), () =>
        setTimeout(() => {
          stopped = first.stop('SIGTERM');
        }, KILL_DELAY_MS),
      );
      const exit = await (stopped ?? first.stop('SIGTERM'));
      assert.deepEqual(exit, { code: 0, signal: null }, first.output);
      assert.ok(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), `${CLEAN_SHUTDOWN_FILE} after a clean shutdown`);
      const acked = batches.filter((b) => b.status === 'acked').flatMap((b) => b.values);
      const failed = batches.filter((b) => b.status === 'failed');
      t.diagnostic(
        `acknowledged ${acked.length} records; ${failed.length} batches failed: ${[...new Set(failed.map((b) => b.error))].join(' | ')}`,
      );

      const second = await SamsaProcess.start({ port: await freePort(), dataDir: dir });
      assert.doesNotMatch(second.stdout, /unclean/, second.output);
      const seen = await kcatConsumeAll(second.bootstrap, 'busy');
      const { extra } = checkTopic(seen, { partitions: PARTITIONS, sent, required: acked });
      t.diagnostic(`kcat: ${seen.length} records, ${extra} of them written but never acknowledged`);
      // A clean shutdown answers what it wrote: nothing is in the log that its producer did not hear about.
      assert.equal(extra, 0, 'records written during shutdown were acknowledged');
      const exit2 = await second.stop('SIGTERM');
      assert.deepEqual(exit2, { code: 0, signal: null }, second.output);
    });
  });

  void test('SIGKILL while producing: acknowledged records back exactly once; topics and configs kept', async (t) => {
    if (!built) return t.skip(NOT_BUILT);
    if (!(await have('kcat'))) return t.skip('kcat is not installed (.ci/run installs it)');
    const withKafkaPython = await have(PYTHON, ['-c', 'import kafka']);
    if (!withKafkaPython) t.diagnostic('kafka-python is not installed: reading back with kcat only');
    await withDataDir(async (dir) => {
      const port = await freePort();
      const first = await SamsaProcess.start({ port, dataDir: dir });
      const kafka = kafkaClient(first.bootstrap);

      const admin = kafka.admin();
      await admin.connect();
      try {
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: [
            { topic: 'crash', numPartitions: PARTITIONS },
            { topic: 'five', numPartitions: 5 },
          ],
        });
        assert.equal(created, true);
        // AlterConfigs (not incremental) sets the topic's whole set of overrides.
        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: TOPIC,
              name: 'crash',
              configEntries: [
                { name: 'max.message.bytes', value: '200000' },
                { name: 'retention.ms', value: '123456789' },
                // Small segments: the kill and the recovery span several segments and their indexes.
                { name: 'segment.bytes', value: '16384' },
              ],
            },
          ],
        });
      } finally {
        await admin.disconnect();
      }
      const probe = newProducer(kafka);
      await probe.connect();
      try {
        // The broker default (message.max.bytes 1048588) and the topic's own limit.
        await expectTooLarge(probe, 'five', 2_000_000);
        await expectTooLarge(probe, 'crash', 300_000);
        await probe.send({
          topic: 'five',
          acks: -1,
          messages: [{ key: 'k', value: Buffer.alloc(900_000, 120) }],
        });
      } finally {
        await probe.disconnect();
      }

      // Four producers (four connections) send batches of 100 until the broker is killed, once
      // half of COUNT is acknowledged; each producer stops at its first failure.
      const killAt = Math.floor(COUNT / 2);
      const { sent, batches } = await produceInLoops(kafka, 'crash', killAt, () =>
        // A moment later, when the producers' next requests are on their way.
        setTimeout(() => first.kill('SIGKILL'), KILL_DELAY_MS),
      );
      const exit = await first.exited;
      assert.equal(exit.signal, 'SIGKILL', first.output);
      assert.ok(!existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), 'no clean-shutdown marker after a kill');
      const acked = batches.filter((b) => b.status === 'acked').flatMap((b) => b.values);
      const failed = batches.filter((b) => b.status === 'failed');
      t.diagnostic(
        `killed ${KILL_DELAY_MS} ms after ${killAt} acknowledgements (RESTART_KILL_DELAY_MS); acknowledged ${acked.length} records in ${batches.length - failed.length} batches; ${failed.length} batches failed: ${[...new Set(failed.map((b) => b.error))].join(' | ')}`,
      );

      const segments = Array.from(
        { length: PARTITIONS },
        (_, p) => readdirSync(join(dir, `crash-${p}`)).filter((f) => f.endsWith('.log')).length,
      );
      t.diagnostic(`segments per partition at the kill: ${segments.join(', ')}`);

      // Same port again (the listener must bind straight after a kill).
      const second = await SamsaProcess.start({ port, dataDir: dir });
      assert.match(second.stdout, /after an unclean shutdown: recovered/, second.output);
      const recoveredLogs = second.stdout
        .split('\n')
        .filter((l) => l.includes('recovered after an unclean shutdown'));
      t.diagnostic(`recovery lines: ${recoveredLogs.length}`);

      const kafka2 = kafkaClient(second.bootstrap);
      const admin2 = kafka2.admin();
      await admin2.connect();
      try {
        const topics = await admin2.listTopics();
        assert.deepEqual(topics.filter((x) => !x.startsWith('__')).sort(), ['crash', 'five']);
        const md = await admin2.fetchTopicMetadata({ topics: ['crash', 'five'] });
        const counts = Object.fromEntries(md.topics.map((x) => [x.name, x.partitions.length]));
        assert.deepEqual(counts, { crash: PARTITIONS, five: 5 });
        const described = await admin2.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: TOPIC, name: 'crash' }],
        });
        const entries = described.resources[0]!.configEntries;
        const value = (n: string): string | undefined => entries.find((c) => c.configName === n)?.configValue;
        assert.equal(value('max.message.bytes'), '200000');
        assert.equal(value('retention.ms'), '123456789');
        assert.equal(value('segment.bytes'), '16384');
      } finally {
        await admin2.disconnect();
      }

      // The topic's limit still holds, and producing continues after the recovered end.
      const producer2 = newProducer(kafka2);
      await producer2.connect();
      const afterRestart: string[] = [];
      try {
        await expectTooLarge(producer2, 'crash', 300_000);
        for (let b = 0; b < 5; b++) {
          const messages = Array.from({ length: 100 }, (_, j) => {
            const seq = b * 100 + j;
            const hs = { loop: 'after', seq: String(seq) };
            const e = { key: `k-after-${seq % 13}`, headers: headersOf(hs), seq };
            sent.set(`v-after-${seq}`, e);
            return { key: e.key, value: `v-after-${seq}`, headers: hs };
          });
          await producer2.send({ topic: 'crash', acks: -1, messages });
          afterRestart.push(...messages.map((m) => m.value));
        }
      } finally {
        await producer2.disconnect();
      }

      const judge = (who: string, seen: Seen[]): void => {
        const { extra } = checkTopic(seen, {
          partitions: PARTITIONS,
          sent,
          required: [...acked, ...afterRestart],
        });
        // A failed batch is written whole or not at all in each partition (a batch per partition).
        const present = new Set(seen.map((s) => s.value));
        for (const b of failed) {
          for (let p = 0; p < PARTITIONS; p++) {
            const inP = b.values.filter(
              (v) => javaPartition(Buffer.from(sent.get(v)!.key), PARTITIONS) === p,
            );
            const n = inP.filter((v) => present.has(v)).length;
            assert.ok(
              n === 0 || n === inP.length,
              `${who}: ${n} of ${inP.length} records of a failed batch in partition ${p}`,
            );
          }
        }
        // Records written after the restart come after every earlier record of their partition.
        const afterSet = new Set(afterRestart);
        for (let p = 0; p < PARTITIONS; p++) {
          const inP = seen.filter((s) => s.partition === p).sort((a, b) => a.offset - b.offset);
          const firstAfter = inP.findIndex((s) => afterSet.has(s.value));
          if (firstAfter >= 0) {
            assert.ok(
              inP.slice(firstAfter).every((s) => afterSet.has(s.value)),
              `${who}: partition ${p} continues after the recovered end`,
            );
          }
        }
        t.diagnostic(`${who}: ${seen.length} records, ${extra} of them written but never acknowledged`);
      };
      const kcatSeen = await kcatConsumeAll(second.bootstrap, 'crash');
      judge('kcat', kcatSeen);
      if (withKafkaPython) {
        const pySeen = await pythonConsumeAll(PYTHON_SCRIPTS.kafkaPython, second.bootstrap, 'crash');
        judge('kafka-python', pySeen);
        const key = (s: Seen): string => `${s.partition}/${s.offset}/${s.value}`;
        assert.deepEqual(
          pySeen.map(key).sort(),
          kcatSeen.map(key).sort(),
          'kafka-python and kcat read the same',
        );
      }

      const exit2 = await second.stop('SIGTERM');
      assert.deepEqual(exit2, { code: 0, signal: null }, second.output);
    });
  });
});
