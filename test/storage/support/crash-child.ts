/**
 * The process crash.test.ts kills: opens a partition log in the folder it is given and appends
 * to it until killed (see crash-workload.ts for what it reports on stdout).
 *
 *   node crash-child.js <dir> <pagecache|fsync> <seed>
 */
import { systemClock } from '../../../src/runtime/clock.js';
import { seededRng } from '../../../src/runtime/faulty-fs.js';
import { nodeFileSystem } from '../../../src/runtime/fs.js';
import { openPartitionLog } from '../../../src/storage/log-loader.js';
import { crashConfig, runWorkload, type DurabilityMode } from './crash-workload.js';

const [dir, modeArg, seedArg] = process.argv.slice(2);
if (dir === undefined || (modeArg !== 'pagecache' && modeArg !== 'fsync') || seedArg === undefined) {
  process.stderr.write('usage: crash-child <dir> <pagecache|fsync> <seed>\n');
  process.exit(2);
}
const mode: DurabilityMode = modeArg;

// Lines go out with synchronous writes, so a line on the pipe was written before the next append started.
function report(line: string): void {
  process.stdout.write(line + '\n');
}

const log = await openPartitionLog({
  fs: nodeFileSystem,
  clock: systemClock,
  dir,
  topicPartition: { topic: 'crash', partition: 0 },
  config: crashConfig(mode),
  recoveryPoint: 0,
  logStartOffset: 0,
  cleanShutdown: true,
  log: (m) => process.stderr.write(m + '\n'),
});
report('ready');
await runWorkload({
  log,
  rng: seededRng(Number(seedArg)),
  mode,
  report,
  stop: () => false,
  maxAppends: 20_000,
  nowMs: () => Date.now(),
});
report('done');
// Wait to be killed (the parent always kills; this bounds a child whose parent died).
setTimeout(() => process.exit(0), 60_000);
