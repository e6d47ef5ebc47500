/**
 * Crash tests. A child process appends to a log and reports every acknowledged append; the test
 * kills it with SIGKILL at a random moment, recovers the log (cleanShutdown: false, recovery point
 * from what the child reported flushed) and checks it: every fsynced append is there byte for
 * byte, every batch read back is whole and valid, offsets are continuous from the log start, the
 * indexes find every batch, the leader-epoch cache agrees with the batches, and the log takes
 * appends again. Run for page-cache mode (the default) and fsync-on-every-append mode.
 *
 * A SIGKILL loses nothing the process had written (the OS page cache survives it), so there every
 * acknowledged append must survive in both modes. What page-cache mode risks is a power loss: the
 * second part simulates one in-process with FaultyFileSystem's crash model (unsynced writes lost,
 * torn or zeroed; unsynced folder changes undone) and checks the guarantee of each mode — in
 * page-cache mode only what was flushed, in fsync mode every acknowledged append.
 *
 * CRASH_RUNS (default 8) sets the runs per mode (and per data-loss model); CRASH_SEED gives the
 * seeds (printed) again: the kill times, workloads and crash outcomes are seeded, the interleaving
 * of the writer with the disk is not, so a seed replays a run closely but not exactly.
 */
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { ManualClock } from '../../src/runtime/clock.js';
import {
  FaultyFileSystem,
  seededRng,
  type CrashDataModel,
  type FaultRng,
} from '../../src/runtime/faulty-fs.js';
import { nodeFileSystem, type FileHandle, type FileSystem } from '../../src/runtime/fs.js';
import type { LogConfigValues } from '../../src/storage/log-config.js';
import type { PartitionLog } from '../../src/storage/log.js';
import {
  crashConfig,
  DURABILITY_MODES,
  hashBytes,
  parseReport,
  randomAppend,
  runWorkload,
  type DurabilityMode,
  type Report,
} from './support/crash-workload.js';
import {
  makeBatch,
  openLog,
  readAll,
  splitBatches,
  TempRoot,
  withoutFsync,
  type SplitBatch,
} from './support/log-fixtures.js';

const RUNS = Math.max(1, Number(process.env.CRASH_RUNS ?? 8));
const BASE_SEED =
  process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) : Date.now() % 1_000_000_000;
/** Time per test after which no new run starts (the runs started finish); generous for CRASH_RUNS=50. */
const TIME_BUDGET_MS = Number(process.env.CRASH_TIME_BUDGET_MS ?? 600_000);
/** Child processes at a time. */
const CONCURRENCY = Math.max(1, Number(process.env.CRASH_CONCURRENCY ?? 2));

const tmp = new TempRoot('samsa-crash-test-');
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
  // CRASH_KEEP=1 keeps the folders for a look after a failure.
  if (process.env.CRASH_KEEP !== '1') tmp.remove();
});

