/**
 * Exactly-once with third-party clients as the judges.
 *
 * 1. Crashes: an input topic (3 partitions) holds EOS_RECORDS (3,000) numbered records; a
 *    kafkajs consume → transform → produce processor (eos-processor.ts, a child process; offsets
 *    sent in each transaction) is SIGKILLed at random moments (seeded, EOS_SEED) EOS_KILLS (8)
 *    times and restarted, then left to finish, all within EOS_TIME_MS (90 s). The output topic,
 *    read by a read_committed kafkajs consumer, must hold each input record exactly once, in the
 *    input's order, in the input's partition, with its key.
 * 2. A Jepsen-style checker (txn-checker.ts) over TXN_CHECK_TXNS (200) transactions of 4
 *    concurrent kafkajs transactional producers, committed, aborted and abandoned to a new
 *    incarnation at random: no aborted reads, no lost acknowledged writes, no duplicates,
 *    offsets increasing per partition, all-or-nothing transactions, per-producer order.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

import type { RunningBroker } from '../../../src/broker/embed.js';
import type { ProcessorOptions } from './eos-processor.js';
import { repoRoot } from './process.js';
import { withBroker } from './support.js';
import {
  checkHistory,
  endOffsets,
  kafkajsReadAll,
  Prng,
  rawLog,
  READ_COMMITTED,
  runTxnWorkload,
  sleep,
  type Read,
} from './txn-checker.js';

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new Error(`${name} must be an integer in [${min}, ${max}], not ${raw}`);
  return v;
}

const RECORDS = envInt('EOS_RECORDS', 3_000, 3, 1_000_000);
const KILLS = envInt('EOS_KILLS', 8, 0, 1_000);
const SEED = envInt('EOS_SEED', 20_261_121, 0, 2 ** 31);
const TIME_MS = envInt('EOS_TIME_MS', 90_000, 10_000, 3_600_000);
const CHECK_TXNS = envInt('TXN_CHECK_TXNS', 200, 4, 100_000);
const PARTITIONS = 3;
const KEYS = 30;
/** Processors exiting on an error without committing anything, in a row, before the test gives up. */
const MAX_STUCK = 5;

/** Short timeouts so killed members and transactions are cleaned up quickly. */
const BROKER_CONFIG = {
  'num.partitions': String(PARTITIONS),
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '500',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
};

// ------------------------------------------------------------------ the processor process

interface ProcessorEvent {
  event: 'ready' | 'committed' | 'error';
  partition?: number;
  next?: number;
  count?: number;
  where?: string;
  error?: string;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One eos-processor child (through tsx from the sources, compiled from dist/). */
class Processor {
  private static readonly live = new Set<ChildProcess>();
  private readonly child: ChildProcess;
  readonly events: ProcessorEvent[] = [];
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;
  stderr = '';
  private partial = '';
  private readonly listeners = new Set<() => void>();

  constructor(o: ProcessorOptions) {
    const here = fileURLToPath(import.meta.url);
    const fromSources = here.endsWith('.ts');
    const script = join(here, '..', `eos-processor.${fromSources ? 'ts' : 'js'}`);
    this.child = spawn(
      process.execPath,
      [...(fromSources ? ['--import', 'tsx'] : []), script, JSON.stringify(o)],
      { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    Processor.live.add(this.child);
    this.child.stdout!.on('data', (c: Buffer) => {
      const lines = (this.partial + c.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.events.push(JSON.parse(line) as ProcessorEvent);
        } catch {
          this.stderr += `unparsable stdout line: ${line}\n`;
        }
      }
      for (const l of this.listeners) l();
    });
    this.child.stderr!.on('data', (c: Buffer) => {
      if (this.stderr.length < 100_000) this.stderr += c.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        Processor.live.delete(this.child);
        for (const l of this.listeners) l();
        resolve(this.exit);
      });
      this.child.once('error', (e) => {
        this.stderr += `spawn failed: ${e.message}\n`;
        this.exit = { code: null, signal: null };
        Processor.live.delete(this.child);
        for (const l of this.listeners) l();
        resolve(this.exit);
      });
    });
  }

  static killAll(): void {
    for (const c of Processor.live) c.kill('SIGKILL');
  }

  /** Resolves true once an event matches, false when the process exits first or after `timeoutMs`. */
  waitFor(match: (e: ProcessorEvent) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.events.some(match)) done(true);
        else if (this.exit !== null) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(v);
      };
      this.listeners.add(check);
      check();
    });
  }

  async kill(): Promise<Exit> {
    if (this.exit === null) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<Exit> {
    if (this.exit !== null) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  committedRecords(): number {
    return this.events.filter((e) => e.event === 'committed').reduce((n, e) => n + (e.count ?? 0), 0);
  }
}

after(() => Processor.killAll());

// ------------------------------------------------------------------ helpers

function kafkaOf(b: RunningBroker, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [b.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 1000 },
  });
}

