/**
 * librdkafka 2.x with `group.protocol=consumer` (KIP-848), through
 * @confluentinc/kafka-javascript built from source into test/broker/interop/librdkafka-js by
 * .ci/run: members split a 6-partition topic with no overlap and no gap, a leaving member's
 * partitions move to the one that stays, and committed offsets carry over to a new member.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot } from './process.js';
import { withBroker } from './support.js';

const CLIENT_DIR = join(repoRoot(), 'test/broker/interop/librdkafka-js');
const installed = existsSync(join(CLIENT_DIR, 'node_modules/@confluentinc/kafka-javascript/build/Release'));
const skip = installed
  ? false
  : 'librdkafka-js is not built here (.ci/run builds it: see test/broker/interop/librdkafka-js)';

const TOPIC = 'k848';
const PARTITIONS = 6;
const BROKER_CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'group.consumer.heartbeat.interval.ms': '500',
};

interface MemberEvent {
  event: 'ready' | 'assigned' | 'record' | 'committed' | 'error';
  partitions?: number[];
  partition?: number;
  offset?: number;
  value?: string;
  message?: string;
}

/** A librdkafka member in its own process (member.mjs): blocking native calls never stall the broker. */
class Member {
  readonly name: string;
  readonly events: MemberEvent[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(bootstrap: string, name: string) {
    this.name = name;
    this.child = spawn(process.execPath, [join(CLIENT_DIR, 'member.mjs'), bootstrap, 'kip848', TOPIC, name], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as MemberEvent);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get partitions(): number[] {
    const assigned = this.events.filter((e) => e.event === 'assigned');
    return assigned[assigned.length - 1]?.partitions ?? [];
  }

  get records(): { partition: number; value: string }[] {
    return this.events
      .filter((e) => e.event === 'record')
      .map((e) => ({ partition: e.partition!, value: e.value! }));
  }

  get errors(): string[] {
    return this.events.filter((e) => e.event === 'error').map((e) => e.message!);
  }

  async commit(): Promise<void> {
    const before = this.events.filter((e) => e.event === 'committed').length;
    this.child.stdin!.write('commit\n');
    await until(
      `${this.name} to commit`,
      () => this.events.filter((e) => e.event === 'committed').length > before,
    );
  }

  /** Leaves the group cleanly; killed if it does not exit in time. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin!.write('stop\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function produce(bootstrap: string, from: number, count: number): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: 'k848-producer' });
  const producer = kafka.producer();
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({
      partition: (from + i) % PARTITIONS,
      value: `v${from + i}`,
    }));
    await producer.send({ topic: TOPIC, messages });
  } finally {
    await producer.disconnect();
  }
}

async function createTopic(bootstrap: string): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
  } finally {
    await admin.disconnect();
  }
}

void describe('librdkafka with group.protocol=consumer (KIP-848)', { skip }, () => {
  void test('two members split the partitions, a leaving member hands over, commits resume', async () => {
    await withBroker(BROKER_CONFIG, async (b) => {
      await createTopic(b.bootstrap);
      const m1 = new Member(b.bootstrap, 'm1');
      const m2 = new Member(b.bootstrap, 'm2');
      try {
        await until('both members to hold 3 partitions each', () =>
          [m1, m2].every((m) => m.partitions.length === 3),
        );
        const owned = [...m1.partitions, ...m2.partitions].sort((a, b) => a - b);
        assert.deepEqual(owned, [0, 1, 2, 3, 4, 5], 'no overlap and no gap between the two members');

        await produce(b.bootstrap, 0, 60);
        await until('60 records consumed', () => m1.records.length + m2.records.length >= 60);
        for (const m of [m1, m2]) {
          const mine = new Set(m.partitions);
          assert.ok(
            m.records.every((r) => mine.has(r.partition)),
            `${m.name} consumed only from its partitions`,
          );
        }
        const values = [...m1.records, ...m2.records].map((r) => r.value);
        assert.equal(new Set(values).size, 60, 'all 60 records consumed');
        assert.equal(values.length, 60, 'none consumed twice');

        // m2 commits what it consumed and leaves: m1 takes over every partition.
        await m2.commit();
        await m2.stop();
        await until('m1 to hold all 6 partitions', () => m1.partitions.length === PARTITIONS);
        await produce(b.bootstrap, 60, 30);
        const index = (r: { value: string }): number => Number(r.value.slice(1));
        await until(
          'm1 to consume the 30 new records',
          () => m1.records.filter((r) => index(r) >= 60).length >= 30,
        );
        assert.equal(
          m1.records.filter((r) => index(r) < 60).length,
          60 - m2.records.length,
          "m1 resumed m2's partitions at m2's committed offsets: nothing of m2's was consumed twice",
        );
        assert.deepEqual(m1.errors, [], 'm1 saw no errors');
        assert.deepEqual(m2.errors, [], 'm2 saw no errors');
      } finally {
        await Promise.all([m1.stop(), m2.stop()]);
      }
    });
  });
});