// The child script sits next to this file's support folder, compiled alongside it when run from dist/.
const here = fileURLToPath(import.meta.url);
const childScript = fileURLToPath(
  new URL(`./support/crash-child.${here.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
);

// ------------------------------------------------------------------------------- verification

interface Checked {
  batches: number;
  logEndOffset: number;
}

/**
 * Recovers the log in `dir` and checks it against what the writer reported. `mustSurvive` says
 * which acknowledged appends must be there.
 */
async function recoverAndCheck(
  fs: FileSystem,
  dir: string,
  config: LogConfigValues,
  report: Report,
  mustSurvive: (ack: Report['acks'][number]) => boolean,
  rng: FaultRng,
): Promise<Checked> {
  const { log, lines } = await openLog({
    fs,
    dir,
    config,
    cleanShutdown: false,
    recoveryPoint: report.flushedTo,
  });
  const segments = log.segments.map((s) => `${s.baseOffset}..${s.nextOffset}:${s.sizeBytes}B`).join(' ');
  const where = `(segments ${segments}; recovery: ${lines.join(' | ')})`;
  // Offsets continuous from the log start, every batch whole and CRC-valid (readAll asserts both).
  assert.equal(log.logStartOffset, 0);
  const batches = await readAll(log, 0).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)} ${where}`, { cause: e });
  });
  if (batches.length > 0) assert.equal(batches[0]!.baseOffset, 0, 'the log starts at offset 0');
  const end = batches.length > 0 ? batches[batches.length - 1]!.lastOffset + 1 : 0;
  assert.equal(log.logEndOffset, end, `log end offset ${where}`);
  assert.ok(
    log.logEndOffset >= report.flushedTo,
    `recovered to ${log.logEndOffset}, below the flushed ${report.flushedTo} ${where}`,
  );

  // Acknowledged appends that must survive are there, byte for byte.
  const byBase = new Map<number, number>();
  batches.forEach((b, i) => byBase.set(b.baseOffset, i));
  for (const ack of report.acks) {
    if (!mustSurvive(ack)) continue;
    const i = byBase.get(ack.firstOffset);
    assert.ok(i !== undefined, `append [${ack.firstOffset}, ${ack.lastOffset}] lost ${where}`);
    const parts: Buffer[] = [];
    let j = i;
    while (j < batches.length && batches[j]!.lastOffset <= ack.lastOffset) parts.push(batches[j++]!.bytes);
    assert.equal(
      batches[j - 1]!.lastOffset,
      ack.lastOffset,
      `append [${ack.firstOffset}, ${ack.lastOffset}] cut`,
    );
    assert.equal(
      hashBytes(Buffer.concat(parts)),
      ack.hash,
      `append [${ack.firstOffset}, ${ack.lastOffset}] differs`,
    );
  }

  try {
    await checkIndexes(log, batches, rng);
    checkEpochs(log, batches);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)} ${where}`, { cause: e });
  }

  // The recovered log takes appends at its end, and reopens clean as it is.
  const more = randomAppend(rng, 1_000_000, Date.now());
  const info = await log.appendAsLeader(more, 1_000);
  assert.equal(info.firstOffset, end);
  await log.close();
  const { log: again } = await openLog({
    fs,
    dir,
    config,
    cleanShutdown: true,
    recoveryPoint: log.recoveryPoint,
  });
  const reread = await readAll(again, 0);
  assert.equal(reread.length, batches.length + splitBatches(more).length);
  for (let i = 0; i < batches.length; i++)
    assert.ok(reread[i]!.bytes.equals(batches[i]!.bytes), `batch ${i} after reopen`);
  await again.close();
  return { batches: batches.length, logEndOffset: end };
}

/** Reads at offsets of every batch (all of them for small logs) and checks the batch holding each comes first. */
async function checkIndexes(log: PartitionLog, batches: SplitBatch[], rng: FaultRng): Promise<void> {
  const total = batches.length > 0 ? batches[batches.length - 1]!.lastOffset + 1 : 0;
  const everyOffset = total <= 1_500;
  for (const b of batches) {
    const offsets = everyOffset
      ? Array.from({ length: b.lastOffset - b.baseOffset + 1 }, (_, k) => b.baseOffset + k)
      : [
          b.baseOffset,
          b.lastOffset,
          b.baseOffset + Math.floor(rng.next() * (b.lastOffset - b.baseOffset + 1)),
        ];
    for (const o of offsets) {
      const got = splitBatches((await log.read(o, 1)).records);
      assert.equal(got.length, 1, `read at ${o}`);
      assert.ok(
        got[0]!.bytes.equals(b.bytes),
        `read at ${o} returns the batch [${b.baseOffset}, ${b.lastOffset}]`,
      );
    }
  }
}

/** Each epoch in the cache starts at a batch of that epoch, right after a batch of an older one. */
function checkEpochs(log: PartitionLog, batches: SplitBatch[]): void {
  const entries = log.epochCache.entries();
  const at = new Map(batches.map((b, i) => [b.baseOffset, i]));
  for (const e of entries) {
    const i = at.get(e.startOffset);
    assert.ok(i !== undefined, `epoch ${e.epoch} starts at ${e.startOffset}, not a batch start of the log`);
    assert.equal(batches[i]!.partitionLeaderEpoch, e.epoch);
    if (i > 0) assert.ok(batches[i - 1]!.partitionLeaderEpoch < e.epoch);
  }
  // And every epoch change in the log is in the cache.
  const starts = new Set(entries.map((e) => `${e.epoch}@${e.startOffset}`));
  batches.forEach((b, i) => {
    if (i === 0 || b.partitionLeaderEpoch > batches[i - 1]!.partitionLeaderEpoch)
      assert.ok(
        starts.has(`${b.partitionLeaderEpoch}@${b.baseOffset}`),
        `epoch ${b.partitionLeaderEpoch} at ${b.baseOffset} missing`,
      );
  });
}

// ------------------------------------------------------------------------------ process kills

interface ChildRun {
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Test-runner flags that take their value as the next argument. */
const TEST_FLAGS_WITH_VALUE = new Set([
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-concurrency',
  '--test-timeout',
  '--test-shard',
  '--test-coverage-include',
  '--test-coverage-exclude',
]);

/** This process's node flags (a loader such as tsx) without the test runner's. */
function childExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--test')) out.push(a);
    else if (TEST_FLAGS_WITH_VALUE.has(a)) i++;
  }
  return out;
}

/** Starts the child, kills it `killAfterMs` after it is ready, and returns what it printed. */
function runChild(dir: string, mode: DurabilityMode, seed: number, killAfterMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const execArgv = childExecArgv();
    const child = spawn(process.execPath, [...execArgv, childScript, dir, mode, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | null = null;
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    // Whatever happens, the child does not outlive this bound.
    const guard = setTimeout(() => {
      kill();
      reject(new Error(`child not ready or not killed in time; stderr: ${stderr}`));
    }, 30_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      if (killTimer === null && stdout.startsWith('ready\n')) killTimer = setTimeout(kill, killAfterMs);
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (killTimer !== null) clearTimeout(killTimer);
      children.delete(child);
      resolve({ stdout, stderr, signal });
    });
  });
}

/** Runs `work(0..n-1)` with at most `width` at a time; stops starting new ones after `budgetMs` or a failure. */
async function pool(
  n: number,
  width: number,
  budgetMs: number,
  work: (i: number) => Promise<void>,
): Promise<number> {
  const started = Date.now();
  let next = 0;
  const outcome: { failed: Error | null } = { failed: null };
  const lane = async (): Promise<void> => {
    while (next < n && outcome.failed === null && Date.now() - started <= budgetMs) {
      const i = next++;
      try {
        await work(i);
      } catch (e) {
        outcome.failed ??= e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
  if (outcome.failed !== null) throw outcome.failed;
  return next;
}

void describe('crash: SIGKILL during appends', () => {
  for (const mode of DURABILITY_MODES) {
    void test(`${mode} mode: ${RUNS} runs`, { timeout: 60_000 + RUNS * 20_000 }, async (t: TestContext) => {
      const seed0 = BASE_SEED + (mode === 'fsync' ? 500_000 : 0);
      t.diagnostic(`seeds from ${seed0} (CRASH_SEED=${BASE_SEED})`);
      const config = crashConfig(mode);
      const done = await pool(RUNS, CONCURRENCY, TIME_BUDGET_MS, async (run) => {
        const seed = seed0 + run;
        const rng = seededRng(seed);
        const killAfterMs = 20 + Math.floor(rng.next() * 400);
        const dir = tmp.dir(`${mode}${run}-`);
        const child = await runChild(dir, mode, seed, killAfterMs);
        const label = `run ${run} seed ${seed} kill after ${killAfterMs} ms in ${dir}`;
        assert.equal(child.signal, 'SIGKILL', `${label}: the child was killed (stderr: ${child.stderr})`);
        assert.ok(
          !child.stdout.includes('\nfail'),
          `${label}: an append failed in the child: ${child.stdout}`,
        );
        const report = parseReport(child.stdout);
        if (mode === 'fsync') {
          for (const a of report.acks)
            assert.ok(
              a.recoveryPoint > a.lastOffset,
              `${label}: [${a.firstOffset}, ${a.lastOffset}] acknowledged before its fsync`,
            );
        }
        try {
          // A SIGKILL keeps the page cache: every acknowledged append survives, in both modes.
          const checked = await recoverAndCheck(nodeFileSystem, dir, config, report, () => true, rng);
          t.diagnostic(
            `${label}: ${report.acks.length} acks, flushed to ${report.flushedTo}, recovered ${checked.batches} batches to offset ${checked.logEndOffset}`,
          );
        } catch (e) {
          throw new Error(`${label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      });
      if (done < RUNS) t.diagnostic(`time budget spent after ${done} runs`);
    });
  }
});

