/**
 * Storage benchmarks (`npx tsx bench/storage/main.ts`, or `node dist/bench/storage/main.js`
 * after `npm run build`). Each figure is printed beside a baseline measured in the same run,
 * interleaved round by round, and the ratio between them: this machine's speed drifts, ratios
 * hold. Every section is bounded in rounds and in time; everything is written under a temporary
 * folder in os.tmpdir(), removed at the end.
 *
 *   1. append throughput, page cache, 16 KiB batches, vs raw fs.write        target ≥ 0.9x
 *      (and, for information, vs validateBatch + raw fs.write: the CRC floor)
 *   2. append with fsync per append (flush.messages=1), 8 and 32 in flight,
 *      vs a writev + fdatasync group-commit loop                             target ≥ 0.85x
 *   3. sequential read(offset, 1 MiB) of a 256 MiB log from the page cache   target ≥ 2 GB/s
 *   4. open of a cleanly shut down log of 1,000 segments                     target ≤ 300 ms
 *   5. recovery of an unflushed tail (BENCH_RECOVERY_BYTES, default 1 GiB)
 *      after SIGKILL of the writer                                           target ≤ 3 s
 *
 * BENCH_STORAGE_ONLY=1,3 runs only the listed sections; BENCH_RECOVERY_BATCH_BYTES sets the
 * batch size of section 5 (default 16 KiB).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchAppendFsync, benchAppendPageCache } from './append.js';
import { benchOpen } from './open.js';
import { benchRead } from './read.js';
import { benchRecovery } from './recovery.js';
import { GiB, KiB, MiB } from './support.js';

const recoveryBytes = Number(process.env['BENCH_RECOVERY_BYTES'] ?? GiB);
if (!Number.isSafeInteger(recoveryBytes) || recoveryBytes <= 0)
  throw new Error(
    `BENCH_RECOVERY_BYTES must be a positive integer, not ${process.env['BENCH_RECOVERY_BYTES']}`,
  );
const recoveryBatchBytes = Number(process.env['BENCH_RECOVERY_BATCH_BYTES'] ?? 16 * KiB);
if (!Number.isSafeInteger(recoveryBatchBytes) || recoveryBatchBytes < 100 || recoveryBatchBytes > MiB)
  throw new Error(`BENCH_RECOVERY_BATCH_BYTES must be an integer in [100, 1 MiB]`);
const only = new Set((process.env['BENCH_STORAGE_ONLY'] ?? '1,2,3,4,5').split(',').map((s) => s.trim()));

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-storage-'));
const started = Date.now();
console.log(`storage benchmarks — node ${process.version}, ${os.cpus().length} CPUs, files under ${root}`);
try {
  if (only.has('1')) await benchAppendPageCache(root);
  if (only.has('2')) await benchAppendFsync(root);
  if (only.has('3')) await benchRead(root);
  if (only.has('4')) await benchOpen(root);
  if (only.has('5')) await benchRecovery(root, recoveryBytes, recoveryBatchBytes);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`);
