/**
 * RaftRuntime with real timers, in one process: nodes on MemoryLogs joined by an in-memory
 * network that delivers in a later turn of the event loop (as sockets do) and can cut a node
 * off. Proposals resolve once committed, are refused off the leader, are rejected when lost in
 * a leader change, and time out when nothing commits them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryLog } from '../../src/raft/memory-log.js';
import { MemoryQuorumStateStore } from '../../src/raft/memory-quorum-state.js';
import {
  NotLeaderError,
  PENDING_PROPOSAL_ENTRIES_MAX,
  ProposalLostError,
  ProposalTimeoutError,
  RaftRuntime,
} from '../../src/raft/runtime.js';
import { DEFAULT_RAFT_CONFIG, type LogEntry, type RaftConfig } from '../../src/raft/types.js';

const CONFIG: RaftConfig = {
  ...DEFAULT_RAFT_CONFIG,
  electionTimeoutMs: 50,
  fetchTimeoutMs: 100,
  electionBackoffMaxMs: 50,
  fetchMaxWaitMs: 20,
};
/** Every wait in these tests gives up after this long. */
const WAIT_MS_MAX = 10_000;

interface TestNode {
  id: number;
  runtime: RaftRuntime;
  log: MemoryLog;
  committed: LogEntry[];
}

class Network {
  readonly nodes = new Map<number, TestNode>();
  /** Nodes whose messages (both ways) are dropped. */
  readonly cut = new Set<number>();

  start(ids: readonly number[], proposeTimeoutMs?: number): TestNode[] {
    for (const id of ids) {
      const log = new MemoryLog();
      const committed: LogEntry[] = [];
      const runtime = new RaftRuntime({
        nodeId: id,
        voters: ids,
        clusterId: 'test',
        config: CONFIG,
        log,
        quorumState: new MemoryQuorumStateStore(),
        send: (to, message) => {
          if (this.cut.has(id) || this.cut.has(to)) return;
          setImmediate(() => this.nodes.get(to)?.runtime.deliver(id, message));
        },
        listener: { commit: (entries) => committed.push(...entries), loadSnapshot: () => undefined },
        ...(proposeTimeoutMs === undefined ? {} : { proposeTimeoutMs }),
      });
      this.nodes.set(id, { id, runtime, log, committed });
    }
    return [...this.nodes.values()];
  }

  stop(): void {
    for (const n of this.nodes.values()) n.runtime.stop();
  }

  /** The node that leads, once every node not cut off agrees on it (in an epoch above `aboveEpoch`). */
  async leader(aboveEpoch = -1): Promise<TestNode> {
    const deadline = Date.now() + WAIT_MS_MAX;
    for (;;) {
      const live = [...this.nodes.values()].filter((n) => !this.cut.has(n.id));
      const l = live.find((n) => n.runtime.node.role === 'leader' && n.runtime.node.epoch > aboveEpoch);
      if (l !== undefined && live.every((n) => n.runtime.node.leaderId === l.id)) return l;
      assert.ok(Date.now() < deadline, 'a leader is elected in time');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

const data = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x));

void describe('RaftRuntime', () => {
  void test('one voter: proposals resolve once committed, those of one turn appended together', async () => {
    const net = new Network();
    const [n] = net.start([1]);
    try {
      const leader = await net.leader();
      assert.equal(leader, n);
      const [a, b] = await Promise.all([
        leader.runtime.propose(data('a1', 'a2')),
        leader.runtime.propose(data('b1')),
      ]);
      assert.equal(b.offset, a.offset + 1, 'the second proposal follows the first');
      assert.equal(a.epoch, leader.runtime.node.epoch);
      assert.ok(a.commitMs >= 0, 'commit time is measured');
      assert.deepEqual(
        leader.committed.filter((e) => e.data.length > 0).map((e) => [e.offset, e.data.toString()]),
        [
          [a.offset - 1, 'a1'],
          [a.offset, 'a2'],
          [b.offset, 'b1'],
        ],
      );
      await assert.rejects(leader.runtime.propose([]), RangeError);
    } finally {
      net.stop();
    }
  });

  void test('proposals past PENDING_PROPOSAL_ENTRIES_MAX entries waiting to be appended are refused at once', async () => {
    const net = new Network();
    const [n] = net.start([1]);
    try {
      await net.leader();
      const entry = Buffer.from('e');
      const fill = n!.runtime.propose(Array.from({ length: PENDING_PROPOSAL_ENTRIES_MAX }, () => entry));
      await assert.rejects(n!.runtime.propose(data('one too many')), /entries already wait to be appended/);
      await fill;
      await n!.runtime.propose(data('room again'));
    } finally {
      net.stop();
    }
  });

  void test('three voters: the leader commits, every node applies, a follower refuses with the leader named', async () => {
    const net = new Network();
    net.start([1, 2, 3]);
    try {
      const leader = await net.leader();
      const c = await leader.runtime.propose(data('x', 'y'));
      const follower = [...net.nodes.values()].find((n) => n !== leader)!;
      await assert.rejects(follower.runtime.propose(data('z')), (e: unknown) => {
        assert.ok(e instanceof NotLeaderError, 'NotLeaderError');
        assert.equal(e.leaderId, leader.id);
        return true;
      });
      const deadline = Date.now() + WAIT_MS_MAX;
      while ([...net.nodes.values()].some((n) => !n.committed.some((e) => e.offset === c.offset))) {
        assert.ok(Date.now() < deadline, 'every node applies the entry');
        await new Promise((r) => setTimeout(r, 5));
      }
      for (const n of net.nodes.values()) {
        assert.deepEqual(
          n.committed.filter((e) => e.data.length > 0).map((e) => e.data.toString()),
          ['x', 'y'],
          `node ${n.id} applied the entries`,
        );
      }
    } finally {
      net.stop();
    }
  });

  void test('a proposal on a leader cut off is lost when the new leader commits others in its place', async () => {
    const net = new Network();
    net.start([1, 2, 3], WAIT_MS_MAX);
    try {
      const old = await net.leader();
      await old.runtime.propose(data('before'));
      net.cut.add(old.id);
      const orphan = old.runtime.propose(data('orphan'));
      const outcome = orphan.then(
        () => 'committed',
        (e: unknown) => e,
      );
      const fresh = await net.leader(old.runtime.node.epoch);
      // Enough entries in the new epoch to cover the orphan's offset.
      await fresh.runtime.propose(data('n1', 'n2', 'n3'));
      net.cut.delete(old.id);
      const result = await outcome;
      assert.ok(result instanceof ProposalLostError, `the orphan is reported lost (${String(result)})`);
    } finally {
      net.stop();
    }
  });

  void test('a proposal nothing commits times out; stop rejects what is pending', async () => {
    const net = new Network();
    net.start([1, 2, 3], 150);
    try {
      const old = await net.leader();
      net.cut.add(old.id);
      // Cut off, and all others cut off from it: it leads until check-quorum, committing nothing.
      for (const n of net.nodes.values()) if (n !== old) net.cut.add(n.id);
      await assert.rejects(old.runtime.propose(data('stuck')), ProposalTimeoutError);
      const pending = old.runtime.propose(data('pending'));
      old.runtime.stop();
      await assert.rejects(pending, /stopped/);
    } finally {
      net.stop();
    }
  });
});
