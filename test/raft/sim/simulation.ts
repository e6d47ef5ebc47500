/**
 * The deterministic Raft simulator: N RaftNodes on one global clock (each seeing it through a
 * skewed clock of its own), a seeded network that loses, delays, duplicates and reorders
 * messages and can be partitioned, crashes that lose what was not flushed (at random times,
 * and at random durable writes), restarts on the same log and quorum-state store, client
 * proposals to whichever node leads, and snapshots of the state machines. Every invariant of
 * invariants.ts is checked after every event. After the fault phase the network heals and
 * every node comes back: a new entry must then commit on every node within a bound.
 *
 * A schedule is a pure function of its seed (and the code): `runSchedule({ seed })` throws a
 * SimulationFailure naming the seed and the trace tail, and the same seed replays it.
 */
import { PRE_VOTE_TAG } from '../../../src/raft/raft-node.js';
import { MemoryQuorumStateStore } from '../../../src/raft/memory-quorum-state.js';
import type {
  LogEntry,
  OffsetAndEpoch,
  QuorumState,
  QuorumStateStore,
  RaftConfig,
  RaftDeps,
  RaftListener,
  RaftMessage,
  RaftRole,
} from '../../../src/raft/types.js';
import { SkewedClock } from './clock.js';
import { EventQueue } from './event-queue.js';
import { InvariantChecker, InvariantViolation } from './invariants.js';
import { decodeWire, describeMessage, encodeWire, type WireMessage } from './messages.js';
import { Network } from './network.js';
import { Rng, streamSeed } from './rng.js';
import { SimLog, SimulatedCrash, type SimLogHooks } from './sim-log.js';
import { scheduleParams, STREAM, type ParamOverrides, type ScheduleParams } from './schedule.js';
import { encodeSnapshot } from './state-machine.js';
import { Trace } from './trace.js';

/** The part of RaftNode the simulator drives. */
export interface SimNode {
  readonly role: RaftRole;
  readonly epoch: number;
  readonly leaderId: number;
  readonly highWatermark: number;
  poll(nowMs: number): void;
  receive(from: number, message: RaftMessage, nowMs: number): void;
  propose(data: readonly Buffer[], nowMs: number): OffsetAndEpoch | null;
  resign(nowMs: number): void;
  nextPollMs(): number;
  takeSnapshot(endOffset: number, data: Buffer): void;
}

export type NodeFactory = (deps: RaftDeps, nowMs: number) => SimNode;

export interface SimOptions extends ParamOverrides {
  readonly seed: number;
  readonly createNode: NodeFactory;
  /** Encode and decode every message with the generated codecs (default true). */
  readonly wire?: boolean;
  /** Write every trace line (and the nodes' log lines) here as it happens. */
  readonly liveTrace?: (line: string) => void;
  /** Trace lines kept for a failure report. */
  readonly traceTailLines?: number;
  /**
   * Fail when no entry commits everywhere within the bound after healing (default true). Off,
   * a schedule ends at the bound without failing: to look for safety bugs past a liveness one.
   */
  readonly checkLiveness?: boolean;
}

export interface SimStats {
  events: number;
  simulatedMs: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesByType: Record<string, number>;
  crashes: number;
  crashesAtWrite: number;
  partitions: number;
  resignations: number;
  proposalsAccepted: number;
  entriesCommitted: number;
  snapshotsTaken: number;
  snapshotsLoaded: number;
  entriesTruncated: number;
  leaderEpochs: number;
  /** Time from healing to the liveness entry committing everywhere. */
  recoveryMs: number;
}

export interface SimResult {
  readonly seed: number;
  readonly params: ScheduleParams;
  readonly stats: SimStats;
}

interface MutableView {
  role: RaftRole;
  epoch: number;
  leaderId: number;
  highWatermark: number;
}

function describeView(v: MutableView & { startOffset: number; endOffset: number }): string {
  return `${v.role} e${v.epoch} leader ${v.leaderId} hw ${v.highWatermark} log ${v.startOffset}..${v.endOffset}`;
}

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    override readonly cause: Error,
    readonly traceTail: readonly string[],
  ) {
    super(
      `simulation seed ${seed} failed: ${cause.message}\n` +
        `replay: SEED=${seed} npm run sim\n--- trace tail ---\n${traceTail.join('\n')}`,
    );
    this.name = 'SimulationFailure';
  }
}

