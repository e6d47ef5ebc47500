/**
 * The deterministic simulator against RaftNode: thousands of seeded fault schedules with every
 * invariant holding, and a deliberately broken core caught, so that passing means something.
 *
 * SIM_SCHEDULES (default 2,000) schedules from SIM_BASE_SEED (default 1). A failure names its
 * seed; `SEED=<n> npm run sim` replays it with the whole trace.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftNode } from '../../src/raft/raft-node.js';
import { runSchedule, SimulationFailure, type SimOptions } from './sim/simulation.js';

const SCHEDULES = Number(process.env['SIM_SCHEDULES'] ?? 2000);
const BASE_SEED = Number(process.env['SIM_BASE_SEED'] ?? 1);
/** The broken variant must be caught within this many seeds. */
const UNSAFE_SEEDS_MAX = 200;
/** Failures shown in full in an assertion message (the others by seed). */
const FAILURES_SHOWN = 1;

function options(seed: number, extra: Partial<SimOptions> = {}): SimOptions {
  return { seed, createNode: (deps, nowMs) => new RaftNode(deps, nowMs), ...extra };
}

void describe('Raft simulation', () => {
  void test(`${SCHEDULES} seeded schedules from seed ${BASE_SEED}: every invariant holds, and liveness after healing`, () => {
    const failures: SimulationFailure[] = [];
    const startedMs = performance.now();
    for (let i = 0; i < SCHEDULES; i++) {
      try {
        runSchedule(options(BASE_SEED + i));
      } catch (e) {
        if (!(e instanceof SimulationFailure)) throw e;
        failures.push(e);
      }
    }
    const elapsedMs = performance.now() - startedMs;
    const perMin = (SCHEDULES / elapsedMs) * 60_000;
    console.log(
      `${SCHEDULES} schedules in ${(elapsedMs / 1000).toFixed(1)} s (${perMin.toFixed(0)} schedules/min)`,
    );
    assert.ok(
      failures.length === 0,
      `${failures.length} of ${SCHEDULES} schedules failed (seeds ${failures.map((f) => f.seed).join(' ')}):\n` +
        failures
          .slice(0, FAILURES_SHOWN)
          .map((f) => f.message)
          .join('\n\n'),
    );
  });

  void test('a core granting votes without the log check is caught within a bounded number of seeds', () => {
    let caught: SimulationFailure | null = null;
    let seed = BASE_SEED;
    for (; seed < BASE_SEED + UNSAFE_SEEDS_MAX && caught === null; seed++) {
      try {
        runSchedule(options(seed, { unsafe: { grantVoteWithoutLogCheck: true }, checkLiveness: false }));
      } catch (e) {
        if (!(e instanceof SimulationFailure)) throw e;
        caught = e;
      }
    }
    assert.ok(caught !== null, `no violation in ${UNSAFE_SEEDS_MAX} seeds with grantVoteWithoutLogCheck`);
    console.log(`caught at seed ${caught.seed} (${seed - BASE_SEED} seeds): ${caught.cause.message}`);
    assert.match(
      caught.cause.message,
      /\[(leader-complete|committed-stable|apply-order|one-leader-per-epoch)\]/,
      'a safety invariant caught it',
    );
    assert.match(
      caught.message,
      new RegExp(`SEED=${caught.seed} npm run sim`),
      'the failure says how to replay it',
    );
    assert.ok(caught.traceTail.length > 10, 'the failure carries the trace tail');
    assert.match(caught.traceTail[caught.traceTail.length - 1]!, /FAILED/);
  });

  void test('a seed replays exactly: the same trace, line for line, and the same figures', () => {
    const run = (): { lines: string[]; stats: unknown } => {
      const lines: string[] = [];
      const result = runSchedule(
        options(BASE_SEED + 7, { liveTrace: (line) => lines.push(line), checkLiveness: false }),
      );
      return { lines, stats: result.stats };
    };
    const a = run();
    const b = run();
    assert.ok(a.lines.length > 100, `a schedule traces its events (${a.lines.length} lines)`);
    assert.deepEqual(b.lines, a.lines);
    assert.deepEqual(b.stats, a.stats);
  });
});
