/**
 * The workload of the crash tests, shared by the child process that gets SIGKILLed
 * (crash-child.ts) and the in-process power-loss runs: keyed batches appended with a few in
 * flight, leader epochs that move on now and then, explicit flushes in page-cache mode. Every
 * acknowledged append and every completed flush is reported as a line:
 *
 *   ack <firstOffset> <lastOffset> <sha256 of the appended bytes> <recoveryPoint when acknowledged>
 *   flushed <recoveryPoint>
 */
import { createHash } from 'node:crypto';

import { CompressionCodec } from '../../../src/protocol/compression/index.js';
import {
  encodeRecordBatch,
  newRecordBatch,
  type ProducerRecord,
} from '../../../src/protocol/records/batch.js';
import type { FaultRng } from '../../../src/runtime/faulty-fs.js';
import { defaultLogConfig, type LogConfigValues } from '../../../src/storage/log-config.js';
import type { PartitionLog } from '../../../src/storage/log.js';

export type DurabilityMode = 'pagecache' | 'fsync';

export const DURABILITY_MODES: readonly DurabilityMode[] = ['pagecache', 'fsync'];

/** Small segments and dense indexes, so a short run rolls segments and fills indexes. */
export function crashConfig(mode: DurabilityMode): LogConfigValues {
  return {
    ...defaultLogConfig(),
    segmentBytes: 24 * 1024,
    indexIntervalBytes: 512,
    flushMessages: mode === 'fsync' ? 1 : Infinity,
  };
}

export interface Ack {
  firstOffset: number;
  lastOffset: number;
  hash: string;
  /** The log's recovery point when the append resolved. */
  recoveryPoint: number;
}

export interface Report {
  acks: Ack[];
  /** The largest recovery point reported (0 when none). */
  flushedTo: number;
}

/** Parses the complete lines of a workload's output (a cut last line is ignored). */
export function parseReport(text: string): Report {
  const lines = text.split('\n');
  lines.pop(); // empty, or a line the kill cut short
  const acks: Ack[] = [];
  let flushedTo = 0;
  for (const line of lines) {
    const f = line.split(' ');
    if (f[0] === 'ack' && f.length === 5) {
      const ack = {
        firstOffset: Number(f[1]),
        lastOffset: Number(f[2]),
        hash: f[3]!,
        recoveryPoint: Number(f[4]),
      };
      acks.push(ack);
      flushedTo = Math.max(flushedTo, ack.recoveryPoint);
    } else if (f[0] === 'flushed' && f.length === 2) {
      flushedTo = Math.max(flushedTo, Number(f[1]));
    }
  }
  return { acks, flushedTo };
}

export function hashBytes(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex').slice(0, 32);
}

function randInt(rng: FaultRng, n: number): number {
  return Math.min(n - 1, Math.floor(rng.next() * n));
}

/** One append's worth of batches: 1-3 batches of 1-6 keyed records, now and then a large one. */
export function randomAppend(rng: FaultRng, seq: number, nowMs: number): Buffer {
  const batches: Buffer[] = [];
  const nBatches = 1 + randInt(rng, 3);
  for (let b = 0; b < nBatches; b++) {
    const records: ProducerRecord[] = [];
    const n = 1 + randInt(rng, 6);
    const big = randInt(rng, 40) === 0;
    for (let i = 0; i < n; i++) {
      const size = big ? 4_000 + randInt(rng, 8_000) : randInt(rng, 300);
      const value = Buffer.alloc(size);
      for (let j = 0; j + 4 <= size; j += 4) value.writeUInt32LE((rng.next() * 0x100000000) >>> 0, j);
      records.push({ key: Buffer.from(`key-${seq}-${b}-${i}`), value, timestamp: nowMs + i });
    }
    batches.push(encodeRecordBatch(newRecordBatch(records), { compression: CompressionCodec.None }));
  }
  return Buffer.concat(batches);
}

export interface WorkloadOptions {
  log: PartitionLog;
  rng: FaultRng;
  mode: DurabilityMode;
  report: (line: string) => void;
  /** Checked before each new append; the workload returns once it is true and its appends settled. */
  stop: () => boolean;
  /** Upper bound on appends (keeps a run that is never stopped finite). */
  maxAppends: number;
  nowMs: () => number;
}

/**
 * Appends until stopped, with 1-4 appends in flight. Failed appends are reported as
 * `fail <message>` (none are expected, but a killed file system makes them).
 */
export async function runWorkload(o: WorkloadOptions): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let epoch = 0;
  let seq = 0;
  const limit = 1 + randInt(o.rng, 4);
  let flushing: Promise<void> | null = null;
  while (!o.stop() && seq < o.maxAppends) {
    if (randInt(o.rng, 60) === 0) epoch++;
    const records = randomAppend(o.rng, seq++, o.nowMs());
    const p = o.log.appendAsLeader(records, epoch).then(
      (info) =>
        o.report(`ack ${info.firstOffset} ${info.lastOffset} ${hashBytes(records)} ${o.log.recoveryPoint}`),
      (e: unknown) => o.report(`fail ${String(e).replace(/\s+/g, ' ')}`),
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (o.mode === 'pagecache' && flushing === null && randInt(o.rng, 15) === 0) {
      flushing = o.log.flush().then(
        () => o.report(`flushed ${o.log.recoveryPoint}`),
        (e: unknown) => o.report(`fail flush ${String(e).replace(/\s+/g, ' ')}`),
      );
      void flushing.finally(() => (flushing = null));
    }
    while (inFlight.size >= limit) await Promise.race(inFlight);
    if (randInt(o.rng, 4) === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(inFlight);
  if (flushing !== null) await flushing;
}