/** Polls at least this often, whatever nextPollMs says (a missed timer shows as a liveness failure). */
const POLL_CAP_MS = 1000;
/** A node asking to be polled again at once more often than this in a row is stuck. */
const IMMEDIATE_POLLS_MAX = 1000;
/** A spinning node (see IMMEDIATE_POLLS_MAX) is polled this much later when liveness is not checked. */
const SPIN_THROTTLE_MS = 10;
/** Events per schedule at most: a runaway schedule fails rather than run on. */
const EVENTS_MAX = 500_000;
/** A proposal finding no leader tries again, this many times at most. */
const PROPOSAL_ATTEMPTS_MAX = 20;
/** How often, after healing, the liveness probe looks for a leader to propose to. */
const PROBE_INTERVAL_MS = 50;
const TRACE_TAIL_LINES = 120;
/** Crash downtimes: usually short, sometimes long enough for the leader's log start to move past. */
const DOWNTIME_SHORT_MS: readonly [number, number] = [50, 2000];
const DOWNTIME_LONG_MS: readonly [number, number] = [3000, 9000];
/** Share of crash faults aimed at a leader (the others strike any node). */
const LEADER_CRASH_SHARE = 0.5;
const PARTITION_MS: readonly [number, number] = [300, 5000];
/** Snapshot padding at most, in chunks, so transfers take a few. */
const SNAPSHOT_PAD_CHUNKS_MAX = 4;
const LIVENESS_MARKER = 'live';
/** Unanswered vote requests remembered per node at most (duplicates and lost answers leave some). */
const VOTE_REQUESTS_REMEMBERED_MAX = 1000;

type SimEvent =
  | { k: 'deliver'; from: number; to: number; toLife: number; msg: WireMessage | RaftMessage }
  | { k: 'poll'; node: number; gen: number }
  | { k: 'propose'; id: number; attempt: number }
  | { k: 'fault' }
  | { k: 'heal-net' }
  | { k: 'restart'; node: number }
  | { k: 'snapshot' }
  | { k: 'heal-all' }
  | { k: 'probe' };

/** One process lifetime of a node. */
interface Life {
  readonly lifetime: number;
  dead: boolean;
}

interface Slot {
  readonly id: number;
  readonly clock: SkewedClock;
  readonly log: SimLog;
  readonly store: MemoryQuorumStateStore;
  node: SimNode | null;
  life: Life;
  pollGen: number;
  pollAtMs: number;
  immediatePolls: number;
  /** Vote requests this lifetime received, by "from#correlationId", until answered. */
  readonly voteRequests: Map<string, { candidateEpoch: number; preVote: boolean }>;
  lastPollMs: number;
  /** The node's state after the latest event (reused: one object per slot). */
  readonly view: MutableView;
  /** The state last traced. */
  readonly lastView: MutableView & { startOffset: number; endOffset: number };
}

