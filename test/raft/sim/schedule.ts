/**
 * What a seed decides about a schedule before it starts: the cluster's shape, the Raft
 * configuration, how hostile the network is, how often faults strike. Drawn from their own
 * stream, so the events that follow do not change these.
 */
import type { RaftConfig } from '../../../src/raft/types.js';
import type { NetworkFaults } from './network.js';
import { Rng, streamSeed } from './rng.js';

/** Streams of one schedule's randomness. */
export const STREAM = { params: 1, network: 2, faults: 3, client: 4, node: 100 } as const;

export interface ScheduleParams {
  readonly voterCount: number;
  readonly observerCount: number;
  readonly config: RaftConfig;
  /** Faults strike until this time; then the network heals and every node comes back. */
  readonly healAtMs: number;
  /** After healing, a new entry must commit on every node within this long. */
  readonly livenessBoundMs: number;
  readonly network: NetworkFaults;
  /** Mean time between faults (crashes, partitions, resignations, network changes). */
  readonly faultMeanIntervalMs: number;
  /** Probability that a durable write (flush, quorum state, snapshot) is where the process dies. */
  readonly crashAtWriteProbability: number;
  readonly proposalCount: number;
  /** Mean time between snapshot requests to a random node's state machine. */
  readonly snapshotMeanIntervalMs: number;
  /** Per node: clock rate error and origin. */
  readonly clocks: readonly { readonly skew: number; readonly offsetMs: number }[];
}

/** Clock rate error at most (1%). */
export const CLOCK_SKEW_MAX = 0.01;
export const ELECTION_TIMEOUT_MS = 1000;
/** Simulated time with faults, per schedule. */
export const FAULT_PHASE_MS = 20_000;
/** One-entry fetches only on networks at most this slow (one way). */
const ONE_ENTRY_FETCH_DELAY_MAX_MS = 30;
/** Liveness bound, in election timeouts. */
export const LIVENESS_BOUND_ELECTION_TIMEOUTS = 10;

export interface ParamOverrides {
  voterCount?: number;
  observerCount?: number;
  unsafe?: RaftConfig['unsafe'];
}

export function scheduleParams(seed: number, overrides: ParamOverrides = {}): ScheduleParams {
  const rng = new Rng(streamSeed(seed, STREAM.params));
  const voterCount = overrides.voterCount ?? (rng.chance(0.5) ? 3 : 5);
  const observerCount = overrides.observerCount ?? (rng.chance(0.25) ? 1 : 0);
  const calm = rng.chance(0.15);
  const delayMinMs = rng.range(0.5, 5);
  const network: NetworkFaults = calm
    ? { dropProbability: 0, duplicateProbability: 0, delayMinMs, delayMaxMs: delayMinMs + 5 }
    : {
        dropProbability: rng.pick([0, 0.01, 0.05, 0.15]),
        duplicateProbability: rng.pick([0, 0.01, 0.05]),
        delayMinMs,
        delayMaxMs: delayMinMs + rng.pick([2, 20, 100]),
      };
  // One entry per fetch makes a follower hold an old entry without the new leader's first one
  // (the raw material of Raft's "figure 8"); on a slow network it would also make catching up
  // outlast the liveness bound, so only where round trips are short.
  const fetchMaxEntries = rng.pick([1, 2, 10, 1000]);
  const config: RaftConfig = {
    electionTimeoutMs: ELECTION_TIMEOUT_MS,
    fetchTimeoutMs: 2 * ELECTION_TIMEOUT_MS,
    electionBackoffMaxMs: ELECTION_TIMEOUT_MS,
    fetchMaxWaitMs: rng.pick([50, 200, 500]),
    requestTimeoutMs: 500,
    appendLingerMs: rng.chance(0.5) ? 0 : rng.pick([1, 5, 20]),
    // Small fetches and chunks, so that catching up and snapshot transfers take several rounds.
    fetchMaxEntries:
      fetchMaxEntries === 1 && network.delayMaxMs > ONE_ENTRY_FETCH_DELAY_MAX_MS ? 2 : fetchMaxEntries,
    fetchMaxBytes: rng.pick([256, 4096, 1 << 20]),
    snapshotChunkBytes: rng.pick([16, 100, 4096]),
    ...(overrides.unsafe !== undefined ? { unsafe: overrides.unsafe } : {}),
  };
  const n = voterCount + observerCount;
  const clocks = [];
  for (let i = 0; i < n; i++) {
    clocks.push({ skew: rng.range(-CLOCK_SKEW_MAX, CLOCK_SKEW_MAX), offsetMs: rng.range(0, 1e9) });
  }
  return {
    voterCount,
    observerCount,
    config,
    healAtMs: FAULT_PHASE_MS,
    livenessBoundMs: LIVENESS_BOUND_ELECTION_TIMEOUTS * ELECTION_TIMEOUT_MS,
    network,
    faultMeanIntervalMs: calm ? 1e12 : rng.pick([300, 700, 1500, 3000]),
    crashAtWriteProbability: calm ? 0 : rng.pick([0, 0, 0.002, 0.01]),
    proposalCount: 10 + rng.int(31),
    snapshotMeanIntervalMs: rng.pick([1000, 3000, 8000]),
    clocks,
  };
}
