/**
 * Client benchmarks (`npx tsx bench/client/main.ts`, or `node dist/bench/client/main.js` after a
 * build): Samsa's client against kafkajs 2.2 and @platformatic/kafka 1.x, the same messages to
 * the same broker in the same run.
 *
 *   1. produce N records of 100-byte values and 10-byte keys          target ≥ 2x kafkajs, ≥ 1.2x platformatic
 *   2. produce N/2 records of 1 KiB values                             (same targets)
 *   3. consume 2N records of 100 bytes, from the beginning             target ≥ 2x kafkajs, ≥ 1.2x platformatic
 *   4. consume N/2 records of 1 KiB                                    (same targets)
 *
 * Consumers read twice as many records as producers write: reading is several times faster, and
 * a round of a few hundred milliseconds would be mostly the fixed costs (offset lookups, the
 * first fetch) and scheduling noise.
 *
 * Processes: the broker (bench/broker/server.ts) and each client (worker.ts) run in processes of
 * their own. A broker inside the bench process would share its event loop and CPU time with
 * whichever client is measured, and three clients in one process would share a heap (one
 * client's garbage collected during another's round) and JIT state. Separate processes keep each
 * client's CPU time its own (printed per 1,000 records beside the rate). The machine has few
 * cores, shared with other work: rates drift, so clients run round by round in rotating order
 * (A B C, B C A, C A B, …) and each ratio is the median of per-round ratios, with its range.
 * Reading the CPU columns: with cores to spare a client's rate is bounded by the busier of its
 * own process and the broker (a client that fetches or sends ahead keeps both busy at once); on
 * a loaded machine the two take turns, and a ratio tends to (the other client's CPU + the
 * broker's) / (Samsa's CPU + the broker's), per record. The broker's share is the same work for
 * every client, so where it dominates (1 KiB records) it caps what any client can gain.
 *
 * Comparable settings: no compression, acks=all (one broker: the same as acks=1), idempotence
 * off (kafkajs' and platformatic's default), the murmur2 key partitioner (the Java default, all
 * three), P partitions per topic. kafkajs and platformatic send arrays (their documented way to
 * throughput): `perCall` records per send() with `window` calls in flight; one batch per
 * partition per call. Samsa uses sendBatch with the same `perCall` and `window` (headline), and
 * also send() per record without awaiting, then flush() (the Java idiom, where the accumulator
 * batches), with batchSize = a batch header + perCall × framed record bytes / P, so its batches
 * are the others' size (a partition's share of a call, on average), and
 * `window` requests in flight per connection. Each producer is created once and kept across
 * rounds (warm connections, as in an application); each round writes a fresh topic (created and
 * deleted untimed), and its end offsets are checked to hold exactly N records.
 * Consumers read one pre-filled topic from the beginning each round, each as a member of a fresh
 * group (kafkajs and platformatic cannot read without one): Samsa with subscribe() and poll()
 * (default maxPollRecords 500), kafkajs with run({ eachBatch }), platformatic with its message
 * stream; no commits (autocommit off), read uncommitted, fetch limits alike (maxBytes 10 MiB,
 * 1 MiB per partition). The rate is taken from the assignment (Samsa's onPartitionsAssigned,
 * kafkajs' GROUP_JOIN, platformatic's consumer:group:join, each after SyncGroup) to the Nth
 * record handed to the application: offset lookups and every fetch are in it, connecting and
 * joining (a fixed cost, much the same for all) are shown apart as "join ms". Each client sums
 * the value lengths, so no record goes untouched. Samsa's worker writes the pre-filled topics and
 * then drops those messages, so its heap holds no more than the others' while reading.
 *
 * Environment: BENCH_CLIENT_MESSAGES (200000) N, the records of section 1 (the others scale with it);
 * BENCH_CLIENT_ROUNDS (5) measured rounds per section after one warm-up round;
 * BENCH_CLIENT_SECTION_MS (40000) time bound of a section's measured rounds (3 rounds at least);
 * BENCH_CLIENT_PARTITIONS (4); BENCH_CLIENT_ONLY=1,3 runs only those sections;
 * BENCH_CLIENT_CPU_PROF=<dir> runs the Samsa worker with --cpu-prof into <dir> (summarize with
 * bench/broker/profile.ts); BENCH_CLIENT_BROKER_CPU_PROF=<dir> does the same for the broker;
 * BENCH_CLIENT_AB=<checkout> adds a second Samsa worker running the
 * client of another checkout of this repository (e.g. `git worktree add /tmp/base HEAD~1`, with
 * node_modules linked; compiled runs load its dist/), in the same rounds, and prints the paired
 * ratio of this client to that one: the effect of a change, measured in one run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Admin } from '../../src/client/index.js';
import { Child, usage, type Usage } from '../broker/procs.js';
import { median, pairedRatio, spread, verdict } from '../storage/support.js';
import type { MessageShape } from './messages.js';
import type {
  ClientName,
  ConsumeCommand,
  ConsumeResult,
  ProduceCommand,
  ProduceResult,
  SamsaProduceMode,
} from './worker.js';

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new Error(`${name} must be an integer in [${min}, ${max}], not ${raw}`);
  return v;
}

const N = envInt('BENCH_CLIENT_MESSAGES', 200_000, 1000, 10_000_000);
const ROUNDS = envInt('BENCH_CLIENT_ROUNDS', 5, 1, 100);
const SECTION_MS = envInt('BENCH_CLIENT_SECTION_MS', 40_000, 1000, 3_600_000);
const PARTITIONS = envInt('BENCH_CLIENT_PARTITIONS', 4, 1, 64);
const only = new Set((process.env['BENCH_CLIENT_ONLY'] ?? '1,2,3,4').split(',').map((s) => s.trim()));
const profDir = process.env['BENCH_CLIENT_CPU_PROF'];
const brokerProfDir = process.env['BENCH_CLIENT_BROKER_CPU_PROF'];
const abRoot = process.env['BENCH_CLIENT_AB'];
const KEY_BYTES = 10;
/** Send calls in flight per producer, and Samsa's requests in flight per connection (its default). */
const WINDOW = 5;
/** Bytes of values per send call: 1000 records of 100 bytes, 100 of 1 KiB. */
const CALL_VALUE_BYTES = 100_000;
const recordsPerCall = (shape: MessageShape): number =>
  Math.max(1, Math.round(CALL_VALUE_BYTES / (shape.valueBytes >= 1000 ? 1000 : shape.valueBytes)));
