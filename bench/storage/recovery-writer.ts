/**
 * Child process of the recovery benchmark (recovery.ts spawns it): appends `bytes` of
 * `batchBytes` batches (16 KiB unless given) to a new log in `dir` with Kafka's default
 * durability (nothing fsynced but rolled segments), prints
 * `ready <logEndOffset> <sizeBytes> <recoveryPoint> <appendSeconds>` and waits to be killed.
 * It exits by itself when its stdin closes (the parent died).
 *
 *   node recovery-writer.js <dir> <bytes> [batchBytes]
 */
import { appendMany, batchPool, KiB, logConfig, openLog, timed } from './support.js';

const [dir, bytesArg, batchArg] = process.argv.slice(2);
const bytes = Number(bytesArg);
const batchBytes = Number(batchArg ?? 16 * KiB);
// Should the parent die first, its end of stdin closes: leave then (and after five minutes in
// any case), so no writer outlives a run.
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), 300_000).unref();
if (dir === undefined || !Number.isSafeInteger(bytes) || bytes <= 0 || !Number.isSafeInteger(batchBytes)) {
  console.error('usage: recovery-writer <dir> <bytes> [batchBytes]');
  process.exit(2);
}
const { pool } = batchPool(batchBytes, 64);
const log = await openLog(dir, logConfig());
const s = await timed(() => appendMany(log, pool, Math.max(1, Math.floor(bytes / batchBytes)), 16));
process.stdout.write(`ready ${log.logEndOffset} ${log.sizeBytes} ${log.recoveryPoint} ${s.toFixed(3)}\n`);
// Wait for SIGKILL: the log is never closed or flushed.
