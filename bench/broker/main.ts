/**
 * Broker benchmarks (`npx tsx bench/broker/main.ts`, or `node dist/bench/broker/main.js` after
 * `npm run build`). The broker, the baselines and the load generator each run in a process of
 * their own; the generator pre-encodes its requests (correlation ids and fetch offsets patched in
 * place), so the client is not what is measured. The baseline is a raw Node server receiving the
 * same bytes (sink.ts): socket → fs.write → a fixed answer for produce, fs.read → socket for
 * fetch, socket → fs.writev → the waiting fetch for latency; a bare Node TCP server is the floor
 * of start time and memory. Every figure is printed beside its baseline, measured in the same
 * run, interleaved round by round, with the median and range of the per-round ratios: this
 * machine's speed drifts, ratios hold. Every line names the durability mode.
 *
 *   1. broker start on an empty data dir (startBroker() until ready)        target ≤ 200 ms
 *      idle RSS of the broker process, 1.5 s after start                    target ≤ 80 MB
 *   2. produce, acks=1, 1 KiB records in 64 KiB batches, 1 and 4
 *      connections (a partition each), 16 requests in flight per connection target ≥ 0.9x
 *      (and, as a diagnostic, a sink that groups queued frames into one fs.writev as the log does)
 *   3. produce, 100-byte records in 64 KiB batches, 1 connection             target ≥ 2 M records/s
 *   4. fetch: one consumer catching up on a BENCH_FETCH_MB log from the
 *      page cache, Fetch v16 of 1 MiB one at a time                         target ≥ 0.6x
 *   5. latency at BENCH_LATENCY_RATE records/s (one 1 KiB record per
 *      request, acks=1) while a second connection long-polls Fetch
 *      (minBytes 1, maxWaitMs 500): send → produce answer, send → fetched    target p99 ≤ 3 ms
 *
 * Beside each figure: the server's CPU time per MiB and in cores, the client's, the server's
 * write syscalls (Linux), and for latency the servers' event-loop delay and GC pauses.
 *
 * Environment: BENCH_BROKER_ONLY=2,4 runs only those sections; BENCH_PRODUCE_MB (64) bytes per
 * produce round; BENCH_FETCH_MB (256) the log a consumer catches up on; BENCH_LATENCY_RATE
 * (10000) and BENCH_LATENCY_SECONDS (2) per latency round; BENCH_LATENCY_PACER=timer (default:
 * what is due goes out every 1 ms) or spin (each record at its own time, a client core busy);
 * BENCH_WINDOW (16) requests in flight per connection; BENCH_SECTION_MS (6000) time bound of
 * each section's rounds; BENCH_DURABILITY=fsync sets log.flush.interval.messages=1 on the broker
 * and an fdatasync after every write in the sink (default: page cache, Kafka's default);
 * BENCH_BROKER_CPU_PROF=<dir> runs the broker with --cpu-prof into <dir> (summarize with
 * profile.ts), BENCH_SINK_CPU_PROF=<dir> the baseline.
 * Everything is written under a temporary folder in os.tmpdir(), removed at the end.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { interleave, median, pairedRatio, ratioText, spread, verdict } from '../storage/support.js';
import type { FetchResult, LatencyResult, ProduceResult } from './loadgen.js';
import { Child, usage, type Usage } from './procs.js';
import type { SinkMode } from './sink.js';
import { AdminClient, KiB, makeBatches, MiB, type BatchShape } from './wire.js';

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new Error(`${name} must be an integer in [${min}, ${max}], not ${raw}`);
  return v;
}

const produceMiB = envInt('BENCH_PRODUCE_MB', 64, 1, 4096);
const fetchMiB = envInt('BENCH_FETCH_MB', 256, 1, 8192);
const latencyRate = envInt('BENCH_LATENCY_RATE', 10_000, 1, 1_000_000);
const latencySeconds = envInt('BENCH_LATENCY_SECONDS', 2, 1, 60);
const window = envInt('BENCH_WINDOW', 16, 1, 99);
const sectionMs = envInt('BENCH_SECTION_MS', 6000, 500, 600_000);
const durability = process.env['BENCH_DURABILITY'] ?? 'pagecache';
if (durability !== 'pagecache' && durability !== 'fsync')
  throw new Error(`BENCH_DURABILITY must be pagecache or fsync, not ${durability}`);
const fsync = durability === 'fsync';
const only = new Set((process.env['BENCH_BROKER_ONLY'] ?? '1,2,3,4,5').split(',').map((s) => s.trim()));
const profDir = process.env['BENCH_BROKER_CPU_PROF'];
const sinkProfDir = process.env['BENCH_SINK_CPU_PROF'];
const pacer = process.env['BENCH_LATENCY_PACER'] ?? 'timer';
if (pacer !== 'timer' && pacer !== 'spin')
  throw new Error(`BENCH_LATENCY_PACER must be timer or spin, not ${pacer}`);

const brokerConfig: Record<string, string> = fsync ? { 'log.flush.interval.messages': '1' } : {};
const DURABILITY = fsync
  ? '[durability: fsync per append — log.flush.interval.messages=1; sink: fdatasync per write]'
  : '[durability: page cache — Kafka default, no fsync on append]';
const sinkMode = (more: Partial<SinkMode> = {}): SinkMode => ({
  fsync,
  relay: false,
  group: false,
  fetchFiles: [],
  ...more,
});

const mb = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MB`;
const f0 = (x: number, w = 7): string => x.toFixed(0).padStart(w);
const f1 = (x: number, w = 7): string => x.toFixed(1).padStart(w);
const line = (s: string): void => console.log(`${s}   ${DURABILITY}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Verdicts for the summary at the end. */
const targets: string[] = [];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ------------------------------------------------------------------ 1. start and idle memory