const LINGER_MS = 5;
const CONSUME_MAX_BYTES = 10 * 1024 * 1024;
const CONSUME_PARTITION_MAX_BYTES = 1024 * 1024;

/** The per-round figures of one variant. */
interface Figures {
  name: string;
  rate: number[];
  mbps: number[];
  /** Client process CPU µs per 1,000 records. */
  cpuPerK: number[];
  /** Broker CPU µs per 1,000 records. */
  brokerPerK: number[];
  /** Share of the round's wall time the broker's event loop was busy (its utilization, 0–1). */
  brokerLoopBusy: number[];
  startupMs: number[];
}

/** The broker's event-loop utilization between two usage samples. */
const loopBusy = (b0: Usage, b1: Usage): number =>
  (b1.loopActiveMs - b0.loopActiveMs) / Math.max(1e-9, b1.atMs - b0.atMs);

const newFigures = (name: string): Figures => ({
  name,
  rate: [],
  mbps: [],
  cpuPerK: [],
  brokerPerK: [],
  brokerLoopBusy: [],
  startupMs: [],
});

/**
 * Runs `variants` for one warm-up round and then up to ROUNDS rounds (at least 3, fewer once
 * SECTION_MS has passed), each round in an order rotated by one from the last.
 */
async function rounds(variants: readonly { fig: Figures; run: (warm: boolean) => Promise<void> }[]) {
  for (const v of variants) await v.run(true);
  const deadline = Date.now() + SECTION_MS;
  for (let r = 0; r < ROUNDS && (r < 3 || Date.now() < deadline); r++) {
    for (let i = 0; i < variants.length; i++) await variants[(i + r) % variants.length]!.run(false);
  }
}

