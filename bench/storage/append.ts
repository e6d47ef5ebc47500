/**
 * Append benchmarks.
 *
 * 1. Page-cache durability (Kafka's default: flush.messages and flush.ms never): 16 KiB batches
 *    appended to a PartitionLog, one at a time (each awaited: the headline, the same issuing
 *    pattern as the baseline) and with 16 in flight, beside a raw sequential `fs.write` of the
 *    same bytes to a plain file, each write awaited before the next. Target: ≥ 0.9x.
 *    Every round starts on an empty file on both sides (the log via truncateFullyAndStartAt,
 *    untimed), so the page cache holds at most a round's worth of dirty data.
 *    A second baseline, for information (the target stays against the first): the same awaited
 *    writes, each after validating its batch as an append must (length, magic, CRC32C, record
 *    count: validateBatch). It is the floor of a log that validates before it writes: when a
 *    write takes ~13 µs, CRC32C of 16 KiB (~2 µs) alone costs ~0.87x of the first baseline.
 *    A third, also for information: the same writes made with fs.writeSync, which is how the
 *    log writes appends of up to 64 KiB when nothing is in flight (no thread-pool round trip).
 *    The log's lead over the first baseline is that choice; against this one it shows what
 *    validation, offsets and indexes cost on top of the bare synchronous write.
 * 2. fsync on every append (flush.messages=1), 8 and 32 appenders in flight, beside a
 *    group-commit loop that writes whatever is queued with one writev and then fdatasyncs, for
 *    the same bytes and the same concurrency. Target: ≥ 0.85x. A counted pass afterwards shows
 *    how many fdatasyncs (and of which files) the log makes per append.
 */
import * as fs from 'node:fs';
import { validateBatch } from '../../src/protocol/records/batch-view.js';
import { crc32c } from '../../src/protocol/records/crc32c.js';
import { nodeFileSystem } from '../../src/runtime/fs.js';
import type { PartitionLog } from '../../src/storage/log.js';
import { alwaysSyncWrites, SYNC_WRITE_BUDGET_NS, syncWriteBudget } from '../../src/storage/sync-writes.js';
import {
  appendMany,
  batchPool,
  countingFileSystem,
  FsCounters,
  fsFdatasync,
  fsWrite,
  fsWritev,
  interleave,
  KiB,
  logConfig,
  mbps,
  median,
  MiB,
  noSyncFileSystem,
  openEmpty,
  openLog,
  pairedRatio,
  ratioText,
  spread,
  timed,
  verdict,
} from './support.js';

const BATCH_BYTES = 16 * KiB;

// ------------------------------------------------------------------ 1. page cache