async function createTopics(b: RunningBroker, names: string[]): Promise<void> {
  const admin = kafkaOf(b, 'eos-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: names.map((topic) => ({ topic, numPartitions: PARTITIONS })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

function byPartition(reads: readonly Read[]): Read[][] {
  const out: Read[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const r of reads) out[r.partition]!.push(r);
  for (const list of out) list.sort((a, b) => a.offset - b.offset);
  return out;
}

/**
 * Compares one output partition with its input partition: the output must be the input's
 * records, transformed, each once, in order. Returns what differs (empty when exact).
 */
function compareOutput(partition: number, input: readonly Read[], output: readonly Read[]): string[] {
  const problems: string[] = [];
  const expected = input.map((r) => `out:${r.value}`);
  const got = output.map((r) => r.value);
  const counts = new Map<string, number>();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  const duplicates = [...counts].filter(([, n]) => n > 1).map(([v, n]) => `${v}×${n}`);
  const expectedSet = new Set(expected);
  const missing = expected.filter((v) => !counts.has(v));
  const foreign = got.filter((v) => !expectedSet.has(v));
  if (duplicates.length > 0)
    problems.push(
      `partition ${partition}: ${duplicates.length} duplicated: ${duplicates.slice(0, 5).join(', ')}`,
    );
  if (missing.length > 0)
    problems.push(`partition ${partition}: ${missing.length} missing: ${missing.slice(0, 5).join(', ')}`);
  if (foreign.length > 0)
    problems.push(
      `partition ${partition}: ${foreign.length} not from this partition: ${foreign.slice(0, 5).join(', ')}`,
    );
  if (problems.length === 0) {
    const i = expected.findIndex((v, k) => got[k] !== v);
    if (i >= 0)
      problems.push(
        `partition ${partition}: out of order at output offset ${output[i]!.offset}: ${got[i]} where ${expected[i]} belongs`,
      );
  }
  const keyed = output.findIndex((r, k) => input[k] !== undefined && r.key !== input[k].key);
  if (problems.length === 0 && keyed >= 0) {
    problems.push(
      `partition ${partition}: key ${output[keyed]!.key} at ${output[keyed]!.offset}, input key ${input[keyed]!.key}`,
    );
  }
  return problems;
}

// ------------------------------------------------------------------ tests

void describe('exactly-once under crashes', { timeout: TIME_MS + 90_000 }, () => {
  void test(`consume → transform → produce, ${RECORDS} records, the processor SIGKILLed ${KILLS} times: each input once, in order, read committed`, async (t) => {
    await withBroker(BROKER_CONFIG, async (b) => {
      const started = Date.now();
      const deadline = started + TIME_MS;
      const input = 'eos-in';
      const output = 'eos-out';
      const group = 'eos-processor';
      await createTopics(b, [input, output]);

      // The input: numbered records, keyed, partitioned by kafkajs's default (murmur2) partitioner.
      const kafka = kafkaOf(b, 'eos-test');
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        for (let i = 0; i < RECORDS; i += 500) {
          const n = Math.min(500, RECORDS - i);
          await producer.send({
            topic: input,
            messages: Array.from({ length: n }, (_, k) => ({
              key: `k-${(i + k) % KEYS}`,
              value: String(i + k).padStart(7, '0'),
            })),
          });
        }
      } finally {
        await producer.disconnect();
      }
      const inputEnds = await endOffsets(b.port, input, PARTITIONS, READ_COMMITTED);
      assert.equal(
        inputEnds.reduce((a, x) => a + x, 0),
        RECORDS,
        `the input holds ${RECORDS} records (${inputEnds.join(',')})`,
      );

      const admin = kafka.admin();
      await admin.connect();
      const processed = async (): Promise<boolean> => {
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [input] });
        return (
          offsets !== undefined &&
          offsets.partitions.every((p) => Number(p.offset) >= inputEnds[p.partition]!)
        );
      };

      const rng = new Prng(SEED);
      let kills = 0;
      let crashes = 0;
      let incarnations = 0;
      const crashLines: string[] = [];
      let done = false;
      const options = (): ProcessorOptions => ({
        bootstrap: b.bootstrap,
        input,
        output,
        group,
        transactionalId: 'eos-processor-txn',
        chunk: 20,
        stepDelayMs: 20,
        seed: rng.int(2 ** 31),
        transactionTimeoutMs: 5_000,
        sessionTimeoutMs: 1_500,
        heartbeatIntervalMs: 300,
      });
      /** Exits on errors of incarnations that committed nothing, in a row: the run cannot progress. */
      let stuck = 0;
      const crashed = (p: Processor): void => {
        crashes++;
        stuck = p.committedRecords() > 0 ? 0 : stuck + 1;
        crashLines.push(
          `${JSON.stringify(p.exit)} ${JSON.stringify(p.events.at(-1))} ${p.stderr.slice(-500)}`,
        );
      };
      try {
        while (!done && Date.now() < deadline && stuck < MAX_STUCK) {
          const p = new Processor(options());
          incarnations++;
          try {
            if (kills < KILLS) {
              // Most kills land after the incarnation has committed something (so the run
              // progresses), at a random moment; some at any moment from its start.
              if (rng.next() < 0.25) {
                await Promise.race([sleep(rng.between(0, 3_000)), p.exited]);
              } else {
                await p.waitFor((e) => e.event === 'committed', Math.max(0, deadline - Date.now()));
                await Promise.race([sleep(rng.between(0, 700)), p.exited]);
              }
              if (p.exit === null) {
                await p.kill();
                kills++;
              } else {
                crashed(p);
              }
              done = await processed();
            } else {
              while (!done && p.exit === null && Date.now() < deadline) {
                await sleep(200);
                done = await processed();
              }
              if (p.exit !== null && !done) {
                crashed(p);
              }
            }
          } finally {
            await p.stop();
          }
        }
      } finally {
        await admin.disconnect();
      }
      const runMs = Date.now() - started;
      assert.ok(
        done,
        `the input was not fully processed in ${Date.now() - started} ms (${kills} kills, ${crashes} exits on errors${stuck >= MAX_STUCK ? `, the last ${MAX_STUCK} without a commit` : ''})\n${crashLines.slice(-MAX_STUCK).join('\n')}`,
      );

      const inputs = byPartition(
        await kafkajsReadAll({
          bootstrap: b.bootstrap,
          topic: input,
          partitions: PARTITIONS,
          readCommitted: true,
        }),
      );
      const outputs = byPartition(
        await kafkajsReadAll({
          bootstrap: b.bootstrap,
          topic: output,
          partitions: PARTITIONS,
          readCommitted: true,
        }),
      );
      const log = await rawLog(b.port, output, PARTITIONS);
      const commits = log.markers.filter((m) => m.commit).length;
      const aborts = log.markers.filter((m) => !m.commit).length;
      const summary =
        `${RECORDS} records, ${incarnations} incarnations, ${kills} SIGKILLs, ${crashes} exits on errors, ` +
        `${commits} transactions committed and ${aborts} aborted (fenced or timed out) on the output, ` +
        `${log.records.length - RECORDS} aborted output records in the log, ${runMs} ms`;
      t.diagnostic(summary);
      console.log(`eos: ${summary}`);

      const problems: string[] = [];
      for (let p = 0; p < PARTITIONS; p++) problems.push(...compareOutput(p, inputs[p]!, outputs[p]!));
      assert.deepEqual(problems, [], `the output is the input exactly once, in order (${summary})`);
      assert.equal(
        outputs.reduce((n, l) => n + l.length, 0),
        RECORDS,
        'as many output records as input records',
      );
      if (KILLS > 0) assert.ok(kills > 0, `the processor was killed at least once (${summary})`);
    });
  });
});