// ------------------------------------------------------------------ printing

const rows: string[][] = [];
const targets: string[] = [];

const k = (x: number): string => `${(x / 1000).toFixed(0)}k`;

function addRows(section: string, figs: Figures[], consume: boolean): void {
  for (const f of figs) {
    rows.push([
      section,
      f.name,
      `${k(median(f.rate))}/s ${spread(f.rate.map((x) => x / 1000))}k`,
      `${median(f.mbps).toFixed(1)}`,
      `${median(f.cpuPerK).toFixed(0)}`,
      `${median(f.brokerPerK).toFixed(0)}`,
      `${(100 * median(f.brokerLoopBusy)).toFixed(0)}%`,
      consume ? `${median(f.startupMs).toFixed(0)}` : '',
      '',
      '',
    ]);
  }
}

function ratioCell(a: Figures, b: Figures): { text: string; median: number } {
  const r = pairedRatio(a.rate, b.rate);
  return { text: `${r.median.toFixed(2)}x ${spread(r.all, 2)}`, median: r.median };
}

/** Ratios of `samsa` to the baselines, on its row; headline ones become targets. */
function addRatios(
  section: string,
  samsa: Figures,
  kafkajs: Figures,
  plat: Figures,
  headline: boolean,
): void {
  const row = rows.find((r) => r[0] === section && r[1] === samsa.name)!;
  const vsK = ratioCell(samsa, kafkajs);
  const vsP = ratioCell(samsa, plat);
  row[8] = vsK.text;
  row[9] = vsP.text;
  if (headline) {
    const ok = vsK.median >= 2 && vsP.median >= 1.2;
    targets.push(
      `${section}: ${vsK.median.toFixed(2)}x kafkajs (>= 2x), ${vsP.median.toFixed(2)}x platformatic (>= 1.2x): ${verdict(ok)}`,
    );
  }
}

function printTable(): void {
  const head = [
    'section',
    'client',
    'records/s [range]',
    'MB/s',
    'cpu µs/1k',
    'broker µs/1k',
    'broker loop',
    'join ms',
    'vs kafkajs [range]',
    'vs platformatic [range]',
  ];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n${fmt(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  let last = '';
  for (const r of rows) {
    console.log(fmt(r[0] === last ? ['', ...r.slice(1)] : r));
    last = r[0]!;
  }
}

// ------------------------------------------------------------------ sections

interface Env {
  broker: Child;
  bootstrap: string;
  admin: Admin;
  workers: Record<ClientName, Child> & { 'samsa-ab'?: Child };
  /** Whether the A/B worker (another checkout's Samsa client) runs. */
  ab: boolean;
}

/** The workers: one per client, and `samsa-ab` for an A/B run (BENCH_CLIENT_AB). */
type WorkerName = ClientName | 'samsa-ab';
const AB_SUFFIX = ' (A/B)';

function workerOf(env: Env, name: WorkerName): Child {
  const w = env.workers[name];
  if (w === undefined) throw new Error(`no ${name} worker`);
  return w;
}

/** `name` against `name (A/B)`: the median and range of the per-round ratios, printed after the table. */
const abLines: string[] = [];
function addAb(section: string, a: Figures, b: Figures): void {
  const r = pairedRatio(a.rate, b.rate);
  abLines.push(
    `  ${section}: ${a.name} / ${b.name} = ${r.median.toFixed(2)}x ${spread(r.all, 2)}; client CPU per record ${(median(a.cpuPerK) / median(b.cpuPerK)).toFixed(2)}x`,
  );
}

let topicSeq = 0;
const recordBytes = (shape: MessageShape): number => shape.keyBytes + shape.valueBytes;
/** A record batch's header, which batch.size counts as Java's does. */
const BATCH_HEADER_BYTES = 61;
/** Per-record framing in a batch (length, attributes, deltas, key and value lengths, headers), about. */
const RECORD_OVERHEAD_BYTES = 10;
/** Samsa's batchSize: one call's records for one partition, on average, with their framing. */
const samsaBatchSizeBytes = (shape: MessageShape): number =>
  BATCH_HEADER_BYTES +
  Math.ceil((recordsPerCall(shape) * (recordBytes(shape) + RECORD_OVERHEAD_BYTES)) / PARTITIONS);

async function createTopic(admin: Admin, name: string): Promise<void> {
  await admin.createTopics([{ name, numPartitions: PARTITIONS, replicationFactor: 1 }]);
}

async function endOffsetsSum(admin: Admin, topic: string): Promise<bigint> {
  const offsets = await admin.listOffsets(
    Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, spec: 'latest' as const })),
  );
  return offsets.reduce((n, o) => n + o.offset, 0n);
}

