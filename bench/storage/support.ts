/**
 * Helpers of the storage benchmarks: pre-built record batches of an exact size, logs opened in a
 * folder, raw-file baselines, interleaved rounds bounded in time, and printing.
 */
import * as fs from 'node:fs';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { encodeRecordBatch, newRecordBatch, type ProducerRecord } from '../../src/protocol/records/batch.js';
import { systemClock } from '../../src/runtime/clock.js';
import { nodeFileSystem, type FileSystem } from '../../src/runtime/fs.js';
import {
  defaultLogConfig,
  isConfigError,
  parseLogConfig,
  type LogConfig,
} from '../../src/storage/log-config.js';
import { openPartitionLog } from '../../src/storage/log-loader.js';
import type { PartitionLog } from '../../src/storage/log.js';
import type { SyncWritePolicy } from '../../src/storage/sync-writes.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const TOPIC_PARTITION = { topic: 'bench', partition: 0 };

/**
 * `count` distinct copies of one valid, uncompressed magic-v2 batch of exactly `batchBytes`
 * bytes (records of ~1 KiB values). The log patches base offset and leader epoch in place; both
 * lie outside the CRC, so the buffers stay valid and can be appended again and again, as long
 * as a buffer is not reused while an append of it is still in flight.
 */
export function batchPool(batchBytes: number, count: number): { pool: Buffer[]; recordsPerBatch: number } {
  const recordsPerBatch = Math.max(1, Math.floor(batchBytes / 1100));
  const build = (lastValueBytes: number, valueBytes: number): Buffer => {
    const now = Date.now();
    const records: ProducerRecord[] = Array.from({ length: recordsPerBatch }, (_, i) => {
      const value = Buffer.alloc(i === recordsPerBatch - 1 ? lastValueBytes : valueBytes);
      for (let j = 0; j < value.length; j++) value[j] = (j * 2654435761 + i) >>> 24;
      return { key: Buffer.from(`key-${String(i).padStart(6, '0')}`), value, timestamp: now + i };
    });
    return encodeRecordBatch(newRecordBatch(records), { compression: CompressionCodec.None });
  };
  const valueBytes = Math.max(0, Math.floor((batchBytes - 61) / recordsPerBatch) - 24);
  let last = valueBytes;
  let batch = build(last, valueBytes);
  // The last record's value absorbs the difference (a varint may change width: a few tries).
  for (let i = 0; i < 8 && batch.length !== batchBytes; i++) {
    last = Math.max(0, last + batchBytes - batch.length);
    batch = build(last, valueBytes);
  }
  if (batch.length !== batchBytes) throw new Error(`could not build a batch of ${batchBytes} bytes`);
  return { pool: Array.from({ length: count }, () => Buffer.from(batch)), recordsPerBatch };
}

/** Topic config overrides on Kafka's defaults, e.g. `{ 'flush.messages': '1' }`. */
export function logConfig(overrides: Record<string, string> = {}): LogConfig {
  const c = parseLogConfig(overrides, defaultLogConfig());
  if (isConfigError(c)) throw new Error(c.message);
  return c;
}

/** Opens (creating when new) the partition log in `dir`. */
export function openLog(
  dir: string,
  config: LogConfig,
  opts: {
    cleanShutdown?: boolean;
    recoveryPoint?: number;
    fs?: FileSystem;
    log?: (m: string) => void;
    syncWrites?: SyncWritePolicy;
  } = {},
): Promise<PartitionLog> {
  return openPartitionLog({
    fs: opts.fs ?? nodeFileSystem,
    clock: systemClock,
    dir,
    topicPartition: TOPIC_PARTITION,
    config,
    recoveryPoint: opts.recoveryPoint ?? 0,
    logStartOffset: 0,
    cleanShutdown: opts.cleanShutdown ?? true,
    log: opts.log ?? (() => undefined),
    ...(opts.syncWrites !== undefined && { syncWrites: opts.syncWrites }),
  });
}