export function runSchedule(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

export class Simulation implements SimLogHooks {
  readonly params: ScheduleParams;
  private readonly seed: number;
  private readonly options: SimOptions;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly network: Network;
  private readonly faultRng: Rng;
  private readonly clientRng: Rng;
  private readonly checker = new InvariantChecker();
  private readonly trace: Trace;
  private readonly slots: Slot[] = [];
  private readonly voters: number[] = [];
  private readonly wire: boolean;
  private nowMs = 0;
  private crashAtWriteProbability: number;
  private healed = false;
  private livenessMet = false;
  /** The first violation seen inside a core call (kept even if the core swallowed the exception). */
  private violation: Error | null = null;
  private markerAttempts = 0;
  /** Where the first liveness marker committed: every state machine must get past it. */
  private markerOffset = -1;
  private markerEpoch = -1;
  private readonly leaderEpochs = new Set<number>();
  readonly stats: SimStats = {
    events: 0,
    simulatedMs: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    messagesByType: {},
    crashes: 0,
    crashesAtWrite: 0,
    partitions: 0,
    resignations: 0,
    proposalsAccepted: 0,
    entriesCommitted: 0,
    snapshotsTaken: 0,
    snapshotsLoaded: 0,
    entriesTruncated: 0,
    leaderEpochs: 0,
    recoveryMs: -1,
  };

  constructor(options: SimOptions) {
    this.options = options;
    this.seed = options.seed >>> 0;
    this.params = scheduleParams(this.seed, options);
    this.wire = options.wire ?? true;
    this.trace = new Trace(options.traceTailLines ?? TRACE_TAIL_LINES, options.liveTrace);
    const n = this.params.voterCount + this.params.observerCount;
    this.network = new Network(n, new Rng(streamSeed(this.seed, STREAM.network)), this.params.network);
    this.faultRng = new Rng(streamSeed(this.seed, STREAM.faults));
    this.clientRng = new Rng(streamSeed(this.seed, STREAM.client));
    this.crashAtWriteProbability = this.params.crashAtWriteProbability;
    for (let id = 0; id < this.params.voterCount; id++) this.voters.push(id);
    for (let id = 0; id < n; id++) {
      const c = this.params.clocks[id]!;
      this.slots.push({
        id,
        clock: new SkewedClock(c.skew, c.offsetMs),
        log: new SimLog(this, id),
        store: new MemoryQuorumStateStore(),
        node: null,
        life: { lifetime: -1, dead: true },
        pollGen: 0,
        pollAtMs: -1,
        immediatePolls: 0,
        voteRequests: new Map(),
        lastPollMs: -1,
        view: { role: 'unattached', epoch: -1, leaderId: -1, highWatermark: -1 },
        lastView: {
          role: 'unattached',
          epoch: -1,
          leaderId: -1,
          highWatermark: -1,
          startOffset: -1,
          endOffset: -1,
        },
      });
    }
  }

  run(): SimResult {
    try {
      this.trace.add(0, () => this.describeParams());
      for (const s of this.slots) this.start(s);
      this.checkAll();
      const p = this.params;
      for (let i = 0; i < p.proposalCount; i++) {
        this.queue.push(this.clientRng.range(0, p.healAtMs), { k: 'propose', id: i, attempt: 0 });
      }
      this.queue.push(this.faultRng.exponential(p.faultMeanIntervalMs), { k: 'fault' });
      this.queue.push(this.clientRng.exponential(p.snapshotMeanIntervalMs), { k: 'snapshot' });
      this.queue.push(p.healAtMs, { k: 'heal-all' });
      const deadlineMs = p.healAtMs + p.livenessBoundMs;
      while (!this.livenessMet) {
        const next = this.queue.pop();
        if (next === undefined) throw new InvariantViolation('liveness', 'the event queue ran dry');
        if (next.atMs > deadlineMs) {
          if (this.options.checkLiveness === false) break;
          this.checker.fail(
            'liveness',
            `no new entry committed on every node within ${p.livenessBoundMs} ms of healing (${this.describeNodes()})`,
          );
        }
        if (++this.stats.events > EVENTS_MAX) this.checker.fail('liveness', `more than ${EVENTS_MAX} events`);
        this.nowMs = next.atMs;
        this.handle(next.event);
        if (this.violation !== null) throw this.violation;
        this.checkAll();
      }
      this.stats.simulatedMs = this.nowMs;
      this.stats.leaderEpochs = this.leaderEpochs.size;
      return { seed: this.seed, params: this.params, stats: this.stats };
    } catch (e) {
      const cause = this.violation ?? (e instanceof Error ? e : new Error(String(e)));
      this.trace.add(this.nowMs, `FAILED: ${cause.message}`);
      throw new SimulationFailure(this.seed, cause, this.trace.lines());
    }
  }

  // ------------------------------------------------------------------ hooks from SimLog and the store

  /** A durable write by node `id`: maybe the process dies before or after it. */
  durableWrite(id: number, what: string, write: () => void): void {
    const slot = this.slots[id]!;
    this.zombieCheck(id);
    const p = this.crashAtWriteProbability;
    if (p > 0 && this.faultRng.chance(p)) {
      const after = this.faultRng.chance(0.5);
      if (after) write();
      slot.life.dead = true;
      throw new SimulatedCrash(`${after ? 'after' : 'before'} ${what}`);
    }
    write();
  }

  /** A dead process's object (one that swallowed its SimulatedCrash) must not touch the disk. */
  zombieCheck(id: number): void {
    if (this.slots[id]!.life.dead) throw new SimulatedCrash('a write by a process already dead');
  }

  removed(id: number, entries: readonly LogEntry[], why: string): void {
    this.stats.entriesTruncated += entries.length;
    this.guard(() => this.checker.observeRemoved(id, entries, why));
  }

  // ------------------------------------------------------------------ events

  private handle(ev: SimEvent): void {
    switch (ev.k) {
      case 'deliver':
        this.deliver(ev.from, ev.to, ev.toLife, ev.msg);
        return;
      case 'poll': {
        const s = this.slots[ev.node]!;
        if (ev.gen !== s.pollGen || s.node === null) return;
        s.pollAtMs = -1;
        const local = s.clock.local(this.nowMs);
        this.call(s, (n) => n.poll(local));
        if (s.node !== null && s.node.nextPollMs() <= local) {
          s.immediatePolls = s.lastPollMs === this.nowMs ? s.immediatePolls + 1 : 1;
          if (s.immediatePolls > IMMEDIATE_POLLS_MAX) {
            if (this.options.checkLiveness !== false) {
              this.checker.fail(
                'liveness',
                `node ${s.id} asks to be polled again at once, ${IMMEDIATE_POLLS_MAX} times`,
              );
            }
            // Not checking liveness: let time move on rather than spin at this instant.
            s.pollGen++;
            s.pollAtMs = this.nowMs + SPIN_THROTTLE_MS;
            this.queue.push(s.pollAtMs, { k: 'poll', node: s.id, gen: s.pollGen });
          }
        }
        s.lastPollMs = this.nowMs;
        return;
      }
      case 'propose':
        this.propose(ev.id, ev.attempt);
        return;
      case 'fault':
        if (this.healed) return;
        this.fault();
        this.queue.push(this.nowMs + this.faultRng.exponential(this.params.faultMeanIntervalMs), {
          k: 'fault',
        });
        return;
      case 'heal-net':
        if (this.healed) return;
        this.network.heal();
        this.trace.add(this.nowMs, 'network healed');
        return;
      case 'restart': {
        const s = this.slots[ev.node]!;
        if (s.node === null) this.start(s);
        return;
      }
      case 'snapshot':
        this.snapshot();
        this.queue.push(this.nowMs + this.clientRng.exponential(this.params.snapshotMeanIntervalMs), {
          k: 'snapshot',
        });
        return;
      case 'heal-all':
        this.healAll();
        return;
      case 'probe':
        this.probe();
        return;
    }
  }

  private deliver(from: number, to: number, toLife: number, msg: WireMessage | RaftMessage): void {
    const s = this.slots[to]!;
    if (s.node === null || s.life.lifetime !== toLife || this.network.isBlocked(from, to)) {
      this.trace.add(this.nowMs, () => `${from}->${to} lost ${msg.type}#${msg.correlationId}`);
      return;
    }
    const message = this.wire ? decodeWire(msg as WireMessage) : (msg as RaftMessage);
    this.stats.messagesDelivered++;
    if (message.type === 'VoteRequest') {
      // Remembered so that a vote granted in answer can be checked against the voter's disk.
      const p = message.body.topics[0]?.partitions[0];
      if (p !== undefined) {
        if (s.voteRequests.size >= VOTE_REQUESTS_REMEMBERED_MAX) s.voteRequests.clear();
        const preVote = p.unknownTaggedFields?.some((f) => f.tag === PRE_VOTE_TAG) ?? false;
        s.voteRequests.set(`${from}#${message.correlationId}`, { candidateEpoch: p.candidateEpoch, preVote });
      }
    }
    this.trace.add(this.nowMs, () => `${from}->${to} ${describeMessage(message)}`);
    const local = s.clock.local(this.nowMs);
    this.call(s, (n) => n.receive(from, message, local));
  }

  private propose(id: number, attempt: number): void {
    const leaders = this.slots.filter((s) => s.node !== null && s.node.role === 'leader');
    const out: { result: OffsetAndEpoch | null } = { result: null };
    let leader: Slot | undefined;
    if (leaders.length > 0) {
      leader = this.clientRng.pick(leaders);
      const count = 1 + this.clientRng.int(3);
      const data: Buffer[] = [];
      for (let j = 0; j < count; j++) data.push(Buffer.from(`p${id}.${attempt}.${j}`));
      const local = leader.clock.local(this.nowMs);
      this.call(leader, (n) => {
        out.result = n.propose(data, local);
      });
    }
    const result = out.result;
    this.trace.add(this.nowMs, () =>
      leader === undefined
        ? `propose p${id}.${attempt}: no leader`
        : `propose p${id}.${attempt} to ${leader.id}: ${result === null ? 'refused' : `${result.offset}@${result.epoch}`}`,
    );
    if (result !== null) {
      this.stats.proposalsAccepted++;
    } else if (attempt + 1 < PROPOSAL_ATTEMPTS_MAX) {
      this.queue.push(this.nowMs + this.clientRng.range(50, 500), { k: 'propose', id, attempt: attempt + 1 });
    }
  }

  private fault(): void {
    const r = this.faultRng;
    const live = this.slots.filter((s) => s.node !== null);
    const roll = r.next();
    if (roll < 0.35) {
      if (live.length === 0) return;
      // Leaders half the time: leadership changes are where the interesting histories are.
      const leaders = live.filter((x) => x.node!.role === 'leader');
      const s = leaders.length > 0 && r.chance(LEADER_CRASH_SHARE) ? r.pick(leaders) : r.pick(live);
      this.crash(s, 'fault');
      const [lo, hi] = r.chance(0.25) ? DOWNTIME_LONG_MS : DOWNTIME_SHORT_MS;
      const at = this.nowMs + r.range(lo, hi);
      if (at < this.params.healAtMs) this.queue.push(at, { k: 'restart', node: s.id });
    } else if (roll < 0.55) {
      const n = this.slots.length;
      const side: number[] = [];
      for (let i = 0; i < n; i++) if (r.chance(0.5)) side.push(i);
      if (side.length === 0 || side.length === n) side.splice(0, side.length, r.int(n));
      this.network.partition(side);
      this.partitioned(`partition {${side.join(',')}} | rest`);
    } else if (roll < 0.75) {
      const n = this.slots.length;
      const a = r.int(n);
      const kind = r.int(3);
      if (kind === 0) {
        const b = (a + 1 + r.int(n - 1)) % n;
        this.network.blockOneWay(a, b);
      } else {
        // One node's messages all lost one way: it hears but is not heard (kind 1), or the reverse.
        for (let b = 0; b < n; b++)
          if (b !== a) this.network.blockOneWay(kind === 1 ? a : b, kind === 1 ? b : a);
      }
      this.partitioned('one-way');
    } else if (roll < 0.85) {
      const leaders = live.filter((s) => s.node!.role === 'leader');
      if (leaders.length === 0) return;
      const s = r.pick(leaders);
      this.stats.resignations++;
      this.trace.add(this.nowMs, `node ${s.id} resigns`);
      const local = s.clock.local(this.nowMs);
      this.call(s, (node) => node.resign(local));
    } else {
      const base = this.params.network;
      this.network.faults = {
        dropProbability: r.pick([0, 0.02, 0.1, 0.3]),
        duplicateProbability: r.pick([0, 0.02, 0.1]),
        delayMinMs: base.delayMinMs,
        delayMaxMs: base.delayMinMs + r.pick([2, 20, 100, 300]),
      };
      const f = this.network.faults;
      this.trace.add(
        this.nowMs,
        `network: drop ${f.dropProbability} dup ${f.duplicateProbability} delay ≤${f.delayMaxMs.toFixed(0)}`,
      );
    }
  }

  private partitioned(what: string): void {
    this.stats.partitions++;
    this.trace.add(this.nowMs, () => `${what}: ${this.network.describe()}`);
    this.queue.push(this.nowMs + this.faultRng.range(PARTITION_MS[0], PARTITION_MS[1]), { k: 'heal-net' });
  }

  private snapshot(): void {
    const live = this.slots.filter((s) => s.node !== null);
    if (live.length === 0) return;
    const s = this.clientRng.pick(live);
    const state = this.checker.appliedState(s.id);
    const latest = s.log.latestSnapshot();
    if (state === null || state.endOffset <= (latest?.endOffset ?? 0) || state.endOffset <= s.log.startOffset)
      return;
    const pad = this.clientRng.int(this.params.config.snapshotChunkBytes * SNAPSHOT_PAD_CHUNKS_MAX);
    const data = encodeSnapshot(state, pad);
    this.stats.snapshotsTaken++;
    this.trace.add(this.nowMs, `node ${s.id} snapshots at ${state.endOffset} (${data.length} bytes)`);
    this.call(s, (n) => n.takeSnapshot(state.endOffset, data));
  }

  private healAll(): void {
    this.healed = true;
    this.crashAtWriteProbability = 0;
    this.network.heal();
    // Back to the schedule's own delays, without losses: a slow but working network.
    this.network.faults = { ...this.params.network, dropProbability: 0, duplicateProbability: 0 };
    this.trace.add(this.nowMs, 'heal: network healed, every node up');
    for (const s of this.slots) if (s.node === null) this.start(s);
    this.queue.push(this.nowMs, { k: 'probe' });
  }

  /** After healing: propose a marker to the newest leader until one commits on every node. */
  private probe(): void {
    const marker = this.markerOffset;
    if (
      marker >= 0 &&
      this.slots.every((s) => s.node !== null && (this.checker.appliedState(s.id)?.endOffset ?? 0) > marker)
    ) {
      this.livenessMet = true;
      this.stats.recoveryMs = this.nowMs - this.params.healAtMs;
      this.trace.add(this.nowMs, 'liveness: the marker committed on every node');
      return;
    }
    let leader: Slot | null = null;
    for (const s of this.slots) {
      if (
        s.node !== null &&
        s.node.role === 'leader' &&
        (leader === null || s.node.epoch > leader.node!.epoch)
      )
        leader = s;
    }
    // One marker per leader epoch: a lost one (its leader deposed) is proposed again to the next.
    if (leader !== null && leader.node!.epoch !== this.markerEpoch) {
      const epoch = leader.node!.epoch;
      const data = Buffer.from(`${LIVENESS_MARKER}${this.markerAttempts}`);
      const local = leader.clock.local(this.nowMs);
      const out: { result: OffsetAndEpoch | null } = { result: null };
      this.call(leader, (n) => {
        out.result = n.propose([data], local);
      });
      if (out.result !== null) {
        this.markerEpoch = epoch;
        this.markerAttempts++;
        this.trace.add(this.nowMs, `liveness marker proposed to ${leader.id} in epoch ${epoch}`);
      }
    }
    this.queue.push(this.nowMs + PROBE_INTERVAL_MS, { k: 'probe' });
  }

  // ------------------------------------------------------------------ nodes

  private start(s: Slot): void {
    const lifetime = s.life.lifetime + 1;
    const life: Life = { lifetime, dead: false };
    s.life = life;
    s.voteRequests.clear();
    this.checker.startLifetime(s.id);
    const checker = this.checker;
    const listener: RaftListener = {
      commit: (entries) => {
        if (life.dead) return;
        this.stats.entriesCommitted += entries.length;
        this.guard(() => checker.observeCommit(s.id, entries));
        if (this.healed && this.markerOffset < 0) {
          for (const e of entries) {
            if (
              e.data.length >= LIVENESS_MARKER.length &&
              e.data.toString('latin1', 0, 4) === LIVENESS_MARKER
            ) {
              this.markerOffset = e.offset;
            }
          }
        }
        this.trace.add(
          this.nowMs,
          () => `node ${s.id} applies ${entries[0]!.offset}..${entries[entries.length - 1]!.offset}`,
        );
      },
      loadSnapshot: (snapshot) => {
        if (life.dead) return;
        this.stats.snapshotsLoaded++;
        this.trace.add(this.nowMs, `node ${s.id} loads snapshot ${snapshot.endOffset}@${snapshot.epoch}`);
        this.guard(() => checker.observeLoadSnapshot(s.id, snapshot));
      },
    };
    const store: QuorumStateStore = {
      read: () => s.store.read(),
      write: (state: QuorumState) => {
        this.durableWrite(s.id, `quorum state ${JSON.stringify(state)}`, () => {
          s.store.write(state);
          this.guard(() => checker.observeQuorumWrite(s.id, state));
        });
      },
    };
    const rng = new Rng(streamSeed(this.seed ^ Math.imul(lifetime, 0x2545f491), STREAM.node + s.id));
    const deps: RaftDeps = {
      nodeId: s.id,
      voters: this.voters,
      clusterId: 'sim',
      log: s.log,
      quorumState: store,
      send: (to, message) => this.send(s.id, life, to, message),
      random: () => rng.next(),
      listener,
      config: this.params.config,
      ...(this.options.liveTrace !== undefined
        ? { logLine: (line: string) => this.trace.add(this.nowMs, line) }
        : {}),
    };
    this.trace.add(
      this.nowMs,
      `node ${s.id} starts (lifetime ${lifetime}, log ${s.log.startOffset}..${s.log.endOffset})`,
    );
    const local = s.clock.local(this.nowMs);
    try {
      s.node = this.options.createNode(deps, local);
    } catch (e) {
      if (!(e instanceof SimulatedCrash)) throw e;
      this.diedAtWrite(s, e.message);
      return;
    }
    s.pollGen++;
    s.pollAtMs = -1;
    this.schedulePoll(s);
  }

  private crash(s: Slot, why: string): void {
    s.life.dead = true;
    this.afterCrash(s, why);
  }

  private afterCrash(s: Slot, why: string): void {
    s.life.dead = true;
    s.node = null;
    s.pollGen++;
    s.pollAtMs = -1;
    const lost = s.log.endOffset - s.log.durableEndOffset;
    s.log.crash();
    this.stats.crashes++;
    this.trace.add(
      this.nowMs,
      `node ${s.id} CRASHES (${why}); log now ${s.log.startOffset}..${s.log.endOffset}, ${lost} unflushed lost`,
    );
    s.lastView.epoch = -1;
  }

  /** The process died at a durable write: it restarts after a short downtime (at once after healing). */
  private diedAtWrite(s: Slot, why: string): void {
    this.stats.crashesAtWrite++;
    this.afterCrash(s, why);
    const downMs = this.faultRng.range(DOWNTIME_SHORT_MS[0], DOWNTIME_SHORT_MS[1]);
    const at = this.healed
      ? this.nowMs + DOWNTIME_SHORT_MS[0]
      : Math.min(this.nowMs + downMs, this.params.healAtMs);
    this.queue.push(at, { k: 'restart', node: s.id });
  }

  /** Calls into a node; a SimulatedCrash out of it is the process dying there. */
  private call(s: Slot, f: (n: SimNode) => void): void {
    const node = s.node;
    if (node === null) return;
    try {
      f(node);
    } catch (e) {
      if (!(e instanceof SimulatedCrash)) throw e;
      this.diedAtWrite(s, e.message);
      return;
    }
    if (s.node === node) {
      if (s.life.dead) {
        // The core swallowed its SimulatedCrash: the process is dead all the same.
        this.diedAtWrite(s, 'at a write (exception swallowed by the core)');
        return;
      }
      this.schedulePoll(s);
    }
  }

  private send(from: number, life: Life, to: number, message: RaftMessage): void {
    if (life.dead) return;
    const target = this.slots[to];
    if (target === undefined || to === from)
      throw new Error(`node ${from} sent ${message.type} to node ${to}`);
    this.stats.messagesSent++;
    this.stats.messagesByType[message.type] = (this.stats.messagesByType[message.type] ?? 0) + 1;
    if (message.type === 'VoteResponse' && message.body.topics[0]?.partitions[0]?.voteGranted === true) {
      const key = `${to}#${message.correlationId}`;
      const request = this.slots[from]!.voteRequests.get(key);
      this.slots[from]!.voteRequests.delete(key);
      if (request !== undefined && !request.preVote) {
        this.guard(() => this.checker.observeVoteGranted(from, to, request.candidateEpoch));
      }
    }
    const routes = this.network.route(from, to, this.nowMs);
    if (routes.length === 0) {
      this.trace.add(this.nowMs, () => `${from}->${to} dropped ${describeMessage(message)}`);
      return;
    }
    const msg = this.wire ? encodeWire(message) : message;
    for (const at of routes)
      this.queue.push(at, { k: 'deliver', from, to, toLife: target.life.lifetime, msg });
  }

  private schedulePoll(s: Slot): void {
    const node = s.node;
    if (node === null) return;
    const wantLocal = node.nextPollMs();
    let at = wantLocal === Infinity ? Infinity : Math.max(this.nowMs, s.clock.globalAt(wantLocal));
    const cap = this.nowMs + POLL_CAP_MS;
    if (at > cap) {
      // Nothing due soon: keep a pending poll within the cap rather than push a new one.
      if (s.pollAtMs >= this.nowMs && s.pollAtMs <= cap) return;
      at = cap;
    }
    if (at === s.pollAtMs) return;
    s.pollGen++;
    s.pollAtMs = at;
    this.queue.push(at, { k: 'poll', node: s.id, gen: s.pollGen });
  }

  // ------------------------------------------------------------------ checks

  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.violation ??= e instanceof Error ? e : new Error(String(e));
      throw e;
    }
  }

  private checkAll(): void {
    for (const s of this.slots) {
      const n = s.node;
      if (n === null) continue;
      const v = s.view;
      v.role = n.role;
      v.epoch = n.epoch;
      v.leaderId = n.leaderId;
      v.highWatermark = n.highWatermark;
      this.checker.observeNode(s.id, v, s.log);
      if (v.role === 'leader') this.leaderEpochs.add(v.epoch);
      // Traced when it changes; compared field by field, as building a string per event costs.
      const l = s.lastView;
      if (
        v.role !== l.role ||
        v.epoch !== l.epoch ||
        v.leaderId !== l.leaderId ||
        v.highWatermark !== l.highWatermark ||
        s.log.startOffset !== l.startOffset ||
        s.log.endOffset !== l.endOffset
      ) {
        Object.assign(l, v, { startOffset: s.log.startOffset, endOffset: s.log.endOffset });
        const text = describeView(l);
        this.trace.add(this.nowMs, `node ${s.id}: ${text}`);
      }
    }
  }

  private describeNodes(): string {
    return (
      `marker at ${this.markerOffset}; ` +
      this.slots
        .map((s) =>
          s.node === null
            ? `${s.id}: down`
            : `${s.id}: ${describeView(s.lastView)}, applied to ${this.checker.appliedState(s.id)?.endOffset ?? 0}`,
        )
        .join('; ')
    );
  }

  private describeParams(): string {
    const p = this.params;
    const c: RaftConfig = p.config;
    return (
      `seed ${this.seed}: ${p.voterCount} voters + ${p.observerCount} observers; network ${JSON.stringify(p.network)}; ` +
      `faults every ~${p.faultMeanIntervalMs} ms, crash-at-write ${p.crashAtWriteProbability}; ${p.proposalCount} proposals; ` +
      `fetchMaxWait ${c.fetchMaxWaitMs} linger ${c.appendLingerMs} fetchMaxEntries ${c.fetchMaxEntries} ` +
      `fetchMaxBytes ${c.fetchMaxBytes} chunk ${c.snapshotChunkBytes}` +
      (c.unsafe !== undefined ? ` UNSAFE ${JSON.stringify(c.unsafe)}` : '')
    );
  }
}

export { InvariantViolation };