async function benchProduce(env: Env, section: string, shape: MessageShape): Promise<void> {
  const perCall = recordsPerCall(shape);
  const batchSizeBytes = samsaBatchSizeBytes(shape);
  const figs = {
    samsaBatch: newFigures('samsa sendBatch'),
    samsaSend: newFigures('samsa send+flush'),
    kafkajs: newFigures('kafkajs'),
    platformatic: newFigures('platformatic'),
  };
  // Topics are deleted at the end of the section, not after each round: kafkajs keeps refreshing
  // the metadata of every topic it ever produced to, and fails once one is gone (the workers
  // start new producers for the next section).
  const created: string[] = [];
  const variant = (fig: Figures, client: WorkerName, mode: SamsaProduceMode) => ({
    fig,
    run: async (warm: boolean): Promise<void> => {
      const topic = `produce-${client}-${++topicSeq}`;
      await createTopic(env.admin, topic);
      created.push(topic);
      {
        const b0 = await usage(env.broker);
        const reply = await workerOf(env, client).call({
          cmd: 'produce',
          bootstrap: env.bootstrap,
          session: section,
          topic,
          shape,
          perCall,
          window: WINDOW,
          mode,
          batchSizeBytes,
          lingerMs: LINGER_MS,
        } satisfies Omit<ProduceCommand, 'id'>);
        const b1 = await usage(env.broker);
        const r = reply['result'] as ProduceResult;
        const written = await endOffsetsSum(env.admin, topic);
        if (r.acked !== shape.count || written !== BigInt(shape.count)) {
          throw new Error(
            `${fig.name}: ${r.acked} acknowledged, ${written} in the topic, ${shape.count} sent`,
          );
        }
        if (warm) return;
        fig.rate.push(shape.count / r.seconds);
        fig.mbps.push((shape.count * recordBytes(shape)) / 1e6 / r.seconds);
        fig.cpuPerK.push(r.cpuUs / (shape.count / 1000));
        fig.brokerPerK.push((b1.cpuUs - b0.cpuUs) / (shape.count / 1000));
        fig.brokerLoopBusy.push(loopBusy(b0, b1));
      }
    },
  });
  const ab = {
    samsaBatch: newFigures(figs.samsaBatch.name + AB_SUFFIX),
    samsaSend: newFigures(figs.samsaSend.name + AB_SUFFIX),
  };
  try {
    await rounds([
      variant(figs.samsaBatch, 'samsa', 'sendBatch'),
      variant(figs.kafkajs, 'kafkajs', 'sendBatch'),
      variant(figs.platformatic, 'platformatic', 'sendBatch'),
      variant(figs.samsaSend, 'samsa', 'send'),
      ...(env.ab
        ? [variant(ab.samsaBatch, 'samsa-ab', 'sendBatch'), variant(ab.samsaSend, 'samsa-ab', 'send')]
        : []),
    ]);
  } finally {
    await env.admin.deleteTopics(created);
  }
  console.log(
    `${section}: ${shape.count} records, ${figs.kafkajs.rate.length} rounds; ${perCall} records per send call, ${WINDOW} calls in flight; samsa batchSize ${batchSizeBytes} B, lingerMs ${LINGER_MS}`,
  );
  addRows(section, [figs.samsaBatch, figs.samsaSend, figs.kafkajs, figs.platformatic], false);
  addRatios(section, figs.samsaBatch, figs.kafkajs, figs.platformatic, true);
  addRatios(section, figs.samsaSend, figs.kafkajs, figs.platformatic, false);
  if (env.ab) {
    addRows(section, [ab.samsaBatch, ab.samsaSend], false);
    addRatios(section, ab.samsaBatch, figs.kafkajs, figs.platformatic, false);
    addRatios(section, ab.samsaSend, figs.kafkajs, figs.platformatic, false);
    addAb(section, figs.samsaBatch, ab.samsaBatch);
    addAb(section, figs.samsaSend, ab.samsaSend);
  }
}