// ------------------------------------------------------------------------- simulated power loss

/** A FileSystem whose calls fail once cut: the writer's process is gone, its promises must not touch the disk. */
function killable(inner: FileSystem): { fs: FileSystem; cut: () => void } {
  let dead = false;
  const gone = (): never => {
    throw Object.assign(new Error('EIO: the process is dead'), { code: 'EIO' });
  };
  const guard =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (dead) gone();
      const r = await f(...a);
      if (dead) gone();
      return r;
    };
  const wrapHandle = (h: FileHandle): FileHandle => ({
    path: h.path,
    writev: guard((c: readonly Buffer[], p: number) => h.writev(c, p)),
    ...(h.writeSync !== undefined && {
      writeSync: (c: readonly Buffer[], p: number): number => {
        if (dead) gone();
        return h.writeSync!(c, p);
      },
    }),
    read: guard((i: Buffer, o: number, l: number, p: number) => h.read(i, o, l, p)),
    sync: guard(() => h.sync()),
    truncate: guard((s: number) => h.truncate(s)),
    sizeBytes: guard(() => h.sizeBytes()),
    close: () => h.close(),
  });
  const fs: FileSystem = {
    open: guard(async (p: string, m: Parameters<FileSystem['open']>[1]) =>
      wrapHandle(await inner.open(p, m)),
    ),
    readFile: guard((p: string) => inner.readFile(p)),
    writeFileAtomic: guard((p: string, d: Buffer | string) => inner.writeFileAtomic(p, d)),
    rename: guard((a: string, b: string) => inner.rename(a, b)),
    unlink: guard((p: string) => inner.unlink(p)),
    mkdir: guard((p: string) => inner.mkdir(p)),
    rmdir: guard((p: string) => inner.rmdir(p)),
    readdir: guard((p: string) => inner.readdir(p)),
    stat: guard((p: string) => inner.stat(p)),
    syncDir: guard((p: string) => inner.syncDir(p)),
  };
  return { fs, cut: () => (dead = true) };
}