void describe('transactional checker', { timeout: 300_000 }, () => {
  void test(`${CHECK_TXNS} transactions of 4 concurrent kafkajs producers (commit, abort, fenced zombies): no aborted reads, no lost writes, no duplicates, monotonic offsets`, async (t) => {
    await withBroker(BROKER_CONFIG, async (b) => {
      const topic = 'txn-check';
      await createTopics(b, [topic]);
      const history = await runTxnWorkload({
        bootstrap: b.bootstrap,
        topic,
        partitions: PARTITIONS,
        producers: 4,
        transactions: CHECK_TXNS,
        seed: SEED,
      });
      const committed = await kafkajsReadAll({
        bootstrap: b.bootstrap,
        topic,
        partitions: PARTITIONS,
        readCommitted: true,
      });
      const uncommitted = await kafkajsReadAll({
        bootstrap: b.bootstrap,
        topic,
        partitions: PARTITIONS,
        readCommitted: false,
      });
      const result = checkHistory(history, committed, uncommitted);
      const summary = JSON.stringify(result.stats);
      t.diagnostic(summary);
      console.log(`txn-checker: ${summary}`);
      assert.deepEqual(result.violations, [], `no violations (${summary})`);
      const o = result.stats.outcomes;
      assert.ok((o['committed'] ?? 0) > 0, `some transactions committed: ${summary}`);
      assert.ok((o['aborted'] ?? 0) > 0, `some transactions aborted: ${summary}`);
      if (CHECK_TXNS >= 100) assert.ok((o['fenced'] ?? 0) > 0, `some zombies fenced: ${summary}`);
    });
  });
});