async function benchConsume(env: Env, section: string, shape: MessageShape): Promise<void> {
  const topic = `consume-${shape.valueBytes}`;
  await createTopic(env.admin, topic);
  try {
    // Filled once, by Samsa's producer (what is read is the same for every client).
    const perCall = recordsPerCall(shape);
    await env.workers.samsa.call({
      cmd: 'produce',
      bootstrap: env.bootstrap,
      session: section,
      topic,
      shape,
      perCall,
      window: WINDOW,
      mode: 'sendBatch',
      batchSizeBytes: samsaBatchSizeBytes(shape),
      lingerMs: LINGER_MS,
    } satisfies Omit<ProduceCommand, 'id'>);
    const written = await endOffsetsSum(env.admin, topic);
    if (written !== BigInt(shape.count)) throw new Error(`pre-fill wrote ${written} of ${shape.count}`);
    const figs = {
      samsa: newFigures('samsa poll'),
      kafkajs: newFigures('kafkajs'),
      platformatic: newFigures('platformatic'),
    };
    const variant = (fig: Figures, client: WorkerName) => ({
      fig,
      run: async (warm: boolean): Promise<void> => {
        const b0 = await usage(env.broker);
        const reply = await workerOf(env, client).call({
          cmd: 'consume',
          bootstrap: env.bootstrap,
          topic,
          partitions: PARTITIONS,
          count: shape.count,
          groupId: `bench-${client}-${++topicSeq}`,
          maxBytes: CONSUME_MAX_BYTES,
          maxPartitionBytes: CONSUME_PARTITION_MAX_BYTES,
        } satisfies Omit<ConsumeCommand, 'id'>);
        const b1 = await usage(env.broker);
        const r = reply['result'] as ConsumeResult;
        if (r.received < shape.count || r.valueBytes < shape.count * shape.valueBytes) {
          throw new Error(`${fig.name}: ${r.received} records, ${r.valueBytes} value bytes`);
        }
        if (warm) return;
        fig.rate.push(shape.count / r.seconds);
        fig.mbps.push((shape.count * recordBytes(shape)) / 1e6 / r.seconds);
        fig.cpuPerK.push(r.cpuUs / (shape.count / 1000));
        fig.brokerPerK.push((b1.cpuUs - b0.cpuUs) / (shape.count / 1000));
        fig.brokerLoopBusy.push(loopBusy(b0, b1));
        fig.startupMs.push(r.startupMs);
      },
    });
    const abSamsa = newFigures(figs.samsa.name + AB_SUFFIX);
    await rounds([
      variant(figs.samsa, 'samsa'),
      variant(figs.kafkajs, 'kafkajs'),
      variant(figs.platformatic, 'platformatic'),
      ...(env.ab ? [variant(abSamsa, 'samsa-ab')] : []),
    ]);
    console.log(`${section}: ${shape.count} records, ${figs.kafkajs.rate.length} rounds`);
    addRows(section, [figs.samsa, figs.kafkajs, figs.platformatic], true);
    addRatios(section, figs.samsa, figs.kafkajs, figs.platformatic, true);
    if (env.ab) {
      addRows(section, [abSamsa], true);
      addRatios(section, abSamsa, figs.kafkajs, figs.platformatic, false);
      addAb(section, figs.samsa, abSamsa);
    }
  } finally {
    await env.admin.deleteTopics([topic]);
  }
}