void describe('crash: simulated power loss (FaultyFileSystem crash model)', () => {
  void test('fsync mode: the file of a segment rolled while an earlier fsync runs is durable before an append in it is acknowledged', async () => {
    // An fsync of segment 2 is slow; meanwhile an append rolls segment 4, whose file is created
    // late. A flush that synced the folder before segment 4's file existed must not count as the
    // folder sync that makes segment 4 durable: the append in it needs its own.
    const batch = (key: string): Buffer => makeBatch({ records: 2, key });
    const size = batch('a0').length;
    const config = { ...crashConfig('fsync'), segmentBytes: size };
    const lost: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const dir = tmp.dir('rolled-');
      const faulty = new FaultyFileSystem({ crashMode: true, random: seed });
      const { log } = await openLog({ dir, fs: faulty, config });
      await log.appendAsLeader(batch('a0'), 0); // offsets 0-1 in segment 0
      faulty.inject({ op: 'sync', path: '00000000000000000002.log', fault: { kind: 'delay', ms: 50 } });
      faulty.inject({ op: 'open', path: '00000000000000000004.log', fault: { kind: 'delay', ms: 100 } });
      const first = log.appendAsLeader(batch('a1'), 0); // segment 2
      await new Promise((r) => setTimeout(r, 10));
      const second = log.appendAsLeader(batch('a2'), 0); // segment 4
      await Promise.all([first, second]);
      const flushed = log.recoveryPoint;
      assert.equal(flushed, 6);
      await faulty.simulateCrash(seed);
      const { log: recovered } = await openLog({
        dir,
        config,
        cleanShutdown: false,
        recoveryPoint: flushed,
      });
      if (recovered.logEndOffset < flushed) lost.push(`seed ${seed}: recovered to ${recovered.logEndOffset}`);
      await recovered.close();
    }
    assert.deepEqual(lost, [], 'acknowledged (fsynced) appends lost');
  });

  const models: CrashDataModel[] = ['prefix', 'independent'];
  for (const mode of DURABILITY_MODES) {
    for (const model of models) {
      void test(
        `${mode} mode, ${model} data loss: ${RUNS} runs`,
        { timeout: 60_000 + RUNS * 10_000 },
        async (t: TestContext) => {
          const seed0 =
            BASE_SEED + (mode === 'fsync' ? 700_000 : 600_000) + (model === 'independent' ? 50_000 : 0);
          t.diagnostic(`seed ${seed0} (CRASH_SEED=${BASE_SEED} replays)`);
          const config = crashConfig(mode);
          for (let run = 0; run < RUNS; run++) {
            const seed = seed0 + run;
            const rng = seededRng(seed);
            const dir = tmp.dir(`power-${mode}-${model}-${run}-`);
            const faulty = new FaultyFileSystem({ crashMode: true, random: seed, inner: withoutFsync() });
            const { fs, cut } = killable(faulty);
            const clock = new ManualClock();
            const { log } = await openLog({ dir, fs, config, clock, cleanShutdown: true });
            // The crash comes when the Nth append is acknowledged, with others in flight.
            const appendsBeforeCrash = 5 + Math.floor(rng.next() * 150);
            let out = '';
            let appends = 0;
            let crashing = false;
            let crashNow!: () => void;
            const crashPoint = new Promise<void>((r) => (crashNow = r));
            const workload = runWorkload({
              log,
              rng,
              mode,
              report: (line) => {
                if (crashing) return;
                out += line + '\n';
                if (line.startsWith('ack') && ++appends >= appendsBeforeCrash) crashNow();
              },
              stop: () => crashing,
              maxAppends: 1_000_000,
              nowMs: () => clock.nowMs(),
            });
            await Promise.race([crashPoint, workload]);
            // Power loss: the writer stops touching the disk, and the disk forgets what was not synced.
            crashing = true;
            const flushedAtCrash = log.recoveryPoint;
            cut();
            await faulty.simulateCrash(seededRng(seed ^ 0x5eed), { model });
            await workload; // its appends in flight fail against the dead file system
            const report = parseReport(out);
            const label = `run ${run} seed ${seed}: ${report.acks.length} acks, flushed to ${flushedAtCrash}`;
            assert.ok(
              !out.includes('\nfail') && !out.startsWith('fail'),
              `${label}: an append failed before the crash: ${out}`,
            );
            try {
              // Page-cache mode guarantees what was flushed; fsync mode every acknowledged append.
              const must =
                mode === 'fsync' ? () => true : (a: Report['acks'][number]) => a.lastOffset < flushedAtCrash;
              const checked = await recoverAndCheck(
                withoutFsync(),
                dir,
                config,
                { ...report, flushedTo: flushedAtCrash },
                must,
                rng,
              );
              if (run < 3 || checked.logEndOffset < (report.acks.at(-1)?.lastOffset ?? -1) + 1)
                t.diagnostic(`${label}: recovered to offset ${checked.logEndOffset}`);
            } catch (e) {
              throw new Error(`${label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
            }
          }
        },
      );
    }
  }
});