export async function benchAppendPageCache(root: string): Promise<void> {
  const roundBytes = 16 * MiB;
  const n = roundBytes / BATCH_BYTES;
  const window = 16;
  const { pool } = batchPool(BATCH_BYTES, 64);
  const config = logConfig();
  fs.mkdirSync(`${root}/append-serial`);
  fs.mkdirSync(`${root}/append-window`);
  const serialLog = await openLog(`${root}/append-serial/bench-0`, config);
  const windowLog = await openLog(`${root}/append-window/bench-0`, config);
  const rawPath = `${root}/append-raw.bin`;
  let fd = openEmpty(rawPath);
  const validatedPath = `${root}/append-raw-validated.bin`;
  let validatedFd = openEmpty(validatedPath);
  const syncPath = `${root}/append-raw-sync.bin`;
  let syncFd = openEmpty(syncPath);
  /** CPU time (user + system, every thread of the process) per append, per variant and round. */
  const cpu = {
    serial: [] as number[],
    raw: [] as number[],
    validated: [] as number[],
    windowed: [] as number[],
    writeSync: [] as number[],
  };

  const measure = async (cpuList: number[], fn: () => Promise<unknown>): Promise<number> => {
    const cpu0 = process.cpuUsage();
    const s = await timed(fn);
    const used = process.cpuUsage(cpu0);
    cpuList.push((used.user + used.system) / n);
    return mbps(n * BATCH_BYTES, s);
  };
  /** A round of the log: starts empty (untimed, with one untimed append that writes the epoch checkpoint). */
  const logRound = async (log: PartitionLog, inFlight: number, cpuList: number[]): Promise<number> => {
    await log.truncateFullyAndStartAt(log.logEndOffset);
    await log.appendAsLeader(pool[0]!, 0);
    return measure(cpuList, () => appendMany(log, pool, n, inFlight));
  };
  /** A round of the baseline: a new empty file (untimed, with one untimed write), then n awaited writes. */
  const rawRound = async (): Promise<number> => {
    fs.closeSync(fd);
    fs.unlinkSync(rawPath);
    fd = openEmpty(rawPath);
    let position = await fsWrite(fd, pool[0]!, 0);
    return measure(cpu.raw, async () => {
      for (let i = 0; i < n; i++) position += await fsWrite(fd, pool[i % pool.length]!, position);
    });
  };
  /** A round of the second baseline: as rawRound, each write after validating its batch. */
  const validatedRound = async (): Promise<number> => {
    fs.closeSync(validatedFd);
    fs.unlinkSync(validatedPath);
    validatedFd = openEmpty(validatedPath);
    let position = await fsWrite(validatedFd, pool[0]!, 0);
    return measure(cpu.validated, async () => {
      for (let i = 0; i < n; i++) {
        const buf = pool[i % pool.length]!;
        const error = validateBatch(buf);
        if (error !== null) throw error;
        position += await fsWrite(validatedFd, buf, position);
      }
    });
  };

  /** A round of the third baseline: as rawRound, with fs.writeSync. */
  const writeSyncRound = async (): Promise<number> => {
    fs.closeSync(syncFd);
    fs.unlinkSync(syncPath);
    syncFd = openEmpty(syncPath);
    let position = fs.writeSync(syncFd, pool[0]!, 0, pool[0]!.length, 0);
    return measure(cpu.writeSync, () => {
      for (let i = 0; i < n; i++) {
        const buf = pool[i % pool.length]!;
        position += fs.writeSync(syncFd, buf, 0, buf.length, position);
      }
      return Promise.resolve();
    });
  };

  // The second and third baselines run after the first, so the log (1 in flight) still follows
  // the log with 16 in flight and precedes the first baseline, as before they were added.
  const sync0 = { allowed: syncWriteBudget.allowed, refused: syncWriteBudget.refused };
  const [serial, raw, validated, windowed, writeSync] = (await interleave(
    [
      () => logRound(serialLog, 1, cpu.serial),
      rawRound,
      validatedRound,
      () => logRound(windowLog, window, cpu.windowed),
      writeSyncRound,
    ],
    { warmup: 2, minRounds: 8, maxRounds: 60, maxMs: 6000 },
  )) as [number[], number[], number[], number[], number[]];
  const syncAllowed = syncWriteBudget.allowed - sync0.allowed;
  const syncRefused = syncWriteBudget.refused - sync0.refused;
  const syncEstimate = syncWriteBudget.estimateNsPerByte;
  await serialLog.close();
  await windowLog.close();
  fs.closeSync(fd);
  fs.closeSync(validatedFd);
  fs.closeSync(syncFd);
  const noIo = await appendCpuWithoutIo(root, pool);

  const s = median(serial);
  const r = median(raw);
  const v = median(validated);
  const w = median(windowed);
  const sr = pairedRatio(serial, raw).median;
  const us = (xs: number[]): string => `${median(xs).toFixed(1).padStart(5)} µs CPU/append`;
  console.log(
    `\n1. append, 16 KiB batches, page cache (flush.messages=flush.ms=never; no fsync), ${serial.length} interleaved rounds of ${roundBytes / MiB} MiB`,
  );
  console.log(
    `   baseline  raw fs.write, one awaited at a time     ${r.toFixed(0).padStart(6)} MB/s ${spread(raw)}   ${us(cpu.raw)}`,
  );
  console.log(
    `   HEADLINE  log append, 1 in flight                 ${s.toFixed(0).padStart(6)} MB/s ${spread(serial)}   ${us(cpu.serial)}   ${ratioText(serial, raw)}  target >= 0.90x: ${verdict(sr >= 0.9)}`,
  );
  console.log(
    `             log append, ${window} in flight                ${w.toFixed(0).padStart(6)} MB/s ${spread(windowed)}   ${us(cpu.windowed)}   ${ratioText(windowed, raw)}  (written at once as they come; the baseline stays 1 at a time)`,
  );
  console.log(
    `   baseline 2 (information) validateBatch + raw fs.write ${v.toFixed(0).padStart(6)} MB/s ${spread(validated)}   ${us(cpu.validated)}   ${ratioText(validated, raw)} of baseline 1`,
  );
  console.log(
    `             log append, 1 in flight, against baseline 2                                ${ratioText(serial, validated)}  (what validating before writing leaves to the log's own path)`,
  );
  console.log(
    `   baseline 3 (information) raw fs.writeSync             ${median(writeSync).toFixed(0).padStart(6)} MB/s ${spread(writeSync)}   ${us(cpu.writeSync)}   ${ratioText(writeSync, raw)} of baseline 1`,
  );
  console.log(
    `             log append, 1 in flight, against baseline 3                                ${ratioText(serial, writeSync)}  (the log writes appends up to 64 KiB synchronously too: its own cost on top)`,
  );
  console.log(
    `   the logs' appends written synchronously: ${syncAllowed} of ${syncAllowed + syncRefused} (sync-writes.ts; estimate at the end ${syncEstimate.toFixed(2)} ns/B, budget ${SYNC_WRITE_BUDGET_NS / 1000} µs per write)`,
  );
  console.log(
    `   where an append's time goes without I/O (writes discarded by a null FileSystem), ${noIo.rounds} rounds: ` +
      `${noIo.appendUs.toFixed(1)} µs per append, of which CRC32C of the 16 KiB batch ${noIo.crcUs.toFixed(1)} µs ` +
      `(raw fs.write takes ${((BATCH_BYTES / MiB / r) * 1e6).toFixed(1)} µs per 16 KiB at the baseline's median)`,
  );
}