// ------------------------------------------------------------------ main

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-client-'));
const started = Date.now();
const loadText = (): string =>
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${os.cpus().length} CPUs`;
console.log(
  `client benchmarks — node ${process.version}; broker and each client in processes of their own; N = ${N} records, ${PARTITIONS} partitions`,
);
console.log(`${loadText()} at the start (the CPUs are shared: trust ratios, not absolutes)`);

const children: Child[] = [];
let admin: Admin | null = null;
try {
  // Group joins of fresh groups need not wait for more members (Kafka's default is 3 s).
  const brokerConfig = { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': String(PARTITIONS) };
  const brokerFlags =
    brokerProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(brokerProfDir)}`] : [];
  const broker = new Child('server', ['broker', root, JSON.stringify(brokerConfig)], brokerFlags);
  children.push(broker);
  // Workers live beside this file; Child resolves scripts next to bench/broker/procs.ts.
  const worker = (name: ClientName, args: string[] = []): Child => {
    const flags =
      name === 'samsa' && profDir !== undefined
        ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`]
        : [];
    const c = new Child('../client/worker', [name, ...args], flags);
    children.push(c);
    return c;
  };
  const workers: Env['workers'] = {
    samsa: worker('samsa'),
    kafkajs: worker('kafkajs'),
    platformatic: worker('platformatic'),
  };
  if (abRoot !== undefined) workers['samsa-ab'] = worker('samsa', [path.resolve(abRoot)]);
  const [b] = await Promise.all([broker.ready, ...children.slice(1).map((c) => c.ready)]);
  const bootstrap = `127.0.0.1:${b.message['port'] as number}`;
  admin = new Admin({ bootstrapServers: bootstrap, clientId: 'bench-admin' });
  const env: Env = { broker, bootstrap, admin, workers, ab: abRoot !== undefined };
  const shape = (count: number, valueBytes: number): MessageShape => ({
    count: Math.max(1000, Math.floor(count)),
    keyBytes: KEY_BYTES,
    valueBytes,
  });
  if (only.has('1')) await benchProduce(env, '1. produce 100 B', shape(N, 100));
  if (only.has('2')) await benchProduce(env, '2. produce 1 KiB', shape(N / 2, 1024));
  if (only.has('3')) await benchConsume(env, '3. consume 100 B', shape(2 * N, 100));
  if (only.has('4')) await benchConsume(env, '4. consume 1 KiB', shape(N / 2, 1024));
} finally {
  await admin?.close();
  await Promise.all(children.map((c) => c.stop().catch(() => c.kill())));
  fs.rmSync(root, { recursive: true, force: true });
}
printTable();
console.log(
  '\nrecords/s: median of the rounds; MB/s: keys + values; cpu/broker µs/1k: CPU time of the client process / the broker per 1,000 records; ratios: median of per-round records/s ratios',
);
if (abLines.length > 0) console.log(`\nA/B against ${abRoot}:\n${abLines.join('\n')}`);
console.log(`\n${loadText()} at the end`);
console.log(`\ntargets:\n${targets.map((t) => `  ${t}`).join('\n')}`);
console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`);
