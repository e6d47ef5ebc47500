/**
 * A/B comparison of two brokers — another checkout's (A) and this one's (B) — beside the raw sink,
 * for changes smaller than this machine's drift: the three run interleaved, round by round in a
 * rotating order, and the paired per-round ratios are printed with their quartiles.
 *
 *   npx tsx bench/broker/ab.ts <other checkout> produce|latency [rounds=15] [MiB | seconds per round]
 *
 * `produce` is section 2 of main.ts (1 KiB records in 64 KiB batches, one connection, 16 requests
 * in flight); `latency` is section 5 (10k records/s, one per request, a consumer long-polling),
 * and prints per round its stalls: runs of records slower than STALL_MS end to end, each with its
 * worst end-to-end and produce times — a slow produce answer points at the write path, a fast one
 * at the fetch. The other checkout needs node_modules (a symlink to this one's will do), e.g.
 * `git worktree add /tmp/base HEAD && ln -s "$PWD/node_modules" /tmp/base/`.
 * AB_FLAGS_A, AB_FLAGS_B, AB_FLAGS_SINK: extra Node flags of each server (e.g. --cpu-prof).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, pairedRatio } from '../storage/support.js';
import type { LatencyResult, ProduceResult } from './loadgen.js';
import { Child, usage } from './procs.js';
import { AdminClient, KiB, makeBatches, MiB, type BatchShape } from './wire.js';

/** End-to-end time past which a record counts as stalled. */
const STALL_MS = 2;

const [otherTree, mode = 'produce', roundsArg, amountArg] = process.argv.slice(2);
if (otherTree === undefined || (mode !== 'produce' && mode !== 'latency')) {
  process.stderr.write('usage: ab.ts <other checkout> produce|latency [rounds] [MiB | seconds]\n');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 15);
const amount = Number(amountArg ?? (mode === 'produce' ? 64 : 2));
const flags = (name: string): string[] => process.env[name]?.split(' ').filter((f) => f !== '') ?? [];

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-ab-'));
for (const d of ['a', 'b', 'sink']) fs.mkdirSync(path.join(root, d));
// Child scripts are named relative to this folder: reach the other checkout's server from here.
const here = path.dirname(fileURLToPath(import.meta.url));
const otherServer = path.relative(here, path.join(path.resolve(otherTree), 'bench/broker/server'));
const servers = {
  a: new Child(otherServer, ['broker', path.join(root, 'a'), '{}'], flags('AB_FLAGS_A')),
  b: new Child('server', ['broker', path.join(root, 'b'), '{}'], flags('AB_FLAGS_B')),
  sink: new Child('server', ['sink', path.join(root, 'sink')], flags('AB_FLAGS_SINK')),
};
type Target = keyof typeof servers;
const gen = new Child('loadgen', []);
const [ra, rb, rk] = await Promise.all([servers.a.ready, servers.b.ready, servers.sink.ready, gen.ready]);
const ports = {
  a: ra.message['port'] as number,
  b: rb.message['port'] as number,
  sink: rk.message['port'] as number,
};
const admins = { a: await AdminClient.open(ports.a), b: await AdminClient.open(ports.b) };

const shape: BatchShape = { valueBytes: KiB, batchBytes: 64 * KiB };
const batchBytes = makeBatches(shape, 1).batches[0]!.length;

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Runs of consecutive records slower than STALL_MS: `count×e<worst e2e>/p<worst produce>` ms. */
function stalls(r: LatencyResult): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.endToEndUs.length;) {
    if (r.endToEndUs[i]! <= STALL_MS * 1000) {
      i++;
      continue;
    }
    let j = i;
    let e = 0;
    let p = 0;
    for (; j < r.endToEndUs.length && r.endToEndUs[j]! > STALL_MS * 1000; j++) {
      e = Math.max(e, r.endToEndUs[j]!);
      p = Math.max(p, r.produceUs[j]!);
    }
    out.push(`${j - i}×e${(e / 1000).toFixed(1)}/p${(p / 1000).toFixed(1)}`);
    i = j;
  }
  return out;
}

/**
 * One round on `t`: MB/s (produce) or end-to-end p99 in ms (latency), and the server's CPU µs per
 * MiB or per 1000 records.
 */