/**
 * The append path's own cost: appends (1 in flight) to a log whose file writes and fsyncs are
 * discarded, beside CRC32C of the same batches (what validation must spend on every byte).
 */
async function appendCpuWithoutIo(
  root: string,
  pool: readonly Buffer[],
): Promise<{ appendUs: number; crcUs: number; rounds: number }> {
  fs.mkdirSync(`${root}/append-null`);
  // Discarded writes cost nothing: the process-wide policy must not learn that.
  const log = await openLog(`${root}/append-null/bench-0`, logConfig(), {
    fs: noSyncFileSystem(nodeFileSystem, { discardWrites: true }),
    syncWrites: alwaysSyncWrites,
  });
  const n = 2000;
  let sink = 0;
  const [appendUs, crcUs] = (await interleave(
    [
      async () => ((await timed(() => appendMany(log, pool, n, 1))) / n) * 1e6,
      async () =>
        ((await timed(async () => {
          for (let i = 0; i < n; i++) sink ^= crc32c(pool[i % pool.length]!.subarray(21));
          return Promise.resolve();
        })) /
          n) *
        1e6,
    ],
    { warmup: 2, minRounds: 5, maxRounds: 30, maxMs: 1000 },
  )) as [number[], number[]];
  await log.close();
  return {
    appendUs: median(appendUs),
    crcUs: median(crcUs) + (sink === 0.5 ? 1 : 0),
    rounds: appendUs.length,
  };
}

// ------------------------------------------------------------------ 2. fsync per append

/** Writes whatever is queued with one writev, then fdatasyncs; resolves every write of the group. */
class GroupCommitFile {
  private queue: { buf: Buffer; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private busy = false;
  private position = 0;
  syncs = 0;

  constructor(private readonly fd: number) {}

  append(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ buf, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    void this.commit(this.queue.splice(0));
  }

  private async commit(group: { buf: Buffer; resolve: () => void; reject: (e: unknown) => void }[]) {
    try {
      const bufs = group.map((g) => g.buf);
      let total = 0;
      for (const b of bufs) total += b.length;
      const n = await fsWritev(this.fd, bufs, this.position);
      if (n !== total) throw new Error(`short writev: ${n} of ${total}`);
      this.position += n;
      await fsFdatasync(this.fd);
      this.syncs++;
      for (const g of group) g.resolve();
    } catch (e) {
      for (const g of group) g.reject(e);
    }
    this.busy = false;
    this.kick();
  }
}

/** Runs `inFlight` appenders for about `ms`; returns completed appends per second. */
async function appendsPerSecond(
  inFlight: number,
  ms: number,
  append: (i: number) => Promise<unknown>,
): Promise<{ perSec: number; appends: number }> {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let next = 0;
  let done = 0;
  const appender = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      await append(next++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, appender));
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return { perSec: done / s, appends: done };
}

