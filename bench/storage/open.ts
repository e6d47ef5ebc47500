/**
 * 4. Opening a cleanly shut down log of 1,000 segments: built with segment.bytes = 8 KiB and
 *    1 KiB batches (fsyncs skipped while building: the files are the same), closed, then opened with `cleanShutdown: true` again and again (each open
 *    timed, each close not), beside the floor of what an open must learn: a readdir of the
 *    folder and a stat of every `.log` file (concurrently, as the loader does). Target: ≤ 300 ms.
 */
import * as fs from 'node:fs';
import { nodeFileSystem } from '../../src/runtime/fs.js';
import {
  appendMany,
  batchPool,
  countingFileSystem,
  FsCounters,
  interleave,
  KiB,
  logConfig,
  median,
  noSyncFileSystem,
  openLog,
  ratioText,
  spread,
  timed,
  verdict,
} from './support.js';

const SEGMENTS = 1000;

export async function benchOpen(root: string): Promise<void> {
  const batchBytes = KiB;
  const segmentBytes = 8 * KiB;
  const config = logConfig({ 'segment.bytes': String(segmentBytes) });
  const { pool } = batchPool(batchBytes, 64);
  fs.mkdirSync(`${root}/open`);
  const dir = `${root}/open/bench-0`;
  // Built without fsyncs (1,000 roll flushes would take seconds): the files are the same.
  const built = await openLog(dir, config, {
    fs: noSyncFileSystem(nodeFileSystem, { discardWrites: false }),
  });
  const buildS = await timed(async () => {
    await appendMany(built, pool, SEGMENTS * (segmentBytes / batchBytes), 16);
    await built.close();
  });
  const segments = built.segments.length;
  const endOffset = built.logEndOffset;

  const openRound = async (): Promise<number> => {
    const start = process.hrtime.bigint();
    const log = await openLog(dir, config, { cleanShutdown: true, recoveryPoint: endOffset });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (log.segments.length !== segments || log.logEndOffset !== endOffset)
      throw new Error(`reopened ${log.segments.length} segments ending at ${log.logEndOffset}`);
    await log.close();
    return ms;
  };
  const floorRound = async (): Promise<number> => {
    const s = await timed(async () => {
      const names = await fs.promises.readdir(dir);
      await Promise.all(names.filter((n) => n.endsWith('.log')).map((n) => fs.promises.stat(`${dir}/${n}`)));
    });
    return s * 1000;
  };
  const [openMs, floorMs] = (await interleave([openRound, floorRound], {
    warmup: 1,
    minRounds: 5,
    maxRounds: 20,
    maxMs: 3000,
  })) as [number[], number[]];

  // A counted pass: the file operations one open makes.
  const counters = new FsCounters();
  const counted = await openLog(dir, config, {
    cleanShutdown: true,
    recoveryPoint: endOffset,
    fs: countingFileSystem(nodeFileSystem, counters),
  });
  const ops = [...counters.calls].filter(([op]) => !op.includes(':')).map(([op, n]) => `${op} ${n}`);
  await counted.close();

  const o = median(openMs);
  const f = median(floorMs);
  console.log(
    `\n4. open after a clean shutdown, ${segments} segments (segment.bytes 8 KiB, 1 KiB batches; built without fsyncs and closed in ${buildS.toFixed(1)} s), ${openMs.length} interleaved rounds, warm dentry/inode cache`,
  );
  console.log(
    `   baseline  readdir + stat of every .log           ${f.toFixed(1).padStart(6)} ms ${spread(floorMs, 1)}`,
  );
  console.log(
    `   log       openPartitionLog({cleanShutdown: true}) ${o.toFixed(1).padStart(6)} ms ${spread(openMs, 1)}   time ${ratioText(openMs, floorMs)} of the floor's  target <= 300 ms: ${verdict(o <= 300)}`,
  );
  console.log(`   counted pass, file operations of one open: ${ops.join(', ')}`);
}
