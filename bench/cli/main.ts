/**
 * CLI start-up benchmark (`node dist/bench/cli/main.js` after `npm run build`, or
 * `npx tsx bench/cli/main.ts`): how long `samsa topics --list` takes as a user runs it — a new
 * Node process running bin/samsa.js (the compiled CLI) against a local broker — beside the floor
 * of any Node command, `node -e ""`, spawned the same way in the same run. `samsa topics --help`
 * (no broker) separates loading the CLI from talking to the broker.
 *
 *   samsa topics --list, median of 10 runs                                  target ≤ 300 ms
 *
 * Runs are interleaved command by command, so drift in machine speed affects all alike; the
 * median and p90 of each are printed with the ratio to the baseline's median.
 *
 * Environment: BENCH_CLI_RUNS (10) runs per command; BENCH_CLI_BIN (bin/samsa.js) the command to
 * time, e.g. a build elsewhere.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startBroker } from '../../src/broker/embed.js';

const MAX_RUNS = 100;
const runs = Math.min(MAX_RUNS, Math.max(1, Number(process.env['BENCH_CLI_RUNS'] ?? 10)));
const here = fileURLToPath(new URL('.', import.meta.url));
// From bench/cli (tsx) or dist/bench/cli (compiled), the repository root is where bin/ is.
const root = [resolve(here, '../..'), resolve(here, '../../..')].find((d) =>
  existsSync(join(d, 'bin', 'samsa.js')),
);
const bin = process.env['BENCH_CLI_BIN'] ?? (root === undefined ? '' : join(root, 'bin', 'samsa.js'));
if (bin === '' || !existsSync(bin)) {
  console.error('bin/samsa.js not found: run from the repository (or set BENCH_CLI_BIN)');
  process.exit(1);
}
const compiled = join(bin, '..', '..', 'dist', 'src', 'cli', 'tools', 'topics.js');
if (process.env['BENCH_CLI_BIN'] === undefined && !existsSync(compiled)) {
  console.error('bin/samsa.js runs the compiled CLI: run `npm run build` first');
  process.exit(1);
}

/**
 * Wall time of one child process, in ms; the command must succeed. Asynchronous: the broker runs
 * in this process and must keep answering while the child runs.
 */
function timeRun(args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code === 0) done(ms);
      else fail(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

const dataDir = mkdtempSync(join(tmpdir(), 'samsa-bench-cli-'));
const broker = await startBroker({ port: 0, dataDir, config: { 'num.partitions': '1' } });
try {
  const commands: { name: string; args: string[] }[] = [
    { name: 'node -e ""  (baseline)', args: ['-e', ''] },
    { name: 'samsa topics --help', args: [bin, 'topics', '--help'] },
    { name: 'samsa topics --list', args: [bin, 'topics', '--bootstrap-server', broker.bootstrap, '--list'] },
  ];
  // Something to list, and one warm-up run of each (file system caches).
  await timeRun([
    bin,
    'topics',
    '--bootstrap-server',
    broker.bootstrap,
    '--create',
    '--topic',
    'bench',
    '--partitions',
    '3',
  ]);
  for (const c of commands) await timeRun(c.args);
  const times = commands.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < commands.length; j++) times[j]!.push(await timeRun(commands[j]!.args));
  }

  console.log(`CLI start-up — node ${process.version}, ${runs} runs each, ${bin}`);
  const baseline = quantile(times[0]!, 0.5);
  commands.forEach((c, j) => {
    const median = quantile(times[j]!, 0.5);
    const p90 = quantile(times[j]!, 0.9);
    console.log(
      `  ${c.name.padEnd(26)} median ${median.toFixed(0).padStart(4)} ms  p90 ${p90.toFixed(0).padStart(4)} ms` +
        `  ${(median / baseline).toFixed(1)}x baseline  (+${(median - baseline).toFixed(0)} ms)`,
    );
  });
  console.log('  target: samsa topics --list median ≤ 300 ms');
} finally {
  await broker.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