export async function benchAppendFsync(root: string): Promise<void> {
  const config = logConfig({ 'flush.messages': '1' });
  const roundMs = 300;
  console.log(
    `\n2. append, 16 KiB batches, fsync on every append (flush.messages=1, group commit), ${roundMs} ms interleaved rounds`,
  );
  for (const inFlight of [8, 32]) {
    const { pool } = batchPool(BATCH_BYTES, Math.max(64, 4 * inFlight));
    const dir = `${root}/fsync-${inFlight}`;
    fs.mkdirSync(dir);
    const log = await openLog(`${dir}/bench-0`, config);
    const rawPath = `${dir}/group-commit.bin`;
    const fd = openEmpty(rawPath);
    const gc = new GroupCommitFile(fd);
    const logRound = async (): Promise<number> =>
      (await appendsPerSecond(inFlight, roundMs, (i) => log.appendAsLeader(pool[i % pool.length]!, 0)))
        .perSec;
    const rawRound = async (): Promise<number> =>
      (await appendsPerSecond(inFlight, roundMs, (i) => gc.append(pool[i % pool.length]!))).perSec;
    const [logRates, rawRates] = (await interleave([logRound, rawRound], {
      warmup: 1,
      minRounds: 4,
      maxRounds: 12,
      maxMs: 3500,
    })) as [number[], number[]];

    // A counted pass (not timed against anything): file operations per append.
    const counters = new FsCounters();
    const countedLog = await openLog(`${dir}/counted-0`, config, {
      fs: countingFileSystem(nodeFileSystem, counters),
    });
    await appendMany(countedLog, pool, 4 * inFlight, inFlight); // epoch checkpoint and first segment files
    counters.reset();
    const counted = await appendsPerSecond(inFlight, roundMs, (i) =>
      countedLog.appendAsLeader(pool[i % pool.length]!, 0),
    );
    const gcSyncsBefore = gc.syncs;
    const gcCounted = await appendsPerSecond(inFlight, roundMs, (i) => gc.append(pool[i % pool.length]!));
    const gcSyncs = gc.syncs - gcSyncsBefore;
    await countedLog.close();
    await log.close();
    fs.closeSync(fd);

    const l = median(logRates);
    const r = median(rawRates);
    const lr = pairedRatio(logRates, rawRates).median;
    const mb = (perSec: number): string =>
      mbps(perSec * BATCH_BYTES, 1)
        .toFixed(1)
        .padStart(6);
    const aps = (perSec: number): string => perSec.toFixed(0).padStart(6);
    console.log(`   ${inFlight} appenders in flight, ${logRates.length} rounds each`);
    console.log(
      `     baseline  writev of the queue + fdatasync   ${mb(r)} MB/s ${aps(r)} appends/s ${spread(rawRates)}`,
    );
    console.log(
      `     log       append, flush.messages=1          ${mb(l)} MB/s ${aps(l)} appends/s ${spread(logRates)}   ${ratioText(logRates, rawRates)}  target >= 0.85x: ${verdict(lr >= 0.85)}`,
    );
    const per = (op: string): string => (counters.count(op) / counted.appends).toFixed(2);
    console.log(
      `     counted pass: log ${counted.appends} appends made fdatasync .log ${per('sync:log')}, .index ${per('sync:index')}, ` +
        `.timeindex ${per('sync:timeindex')}, open ${per('open')}, close ${per('close')}, ftruncate ${per('truncate')}, writev ${per('writev')} per append; ` +
        `baseline ${gcCounted.appends} appends made ${(gcSyncs / gcCounted.appends).toFixed(2)} fdatasync per append`,
    );
    const fsyncMs = counters.ms('sync') / counters.count('sync');
    console.log(
      `     counted pass: mean fdatasync ${fsyncMs.toFixed(2)} ms (log file ${(counters.ms('sync:log') / Math.max(1, counters.count('sync:log'))).toFixed(2)} ms, index files ${(counters.ms('sync:index') / Math.max(1, counters.count('sync:index'))).toFixed(2)} ms)`,
    );
  }
}