async function round(t: Target): Promise<{ figure: number; cpu: number; note: string }> {
  let topicId = 'AAAAAAAAAAAAAAAAAAAAAA';
  if (t === 'sink') {
    const sinkMode = { fsync: false, relay: mode === 'latency', group: false, fetchFiles: [] };
    await servers.sink.call({ cmd: 'reset', mode: sinkMode });
  } else topicId = await admins[t].createTopic('t', 1);
  const before = await usage(servers[t]);
  let figure: number;
  let units: number;
  let note = '';
  if (mode === 'produce') {
    const r = (
      await gen.call({
        cmd: 'produce',
        port: ports[t],
        topic: 't',
        partitions: [0],
        requestsPerConnection: Math.ceil((amount * MiB) / batchBytes),
        window: 16,
        shape,
        poolSize: 64,
      })
    )['result'] as ProduceResult;
    figure = r.batchBytes / MiB / r.seconds;
    units = r.batchBytes / MiB;
  } else {
    const r = (
      await gen.call({
        cmd: 'latency',
        port: ports[t],
        topic: 't',
        topicId,
        rate: 10_000,
        seconds: amount,
        valueBytes: KiB,
        maxWaitMs: 500,
        pacer: 'timer',
      })
    )['result'] as LatencyResult;
    figure = percentile(r.endToEndUs, 99) / 1000;
    units = r.seen / 1000;
    const s = stalls(r);
    note = `p50 ${(percentile(r.endToEndUs, 50) / 1000).toFixed(2)} ms, ${s.length} stalls: ${s.slice(0, 12).join(' ')}`;
  }
  const after = await usage(servers[t]);
  if (t !== 'sink') await admins[t].deleteTopic('t');
  const h = after.hiccups;
  note += `  loop delay p99 ${h.loopDelayP99Ms.toFixed(1)} max ${h.loopDelayMaxMs.toFixed(1)} ms, ${h.gcCount} GCs`;
  return { figure, cpu: (after.cpuUs - before.cpuUs) / units, note };
}

const figures: Record<Target, number[]> = { a: [], b: [], sink: [] };
const cpu: Record<Target, number[]> = { a: [], b: [], sink: [] };
const ORDERS: Target[][] = [
  ['a', 'b', 'sink'],
  ['b', 'sink', 'a'],
  ['sink', 'a', 'b'],
];
try {
  for (const t of ORDERS[0]!) await round(t); // warm-up, not counted
  for (let i = 0; i < rounds; i++) {
    for (const t of ORDERS[i % ORDERS.length]!) {
      const r = await round(t);
      figures[t].push(r.figure);
      cpu[t].push(r.cpu);
      console.log(`  round ${i + 1} ${t.padEnd(4)} ${r.figure.toFixed(2).padStart(8)}   ${r.note}`);
    }
  }
} finally {
  admins.a.close();
  admins.b.close();
  await Promise.all([servers.a.stop(), servers.b.stop(), servers.sink.stop(), gen.stop()]);
  fs.rmSync(root, { recursive: true, force: true });
}
const ratio = (x: number[], y: number[]): string => {
  const r = pairedRatio(x, y).all;
  return `${median(r).toFixed(2)}x [q1 ${percentile(r, 25).toFixed(2)}, q3 ${percentile(r, 75).toFixed(2)}]`;
};
const unit = mode === 'produce' ? 'MB/s' : 'ms end-to-end p99';
const f = (t: Target): string => median(figures[t]).toFixed(2);
console.log(
  `${mode}, ${rounds} rounds: A ${f('a')}  B ${f('b')}  sink ${f('sink')} ${unit} (medians)` +
    `\n  B/A ${ratio(figures.b, figures.a)}   A/sink ${ratio(figures.a, figures.sink)}   B/sink ${ratio(figures.b, figures.sink)}` +
    `\n  server CPU µs per ${mode === 'produce' ? 'MiB' : '1000 records'}: A ${median(cpu.a).toFixed(0)}  B ${median(cpu.b).toFixed(0)}  sink ${median(cpu.sink).toFixed(0)}`,
);