async function benchStart(root: string): Promise<void> {
  const brokerStartMs: number[] = [];
  const sinkListenMs: number[] = [];
  let n = 0;
  const startOnce = async (kind: 'broker' | 'bare'): Promise<number> => {
    const dir = path.join(root, `start-${kind}-${n++}`);
    fs.mkdirSync(dir);
    const args = kind === 'broker' ? ['broker', dir, JSON.stringify(brokerConfig)] : ['bare', dir];
    const child = new Child('server', args);
    try {
      const { message, spawnToReadyMs } = await child.ready;
      (kind === 'broker' ? brokerStartMs : sinkListenMs).push(message['startMs'] as number);
      return spawnToReadyMs;
    } finally {
      await child.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const [brokerSpawn, sinkSpawn] = (await interleave([() => startOnce('broker'), () => startOnce('bare')], {
    warmup: 1,
    minRounds: 3,
    maxRounds: 10,
    maxMs: sectionMs,
  })) as [number[], number[]];
  // The first (warm-up) round of each is not in the lists of spawn times; drop it from the in-process ones too.
  brokerStartMs.shift();
  sinkListenMs.shift();
  const start = median(brokerStartMs);
  console.log(
    `\n1. start on an empty data dir, ${brokerSpawn.length} interleaved rounds (each a new process and folder)`,
  );
  line(
    `   baseline  bare Node TCP server: listen() until listening  ${f1(median(sinkListenMs))} ms ${spread(sinkListenMs, 1)}`,
  );
  line(
    `   HEADLINE  startBroker() until ready to answer              ${f1(start)} ms ${spread(brokerStartMs, 1)}   target <= 200 ms: ${verdict(start <= 200)}`,
  );
  line(
    `             spawn → ready, broker (Node boot, module loading, start) ${f0(median(brokerSpawn))} ms ${spread(brokerSpawn)}   bare server ${f0(median(sinkSpawn))} ms ${spread(sinkSpawn)}   ${ratioText(brokerSpawn, sinkSpawn)}${process.execArgv.some((a) => a.includes('tsx')) ? '  (under tsx: transpiling included)' : ''}`,
  );
  targets.push(`start ${start.toFixed(1)} ms (<= 200 ms): ${verdict(start <= 200)}`);
}

function reportIdleMemory(label: string, broker: Usage, bare: Usage, sink: Usage, headline: boolean): void {
  const rss = broker.rss / MiB;
  const m = (u: Usage): string => `${f1(u.rss / MiB, 6)} MB (heap ${mb(u.heapUsed)})`;
  line(
    `   ${headline ? 'HEADLINE' : '        '}  ${label.padEnd(34)} broker RSS ${m(broker)}   bare Node server ${m(bare)}   ratio ${(broker.rss / bare.rss).toFixed(2)}x   raw sink (codecs loaded) ${m(sink)}` +
      (headline ? `   target <= 80 MB: ${verdict(rss <= 80)}` : ''),
  );
  if (headline) targets.push(`idle RSS ${rss.toFixed(1)} MB (<= 80 MB): ${verdict(rss <= 80)}`);
}

// ------------------------------------------------------------------ harness of sections 2-5

interface Servers {
  broker: Child;
  brokerPort: number;
  dataDir: string;
  sink: Child;
  sinkPort: number;
  gen: Child;
  admin: AdminClient;
}

async function produceRound(
  s: Servers,
  target: 'broker' | 'sink',
  connections: number,
  shape: BatchShape,
  roundBytes: number,
  topic: string,
): Promise<ProduceRound> {
  const batchBytes = makeBatches(shape, 1).batches[0]!.length;
  const requestsPerConnection = Math.max(window + 1, Math.ceil(roundBytes / batchBytes / connections));
  const server = target === 'broker' ? s.broker : s.sink;
  const before = await usage(server);
  const reply = await s.gen.call({
    cmd: 'produce',
    port: target === 'broker' ? s.brokerPort : s.sinkPort,
    topic,
    partitions: Array.from({ length: connections }, (_, i) => i),
    requestsPerConnection,
    window,
    shape,
    poolSize: Math.max(64, window * 2),
  });
  const after = await usage(server);
  return {
    r: reply['result'] as ProduceResult,
    serverCpuUs: after.cpuUs - before.cpuUs,
    writeCalls: ioDelta(before, after, 'syscw'),
    writeBytes: ioDelta(before, after, 'wchar'),
  };
}

interface ProduceRound {
  r: ProduceResult;
  serverCpuUs: number;
  /** Write-like syscalls (files and sockets) and their bytes in the server over the round; NaN off Linux. */
  writeCalls: number;
  writeBytes: number;
}

function ioDelta(before: Usage, after: Usage, key: string): number {
  const a = after.io?.[key];
  const b = before.io?.[key];
  return a === undefined || b === undefined ? NaN : a - b;
}

interface Figures {
  mbps: number[];
  recordsPerSec: number[];
  /** Server CPU time per MiB of batches, µs. */
  cpuPerMiB: number[];
  /** Server CPU time over wall time (1 = one core). */
  serverCores: number[];
  /** Load generator CPU time over wall time. */
  genCores: number[];
  /** Server write syscalls (files and sockets) per request. */
  writesPerRequest: number[];
  /** Bytes the server passed to write syscalls per byte of batches. */
  writtenPerByte: number[];
}

const newFigures = (): Figures => ({
  mbps: [],
  recordsPerSec: [],
  cpuPerMiB: [],
  serverCores: [],
  genCores: [],
  writesPerRequest: [],
  writtenPerByte: [],
});

function addProduce(f: Figures, x: ProduceRound): number {
  const mbps = x.r.batchBytes / MiB / x.r.seconds;
  f.mbps.push(mbps);
  f.recordsPerSec.push(x.r.records / x.r.seconds);
  f.cpuPerMiB.push(x.serverCpuUs / (x.r.batchBytes / MiB));
  f.serverCores.push(x.serverCpuUs / 1e6 / x.r.seconds);
  f.genCores.push(x.r.cpuUs / 1e6 / x.r.seconds);
  f.writesPerRequest.push(x.writeCalls / x.r.requests);
  f.writtenPerByte.push(x.writeBytes / x.r.batchBytes);
  return mbps;
}

function cpuText(f: Figures, who: string): string {
  const io =
    f.writesPerRequest.length > 0 && !Number.isNaN(median(f.writesPerRequest))
      ? `   ${median(f.writesPerRequest).toFixed(2)} write calls/request, ${median(f.writtenPerByte).toFixed(3)} B written/B`
      : '';
  return `${who} CPU ${f0(median(f.cpuPerMiB), 5)} µs/MiB (${median(f.serverCores).toFixed(2)} cores)   client ${median(f.genCores).toFixed(2)} cores${io}`;
}

/** One produce rounds pair: the broker on a new topic (created and deleted untimed), the sink on new files. */
function produceVariants(
  s: Servers,
  connections: number,
  shape: BatchShape,
  broker: Figures,
  sink: Figures,
  group = false,
): [() => Promise<number>, () => Promise<number>] {
  const topic = 'bench-produce';
  return [
    async () => {
      await s.admin.createTopic(topic, connections);
      try {
        return addProduce(
          broker,
          await produceRound(s, 'broker', connections, shape, produceMiB * MiB, topic),
        );
      } finally {
        await s.admin.deleteTopic(topic);
      }
    },
    async () => {
      await s.sink.call({ cmd: 'reset', mode: sinkMode({ group }) });
      return addProduce(sink, await produceRound(s, 'sink', connections, shape, produceMiB * MiB, topic));
    },
  ];
}

// ------------------------------------------------------------------ 2. produce 1 KiB records

async function benchProduce(s: Servers): Promise<void> {
  const shape: BatchShape = { valueBytes: KiB, batchBytes: 64 * KiB };
  const { batches, recordsPerBatch } = makeBatches(shape, 1);
  const b1 = newFigures();
  const s1 = newFigures();
  const b4 = newFigures();
  const s4 = newFigures();
  const g1 = newFigures();
  const [broker1, sink1] = produceVariants(s, 1, shape, b1, s1);
  const [broker4, sink4] = produceVariants(s, 4, shape, b4, s4);
  const [, grouped1] = produceVariants(s, 1, shape, newFigures(), g1, true);
  await interleave([broker1, sink1, broker4, sink4, grouped1], {
    warmup: 1,
    minRounds: 3,
    maxRounds: 30,
    maxMs: sectionMs * 1.5,
  });
  for (const f of [b1, s1, b4, s4, g1]) {
    // The warm-up round is not a measurement.
    for (const xs of Object.values(f) as number[][]) xs.shift();
  }
  const ratio1 = pairedRatio(b1.mbps, s1.mbps).median;
  const rec = (f: Figures): string => `${f0(median(f.recordsPerSec) / 1000, 6)}k msg/s`;
  console.log(
    `\n2. produce, acks=1, 1 KiB records (${recordsPerBatch} per ${batches[0]!.length}-byte batch, one batch per request), ` +
      `${window} requests in flight per connection, ${produceMiB} MiB rounds, ${b1.mbps.length} interleaved rounds; MB/s of record batches`,
  );
  line(
    `   baseline  raw sink, 1 connection                ${f0(median(s1.mbps))} MB/s ${spread(s1.mbps)} ${rec(s1)}   ${cpuText(s1, 'sink')}`,
  );
  line(
    `   HEADLINE  broker, 1 connection                  ${f0(median(b1.mbps))} MB/s ${spread(b1.mbps)} ${rec(b1)}   ${cpuText(b1, 'broker')}   ${ratioText(b1.mbps, s1.mbps)}  target >= 0.90x: ${verdict(ratio1 >= 0.9)}`,
  );
  line(
    `   baseline  raw sink, 4 connections (4 files)     ${f0(median(s4.mbps))} MB/s ${spread(s4.mbps)} ${rec(s4)}   ${cpuText(s4, 'sink')}`,
  );
  line(
    `             broker, 4 connections (4 partitions)  ${f0(median(b4.mbps))} MB/s ${spread(b4.mbps)} ${rec(b4)}   ${cpuText(b4, 'broker')}   ${ratioText(b4.mbps, s4.mbps)}`,
  );
  line(
    `   diagnostic  raw sink, 1 connection, queued frames grouped into one fs.writev as the log does  ${f0(median(g1.mbps))} MB/s ${spread(g1.mbps)}   ${cpuText(g1, 'sink')}   broker ${ratioText(b1.mbps, g1.mbps)} of it`,
  );
  targets.push(
    `produce 1 KiB, 1 connection ${ratio1.toFixed(2)}x the raw sink (>= 0.90x): ${verdict(ratio1 >= 0.9)}`,
  );
}

// ------------------------------------------------------------------ 3. produce 100-byte records

async function benchSmallRecords(s: Servers): Promise<void> {
  const shape: BatchShape = { valueBytes: 100, batchBytes: 64 * KiB };
  const { batches, recordsPerBatch } = makeBatches(shape, 1);
  const b = newFigures();
  const k = newFigures();
  await interleave(produceVariants(s, 1, shape, b, k), {
    warmup: 1,
    minRounds: 3,
    maxRounds: 30,
    maxMs: sectionMs / 2,
  });
  for (const f of [b, k]) for (const xs of Object.values(f) as number[][]) xs.shift();
  const rate = median(b.recordsPerSec);
  const m = (f: Figures): string =>
    `${(median(f.recordsPerSec) / 1e6).toFixed(2).padStart(5)} M records/s ${spread(
      f.recordsPerSec.map((x) => x / 1e6),
      2,
    )}`;
  console.log(
    `\n3. produce, acks=1, 100-byte records (${recordsPerBatch} per ${batches[0]!.length}-byte batch), 1 connection, ${b.mbps.length} interleaved rounds`,
  );
  line(`   baseline  raw sink                  ${m(k)}  ${f0(median(k.mbps))} MB/s   ${cpuText(k, 'sink')}`);
  line(
    `   HEADLINE  broker                    ${m(b)}  ${f0(median(b.mbps))} MB/s   ${cpuText(b, 'broker')}   ${ratioText(b.recordsPerSec, k.recordsPerSec)}  target >= 2 M records/s: ${verdict(rate >= 2e6)}`,
  );
  targets.push(`100-byte records ${(rate / 1e6).toFixed(2)} M/s (>= 2 M/s): ${verdict(rate >= 2e6)}`);
}

// ------------------------------------------------------------------ 4. fetch, catching up

async function benchFetch(s: Servers): Promise<void> {
  const topic = 'bench-fetch';
  const topicId = await s.admin.createTopic(topic, 1);
  try {
    const shape: BatchShape = { valueBytes: KiB, batchBytes: 64 * KiB };
    const filled = await produceRound(s, 'broker', 1, shape, fetchMiB * MiB, topic);
    const partitionDir = path.join(s.dataDir, `${topic}-0`);
    const files = fs
      .readdirSync(partitionDir)
      .filter((f) => f.endsWith('.log'))
      .sort()
      .map((f) => path.join(partitionDir, f));
    const logBytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
    if (logBytes !== filled.r.batchBytes)
      throw new Error(`the log holds ${logBytes} bytes, ${filled.r.batchBytes} were produced`);
    await s.sink.call({ cmd: 'reset', mode: sinkMode({ fetchFiles: files }) });
    const broker = newFigures();
    const sink = newFigures();
    const round = async (target: 'broker' | 'sink', f: Figures): Promise<number> => {
      const server = target === 'broker' ? s.broker : s.sink;
      const before = await usage(server);
      const reply = await s.gen.call({
        cmd: 'fetch',
        port: target === 'broker' ? s.brokerPort : s.sinkPort,
        topicId,
        targetBytes: logBytes,
        maxBytes: MiB,
      });
      const after = await usage(server);
      const r = reply['result'] as FetchResult;
      const cpu = after.cpuUs - before.cpuUs;
      const mbps = r.bytes / MiB / r.seconds;
      f.mbps.push(mbps);
      f.recordsPerSec.push(r.requests / r.seconds); // requests/s, shown as such below
      f.cpuPerMiB.push(cpu / (r.bytes / MiB));
      f.serverCores.push(cpu / 1e6 / r.seconds);
      f.genCores.push(r.cpuUs / 1e6 / r.seconds);
      return mbps;
    };
    await interleave([() => round('broker', broker), () => round('sink', sink)], {
      warmup: 1,
      minRounds: 3,
      maxRounds: 30,
      maxMs: sectionMs,
    });
    for (const f of [broker, sink]) for (const xs of Object.values(f) as number[][]) xs.shift();
    const ratio = pairedRatio(broker.mbps, sink.mbps).median;
    const req = (f: Figures): string => `${f0(median(f.recordsPerSec), 5)} fetches/s`;
    console.log(
      `\n4. fetch: one consumer catching up on a ${mb(logBytes)} log from the page cache (Fetch v16, maxBytes = partitionMaxBytes = 1 MiB, one at a time), ${broker.mbps.length} interleaved rounds`,
    );
    line(
      `   baseline  raw server, fs.read 1 MiB → socket    ${f0(median(sink.mbps))} MB/s ${spread(sink.mbps)}  ${req(sink)}   ${cpuText(sink, 'server')}`,
    );
    line(
      `   HEADLINE  broker                                ${f0(median(broker.mbps))} MB/s ${spread(broker.mbps)}  ${req(broker)}   ${cpuText(broker, 'broker')}   ${ratioText(broker.mbps, sink.mbps)}  target >= 0.60x: ${verdict(ratio >= 0.6)}`,
    );
    targets.push(
      `fetch catching up ${ratio.toFixed(2)}x the raw server (>= 0.60x): ${verdict(ratio >= 0.6)}`,
    );
  } finally {
    await s.admin.deleteTopic(topic);
  }
}

// ------------------------------------------------------------------ 5. latency

async function benchLatency(s: Servers): Promise<void> {
  const topic = 'bench-latency';
  const valueBytes = KiB;
  const results = { broker: [] as LatencyResult[], sink: [] as LatencyResult[] };
  const hiccups = { broker: [] as Usage['hiccups'][], sink: [] as Usage['hiccups'][] };
  let calls = 0;
  const round = async (target: 'broker' | 'sink'): Promise<number> => {
    // The first round of each (the warm-up) is short.
    const seconds = calls++ < 2 ? 0.5 : latencySeconds;
    let topicId = 'AAAAAAAAAAAAAAAAAAAAAA';
    if (target === 'broker') topicId = await s.admin.createTopic(topic, 1);
    else await s.sink.call({ cmd: 'reset', mode: sinkMode({ relay: true }) });
    const server = target === 'broker' ? s.broker : s.sink;
    try {
      await usage(server); // resets the server's event-loop delay and GC counters
      const reply = await s.gen.call({
        cmd: 'latency',
        port: target === 'broker' ? s.brokerPort : s.sinkPort,
        topic,
        topicId,
        rate: latencyRate,
        seconds,
        valueBytes,
        maxWaitMs: 500,
        pacer,
      });
      const r = reply['result'] as LatencyResult;
      results[target].push(r);
      hiccups[target].push((await usage(server)).hiccups);
      return percentile(
        [...r.endToEndUs].sort((a, b) => a - b),
        99,
      );
    } finally {
      if (target === 'broker') await s.admin.deleteTopic(topic);
    }
  };
  await interleave([() => round('broker'), () => round('sink')], {
    warmup: 1,
    minRounds: 3,
    maxRounds: 10,
    maxMs: sectionMs,
  });
  results.broker.shift();
  results.sink.shift();
  hiccups.broker.shift();
  hiccups.sink.shift();
  const hiccupText = (hs: Usage['hiccups'][]): string =>
    `server event-loop delay p99 ${Math.max(...hs.map((h) => h.loopDelayP99Ms)).toFixed(1)} max ${Math.max(...hs.map((h) => h.loopDelayMaxMs)).toFixed(1)} ms, ` +
    `GC ${hs.reduce((n, h) => n + h.gcCount, 0)} pauses, longest ${Math.max(...hs.map((h) => h.gcMaxMs)).toFixed(1)} ms`;
  const pooled = (rs: LatencyResult[], key: 'produceUs' | 'endToEndUs'): number[] =>
    rs.flatMap((r) => r[key]).sort((a, b) => a - b);
  const ms = (us: number): string => (us / 1000).toFixed(2).padStart(6);
  const describe = (rs: LatencyResult[]): { text: string; e2eP99: number; e2eP50: number } => {
    const e2e = pooled(rs, 'endToEndUs');
    const prod = pooled(rs, 'produceUs');
    const lag = Math.max(...rs.map((r) => r.maxLagMs));
    const fetches = rs.reduce((n, r) => n + r.fetches, 0) / rs.reduce((n, r) => n + r.seen, 0);
    return {
      e2eP50: percentile(e2e, 50),
      e2eP99: percentile(e2e, 99),
      text:
        `end-to-end p50 ${ms(percentile(e2e, 50))} p99 ${ms(percentile(e2e, 99))} p99.9 ${ms(percentile(e2e, 99.9))} max ${ms(e2e[e2e.length - 1]!)} ms` +
        `   produce p50 ${ms(percentile(prod, 50))} p99 ${ms(percentile(prod, 99))} ms   (${fetches.toFixed(2)} fetches/record, pacer lag max ${lag.toFixed(1)} ms)`,
    };
  };
  const b = describe(results.broker);
  const k = describe(results.sink);
  const p99PerRound = (rs: LatencyResult[]): number[] =>
    rs.map(
      (r) =>
        percentile(
          [...r.endToEndUs].sort((x, y) => x - y),
          99,
        ) / 1000,
    );
  console.log(
    `\n5. latency: ${latencyRate} records/s for ${latencySeconds} s per round (one ${valueBytes}-byte record per Produce, acks=1, ${pacer === 'spin' ? 'evenly spaced' : `sent by a 1 ms timer, ~${Math.max(1, Math.round(latencyRate / 1000))} back to back`}) while a 2nd connection long-polls Fetch (minBytes 1, maxWaitMs 500), ${results.broker.length} interleaved rounds, ${results.broker.reduce((n, r) => n + r.seen, 0)} records pooled`,
  );
  line(
    `   baseline  raw relay (socket → fs.writev → waiting fetch)  ${k.text}   ${hiccupText(hiccups.sink)}`,
  );
  line(
    `   HEADLINE  broker                                         ${b.text}   p99 ${(b.e2eP99 / k.e2eP99).toFixed(2)}x the baseline's; per-round p99 ${spread(p99PerRound(results.broker), 2)} ms  target p99 <= 3 ms: ${verdict(b.e2eP99 <= 3000)}   ${hiccupText(hiccups.broker)}`,
  );
  targets.push(
    `end-to-end p99 ${(b.e2eP99 / 1000).toFixed(2)} ms at ${latencyRate}/s (<= 3 ms): ${verdict(b.e2eP99 <= 3000)}`,
  );
}

// ------------------------------------------------------------------ main

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-broker-'));
const started = Date.now();
console.log(
  `broker benchmarks — node ${process.version}, ${os.cpus().length} CPUs; broker, baseline and load generator in processes of their own; files under ${root}`,
);
console.log(DURABILITY);
const loadText = (): string =>
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${os.cpus().length} CPUs`;
console.log(
  `${loadText()} at the start (other processes on this machine share the CPUs: trust ratios, not absolutes)`,
);
const children: Child[] = [];
let admin: AdminClient | null = null;
try {
  if (only.has('1')) await benchStart(root);
  if (['1', '2', '3', '4', '5'].some((x) => only.has(x))) {
    const dataDir = path.join(root, 'broker');
    const sinkDir = path.join(root, 'sink');
    fs.mkdirSync(dataDir);
    fs.mkdirSync(sinkDir);
    const profFlags = profDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`] : [];
    const broker = new Child('server', ['broker', dataDir, JSON.stringify(brokerConfig)], profFlags);
    const sinkProfFlags =
      sinkProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(sinkProfDir)}`] : [];
    const sink = new Child('server', ['sink', sinkDir], sinkProfFlags);
    const gen = new Child('loadgen', []);
    const bareDir = path.join(root, 'bare');
    fs.mkdirSync(bareDir);
    const bare = new Child('server', ['bare', bareDir]);
    children.push(broker, sink, gen, bare);
    const [b, k] = await Promise.all([broker.ready, sink.ready, gen.ready, bare.ready]);
    admin = await AdminClient.open(b.message['port'] as number);
    const servers: Servers = {
      broker,
      brokerPort: b.message['port'] as number,
      dataDir,
      sink,
      sinkPort: k.message['port'] as number,
      gen,
      admin,
    };
    if (only.has('1')) {
      await sleep(1500);
      console.log(
        `\n   idle memory, 1.5 s after start, process.memoryUsage() reported by each server process`,
      );
      reportIdleMemory(
        'fresh, empty data dir, one admin conn',
        await usage(broker),
        await usage(bare),
        await usage(sink),
        true,
      );
    }
    if (only.has('2')) await benchProduce(servers);
    if (only.has('3')) await benchSmallRecords(servers);
    if (only.has('4')) await benchFetch(servers);
    if (only.has('5')) await benchLatency(servers);
    if (only.has('1') && only.size > 1) {
      await sleep(1500);
      console.log(`\n   memory after the sections above, idle 1.5 s (topics deleted)`);
      reportIdleMemory('after load', await usage(broker), await usage(bare), await usage(sink), false);
    }
  }
} finally {
  admin?.close();
  await Promise.all(children.map((c) => c.stop().catch(() => c.kill())));
  fs.rmSync(root, { recursive: true, force: true });
}
console.log(`\n${loadText()} at the end`);
console.log(`\ntargets:\n${targets.map((t) => `  ${t}`).join('\n')}`);
console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`);
