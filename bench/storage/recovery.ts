/**
 * 5. Recovery of an unflushed tail after a kill: a child process appends BENCH_RECOVERY_BYTES
 *    (default 1 GiB) of 16 KiB batches with Kafka's default durability (page cache, no fsync;
 *    with the default 1 GiB segment.bytes nothing is rolled, so nothing is fsynced) and is
 *    SIGKILLed. BENCH_RECOVERY_BATCH_BYTES changes the batch size: 16 KiB batches tile the
 *    loader's 1 MiB scan chunks exactly, other sizes straddle the chunk boundaries. The parent then times `openPartitionLog({cleanShutdown: false, recoveryPoint: 0})`,
 *    which scans and CRC-validates every batch, rebuilds the indexes and fsyncs what it
 *    recovered. Target: ≤ 3 s.
 *
 *    The first open runs right after the kill, with the tail still dirty in the page cache, so
 *    its fsync writes the tail back: that is the headline. Later opens of the same folder (again
 *    unclean, the data now written back) are interleaved with the floor of a scan: a sequential
 *    read of the segment files in 1 MiB chunks, each into a new buffer, with a CRC32C of every
 *    chunk. Every open goes through a counting FileSystem that splits its time into reads,
 *    fsyncs and the rest (CPU: batch parsing, CRC, index building).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32c } from '../../src/protocol/records/crc32c.js';
import { nodeFileSystem } from '../../src/runtime/fs.js';
import {
  countingFileSystem,
  FsCounters,
  fsRead,
  GiB,
  interleave,
  logConfig,
  median,
  MiB,
  openLog,
  ratioText,
  spread,
  timed,
  verdict,
} from './support.js';

/** The parent's node flags (tsx's loader when run under tsx), without profiling flags. */
function childExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^--(cpu-prof|heap-prof|prof)/.test(a)) {
      if (!a.includes('=') && /-(dir|name|interval)$/.test(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

interface WriterResult {
  logEndOffset: number;
  sizeBytes: number;
  recoveryPoint: number;
  appendSeconds: number;
}

/** Runs the writer child until it reports `ready`, then SIGKILLs it and waits for it to die. */
function writeAndKill(
  dir: string,
  bytes: number,
  batchBytes: number,
  timeoutMs: number,
): Promise<WriterResult> {
  const script = fileURLToPath(
    new URL(
      import.meta.url.endsWith('.ts') ? './recovery-writer.ts' : './recovery-writer.js',
      import.meta.url,
    ),
  );
  const child = spawn(
    process.execPath,
    [...childExecArgv(), script, dir, String(bytes), String(batchBytes)],
    {
      // The child's stdin closes when this process dies, however it dies: the child then exits.
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let result: WriterResult | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /^ready (\d+) (\d+) (\d+) ([\d.]+)\n/.exec(out);
      if (m === null || result !== null) return;
      result = {
        logEndOffset: Number(m[1]),
        sizeBytes: Number(m[2]),
        recoveryPoint: Number(m[3]),
        appendSeconds: Number(m[4]),
      };
      child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== null && signal === 'SIGKILL') resolve(result);
      else reject(new Error(`the writer exited (code ${code}, signal ${signal}) before it was killed`));
    });
  });
}

/** Reads every `.log` file in `dir` in 1 MiB chunks (each a new buffer) and CRCs each chunk. */
async function readAndCrc(dir: string): Promise<number> {
  let bytes = 0;
  let sink = 0;
  for (const name of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()) {
    const fd = fs.openSync(`${dir}/${name}`, 'r');
    try {
      for (let position = 0; ;) {
        const buf = Buffer.allocUnsafe(MiB);
        const n = await fsRead(fd, buf, 0, MiB, position);
        if (n === 0) break;
        sink ^= crc32c(buf.subarray(0, n));
        position += n;
        bytes += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return sink === 0.5 ? -1 : bytes;
}

export async function benchRecovery(root: string, bytes: number, batchBytes: number): Promise<void> {
  fs.mkdirSync(`${root}/recovery`);
  const dir = `${root}/recovery/bench-0`;
  const written = await writeAndKill(dir, bytes, batchBytes, 120_000);
  const config = logConfig();

  const counters = new FsCounters();
  const countingFs = countingFileSystem(nodeFileSystem, counters);
  /** Per recovery round: its seconds and where they went. */
  const breakdowns: { s: number; text: string }[] = [];
  const lines: string[] = [];
  const recoverRound = async (): Promise<number> => {
    counters.reset();
    let end = -1;
    const s = await timed(async () => {
      const log = await openLog(dir, config, {
        cleanShutdown: false,
        recoveryPoint: 0,
        fs: countingFs,
        log: (m) => lines.push(m),
      });
      end = log.logEndOffset;
      await log.close();
    });
    if (end !== written.logEndOffset)
      throw new Error(`recovered to ${end}, expected ${written.logEndOffset}`);
    const readMs = counters.ms('read');
    const syncMs = counters.ms('sync') + counters.ms('syncDir') + counters.ms('writeFileAtomic');
    breakdowns.push({
      s,
      text:
        `reads ${readMs.toFixed(0)} ms (${counters.count('read')}), fsyncs ${syncMs.toFixed(0)} ms ` +
        `(.log ${counters.ms('sync:log').toFixed(0)} ms), rest (CPU: parse, CRC, indexes) ${(s * 1000 - readMs - syncMs).toFixed(0)} ms`,
    });
    return s;
  };
  // Opens are timed with close() included: close only closes files here (nothing to flush).
  const afterKillS = await recoverRound();
  const afterKillLine = lines.find((l) => l.includes('recovered after')) ?? '(no recovery line logged)';
  let floorBytes = 0;
  const floorRound = async (): Promise<number> => timed(async () => (floorBytes = await readAndCrc(dir)));
  const [againS, floorS] = (await interleave([recoverRound, floorRound], {
    warmup: 0,
    minRounds: 2,
    maxRounds: 4,
    maxMs: 4000,
  })) as [number[], number[]];

  const again = median(againS);
  const floor = median(floorS);
  const gb = (s: number): string => (written.sizeBytes / GiB / s).toFixed(2);
  console.log(
    `\n5. recovery after SIGKILL, ${(written.sizeBytes / MiB).toFixed(0)} MiB unflushed in ${batchBytes} B batches (BENCH_RECOVERY_BYTES=${bytes}, BENCH_RECOVERY_BATCH_BYTES=${batchBytes}); child appended it in ${written.appendSeconds.toFixed(1)} s, page cache, recovery point ${written.recoveryPoint} when killed)`,
  );
  console.log(
    `   HEADLINE  first open after the kill (tail dirty in page cache) ${afterKillS.toFixed(2)} s  (${gb(afterKillS)} GiB/s)  target <= 3 s: ${verdict(afterKillS <= 3)}`,
  );
  console.log(`             ${breakdowns[0]!.text}`);
  console.log(`             loader: ${afterKillLine}`);
  console.log(
    `   baseline  read 1 MiB chunks + CRC32C of the files              ${floor.toFixed(2)} s  (${gb(floor)} GiB/s) ${spread(floorS, 2)}`,
  );
  console.log(
    `   log       unclean open again (tail written back), ${againS.length} rounds  ${again.toFixed(2)} s  (${gb(again)} GiB/s) ${spread(againS, 2)}   time ${ratioText(againS, floorS)} of the floor's`,
  );
  console.log(`             median round: ${breakdowns.find((b) => b.s === again)!.text}`);
  if (floorBytes !== written.sizeBytes)
    throw new Error(`the floor read ${floorBytes} of ${written.sizeBytes} bytes`);
}