/**
 * Appends `n` batches from `pool` (cycled) with at most `window` appends in flight: `window`
 * appenders, each awaiting its append before making the next. Resolves to the bytes appended.
 */
export async function appendMany(
  log: PartitionLog,
  pool: readonly Buffer[],
  n: number,
  window: number,
  leaderEpoch = 0,
): Promise<number> {
  let next = 0;
  let bytes = 0;
  const appender = async (): Promise<void> => {
    while (next < n) {
      const buf = pool[next++ % pool.length]!;
      await log.appendAsLeader(buf, leaderEpoch);
      bytes += buf.length;
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, appender));
  return bytes;
}

// ------------------------------------------------------------------ raw file baselines

export function fsWrite(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

export function fsWritev(fd: number, chunks: Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, chunks, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

export function fsRead(
  fd: number,
  into: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, into, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

export function fsFdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Opens `path` read-write, created and emptied. */
export function openEmpty(path: string): number {
  return fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_TRUNC, 0o644);
}

// ------------------------------------------------------------------ rounds and figures

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Seconds elapsed while `fn` runs. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Runs `variants` in alternating rounds (A B C A B C …) after `warmup` rounds, for at least
 * `minRounds` and at most `maxRounds` rounds, stopping once `maxMs` has passed. Each variant
 * returns what its round measured (a rate, a time); the lists come back per variant.
 */
export async function interleave(
  variants: ReadonlyArray<() => Promise<number>>,
  opts: { warmup?: number; minRounds?: number; maxRounds: number; maxMs: number },
): Promise<number[][]> {
  for (let i = 0; i < (opts.warmup ?? 1); i++) for (const v of variants) await v();
  const out: number[][] = variants.map(() => []);
  const deadline = Date.now() + opts.maxMs;
  for (let r = 0; r < opts.maxRounds && (r < (opts.minRounds ?? 3) || Date.now() < deadline); r++) {
    for (let i = 0; i < variants.length; i++) out[i]!.push(await variants[i]!());
  }
  return out;
}

export function mbps(bytes: number, seconds: number): number {
  return bytes / MiB / seconds;
}

/** `12.3x` style ratio. */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

/**
 * Median of the per-round ratios a[i] / b[i] of two interleaved variants: each ratio compares
 * rounds run back to back, so drift in machine speed (or load from other processes) cancels
 * better than in the ratio of the medians.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): { median: number; all: number[] } {
  const all = a.map((x, i) => x / b[i]!);
  return { median: median(all), all };
}

/** Spread of the rounds: `[min–max]`, to show how noisy a median is. */
export function spread(xs: readonly number[], digits = 0): string {
  return `[${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;
}

/** `ratio 0.95x [0.80–1.10]`: the median and range of the per-round ratios of a to b. */
export function ratioText(a: readonly number[], b: readonly number[]): string {
  const r = pairedRatio(a, b);
  return `ratio ${r.median.toFixed(2)}x ${spread(r.all, 2)}`;
}

export function verdict(ok: boolean): string {
  return ok ? 'MET' : 'MISSED';
}

/** Removes every file in `dir` (not the folder). */
export function emptyDir(dir: string): void {
  for (const n of fs.readdirSync(dir)) fs.rmSync(`${dir}/${n}`, { recursive: true, force: true });
}

// ------------------------------------------------------------------ an instrumented FileSystem

/** Calls and time spent per file operation, as seen through `countingFileSystem`. */
export class FsCounters {
  readonly calls = new Map<string, number>();
  readonly ns = new Map<string, number>();

  add(op: string, ns: number): void {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    this.ns.set(op, (this.ns.get(op) ?? 0) + ns);
  }

  count(op: string): number {
    return this.calls.get(op) ?? 0;
  }

  ms(op: string): number {
    return (this.ns.get(op) ?? 0) / 1e6;
  }

  reset(): void {
    this.calls.clear();
    this.ns.clear();
  }
}

/** The file kind of a path, for the counters: `log`, `index`, `timeindex`, `checkpoint`, … */
function kindOf(path: string): string {
  const m = /\.(log|index|timeindex)$/.exec(path);
  if (m !== null) return m[1]!;
  return path.endsWith('checkpoint') || path.endsWith('.tmp') ? 'checkpoint' : 'other';
}

/**
 * Wraps a FileSystem so that each operation is counted and timed, keyed `op` and `op:kind`
 * (e.g. `sync:log`, `sync:index`, `open:timeindex`). For diagnostics: it adds a promise per call.
 */
export function countingFileSystem(inner: FileSystem, c: FsCounters): FileSystem {
  const count = (op: string, path: string, start: bigint): void => {
    const ns = Number(process.hrtime.bigint() - start);
    c.add(op, ns);
    c.add(`${op}:${kindOf(path)}`, ns);
  };
  const time = async <T>(op: string, path: string, fn: () => Promise<T>): Promise<T> => {
    const start = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      count(op, path, start);
    }
  };
  return {
    async open(path, mode) {
      const h = await time('open', path, () => inner.open(path, mode));
      return {
        path: h.path,
        writev: (chunks, position) => time('writev', path, () => h.writev(chunks, position)),
        ...(h.writeSync !== undefined && {
          writeSync: (chunks: readonly Buffer[], position: number) => {
            const start = process.hrtime.bigint();
            try {
              return h.writeSync!(chunks, position);
            } finally {
              count('writev', path, start);
            }
          },
        }),
        read: (into, offset, length, position) =>
          time('read', path, () => h.read(into, offset, length, position)),
        sync: () => time('sync', path, () => h.sync()),
        truncate: (n) => time('truncate', path, () => h.truncate(n)),
        sizeBytes: () => time('size', path, () => h.sizeBytes()),
        close: () => time('close', path, () => h.close()),
      };
    },
    readFile: (path) => time('readFile', path, () => inner.readFile(path)),
    writeFileAtomic: (path, data) => time('writeFileAtomic', path, () => inner.writeFileAtomic(path, data)),
    rename: (from, to) => time('rename', from, () => inner.rename(from, to)),
    unlink: (path) => time('unlink', path, () => inner.unlink(path)),
    mkdir: (path) => time('mkdir', path, () => inner.mkdir(path)),
    rmdir: (path) => time('rmdir', path, () => inner.rmdir(path)),
    readdir: (path) => time('readdir', path, () => inner.readdir(path)),
    stat: (path) => time('stat', path, () => inner.stat(path)),
    syncDir: (path) => time('syncDir', path, () => inner.syncDir(path)),
  };
}

/**
 * A FileSystem whose fsyncs (of files and folders) do nothing, and whose file writes also do
 * nothing when `discardWrites` is set: they resolve (or return) at once, as if done. Appending through it
 * with `discardWrites` measures the append path's own CPU cost; without, it builds real files
 * quickly (for benchmarks that read them back and do not care whether they are durable).
 * Everything else (opening, folders, checkpoints) is real.
 */
export function noSyncFileSystem(inner: FileSystem, opts: { discardWrites: boolean }): FileSystem {
  return {
    ...inner,
    syncDir: () => Promise.resolve(),
    async open(path, mode) {
      const h = await inner.open(path, mode);
      return {
        path: h.path,
        writev: opts.discardWrites
          ? (chunks) => Promise.resolve(totalBytes(chunks))
          : (chunks, position) => h.writev(chunks, position),
        ...(h.writeSync !== undefined && {
          writeSync: opts.discardWrites
            ? (chunks: readonly Buffer[]) => totalBytes(chunks)
            : (chunks: readonly Buffer[], position: number) => h.writeSync!(chunks, position),
        }),
        read: (into, offset, length, position) => h.read(into, offset, length, position),
        sync: () => Promise.resolve(),
        truncate: (n) => h.truncate(n),
        sizeBytes: () => h.sizeBytes(),
        close: () => h.close(),
      };
    },
  };
}

function totalBytes(chunks: readonly Buffer[]): number {
  let total = 0;
  for (const c of chunks) total += c.length;
  return total;
}
