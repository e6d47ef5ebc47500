/**
 * The simulator from the command line.
 *
 *   SEED=<n> npm run sim          replays schedule n, printing its whole trace
 *   SCHEDULES=<n> npm run sim     runs n schedules from BASE_SEED (default 1), printing schedules/min
 *
 * Options: VOTERS=3|5 and OBSERVERS=0|1 (default: each seed chooses), UNSAFE=1 (votes granted without the log
 * check: the checker must catch it), WIRE=0 (pass message objects instead of encoded bytes),
 * LIVENESS=0 (end each schedule at the liveness bound without failing, to look for safety bugs),
 * RAFT_NODE_MODULE=<path> (simulate the RaftNode exported by another module, e.g. a candidate fix).
 */
import { RaftNode as DefaultRaftNode } from '../../../src/raft/raft-node.js';
import { runSchedule, SimulationFailure, type SimOptions, type SimStats } from './simulation.js';

/** Schedules run when neither SEED nor SCHEDULES is given. */
const DEFAULT_SCHEDULES = 200;
/** Failures printed in full when running many; the others only by seed. */
const FAILURES_PRINTED_MAX = 3;

/** RAFT_NODE_MODULE=<path>: a module exporting RaftNode to simulate instead (a candidate fix, say). */
const modulePath = process.env['RAFT_NODE_MODULE'];
const RaftNode: typeof DefaultRaftNode =
  modulePath === undefined || modulePath === ''
    ? DefaultRaftNode
    : ((await import(modulePath)) as { RaftNode: typeof DefaultRaftNode }).RaftNode;

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name}=${v} is not an integer`);
  return n;
}

function baseOptions(seed: number): SimOptions {
  const voters = envInt('VOTERS');
  const observers = envInt('OBSERVERS');
  return {
    seed,
    createNode: (deps, nowMs) => new RaftNode(deps, nowMs),
    wire: process.env['WIRE'] !== '0',
    checkLiveness: process.env['LIVENESS'] !== '0',
    ...(voters !== undefined ? { voterCount: voters } : {}),
    ...(observers !== undefined ? { observerCount: observers } : {}),
    ...(process.env['UNSAFE'] === '1' ? { unsafe: { grantVoteWithoutLogCheck: true } } : {}),
  };
}

function replay(seed: number): number {
  try {
    const { stats } = runSchedule({ ...baseOptions(seed), liveTrace: (line) => console.log(line) });
    console.log(`seed ${seed}: all invariants held; ${summary(stats)}`);
    return 0;
  } catch (e) {
    if (!(e instanceof SimulationFailure)) throw e;
    console.log(`seed ${seed} FAILED: ${e.cause.message}`);
    return 1;
  }
}

function many(count: number, base: number): number {
  const failures: number[] = [];
  const totals = new Map<string, number>();
  const startedMs = performance.now();
  for (let i = 0; i < count; i++) {
    const seed = (base + i) >>> 0;
    try {
      const { stats } = runSchedule(baseOptions(seed));
      for (const [k, v] of Object.entries(stats))
        if (typeof v === 'number') totals.set(k, (totals.get(k) ?? 0) + v);
      for (const [k, v] of Object.entries(stats.messagesByType)) totals.set(k, (totals.get(k) ?? 0) + v);
    } catch (e) {
      if (!(e instanceof SimulationFailure)) throw e;
      failures.push(seed);
      if (failures.length <= FAILURES_PRINTED_MAX) console.log(`\n${e.message}\n`);
      else console.log(`seed ${seed} FAILED: ${e.cause.message}`);
    }
  }
  const elapsedMs = performance.now() - startedMs;
  const perMin = (count / elapsedMs) * 60_000;
  console.log(
    `${count} schedules from seed ${base} in ${(elapsedMs / 1000).toFixed(1)} s: ${perMin.toFixed(0)} schedules/min, ` +
      `${failures.length} failed${failures.length > 0 ? ` (seeds ${failures.join(' ')})` : ''}`,
  );
  const ok = count - failures.length;
  if (ok > 0) {
    const avg = (k: string): string => ((totals.get(k) ?? 0) / ok).toFixed(1);
    console.log(
      `per schedule: ${avg('events')} events, ${avg('messagesSent')} messages, ${avg('crashes')} crashes ` +
        `(${avg('crashesAtWrite')} at a write), ${avg('partitions')} partitions, ${avg('leaderEpochs')} leader epochs, ` +
        `${avg('entriesCommitted')} entries applied, ${avg('snapshotsTaken')} snapshots taken, ${avg('snapshotsLoaded')} loaded, ` +
        `${avg('FetchSnapshotRequest')} FetchSnapshot requests, ${avg('entriesTruncated')} entries truncated, ` +
        `recovery ${avg('recoveryMs')} ms after healing`,
    );
  }
  return failures.length === 0 ? 0 : 1;
}

function summary(s: SimStats): string {
  return (
    `${s.events} events, ${(s.simulatedMs / 1000).toFixed(1)} s simulated, ${s.messagesSent} messages, ${s.crashes} crashes, ` +
    `${s.leaderEpochs} leader epochs, ${s.entriesCommitted} entries applied, ${s.snapshotsTaken} snapshots taken, ` +
    `${s.snapshotsLoaded} loaded, recovery ${s.recoveryMs.toFixed(0)} ms after healing`
  );
}

const seed = envInt('SEED');
process.exitCode =
  seed !== undefined
    ? replay(seed)
    : many(envInt('SCHEDULES') ?? DEFAULT_SCHEDULES, envInt('BASE_SEED') ?? 1);
