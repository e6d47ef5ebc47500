/**
 * RaftNode on a tiny, fair, in-order network (every message delivered after 1 ms): election,
 * replication and commit on 1, 3 and 5 voters, an observer, a leader change after the leader
 * stops, divergence repair, and snapshots for a follower behind the log start. The seeded
 * simulator (test/raft/sim.test.ts) is where faults are thrown at it; these are the plain paths.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { MemoryLog } from '../../src/raft/memory-log.js';
import { MemoryQuorumStateStore } from '../../src/raft/memory-quorum-state.js';
import { RaftNode } from '../../src/raft/raft-node.js';
import { DEFAULT_RAFT_CONFIG, type LogEntry, type RaftMessage, type Snapshot } from '../../src/raft/types.js';

interface Member {
  id: number;
  log: MemoryLog;
  store: MemoryQuorumStateStore;
  node: RaftNode;
  committed: LogEntry[];
  snapshot: Snapshot | null;
  up: boolean;
}

class Net {
  nowMs = 0;
  readonly members = new Map<number, Member>();
  private queue: { at: number; from: number; to: number; m: RaftMessage }[] = [];
  private seed = 1;
  /** Links that drop everything (from → to). */
  readonly cut = new Set<string>();

  constructor(
    readonly voters: number[],
    observers: number[] = [],
  ) {
    for (const id of [...voters, ...observers]) this.start(id, new MemoryLog(), new MemoryQuorumStateStore());
  }

  random = (): number => {
    this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
    return this.seed / 2147483648;
  };

  start(id: number, log: MemoryLog, store: MemoryQuorumStateStore): void {
    const m: Member = {
      id,
      log,
      store,
      committed: [],
      snapshot: null,
      up: true,
      node: undefined as unknown as RaftNode,
    };
    m.node = new RaftNode(
      {
        nodeId: id,
        voters: this.voters,
        clusterId: 'test-cluster',
        log,
        quorumState: store,
        send: (to, message) => {
          if (!this.cut.has(`${id}>${to}`)) this.queue.push({ at: this.nowMs + 1, from: id, to, m: message });
        },
        random: this.random,
        ...(process.env['RAFT_DEBUG'] !== undefined
          ? { logLine: (line: string) => console.log(`t=${this.nowMs} ${line}`) }
          : {}),
        listener: {
          commit: (entries) => m.committed.push(...entries),
          loadSnapshot: (s) => {
            m.snapshot = s;
            m.committed = [];
          },
        },
        config: {
          ...DEFAULT_RAFT_CONFIG,
          electionTimeoutMs: 100,
          fetchTimeoutMs: 200,
          fetchMaxWaitMs: 50,
          electionBackoffMaxMs: 100,
        },
      },
      this.nowMs,
    );
    this.members.set(id, m);
  }

  stop(id: number): void {
    this.members.get(id)!.up = false;
  }

  /** Runs the network for `ms` simulated milliseconds, 1 ms at a time. */
  run(ms: number): void {
    const end = this.nowMs + ms;
    while (this.nowMs < end) {
      this.nowMs++;
      const due = this.queue.filter((q) => q.at <= this.nowMs);
      this.queue = this.queue.filter((q) => q.at > this.nowMs);
      for (const q of due) {
        const to = this.members.get(q.to);
        if (to?.up === true && this.members.get(q.from)?.up === true)
          to.node.receive(q.from, q.m, this.nowMs);
      }
      for (const m of this.members.values())
        if (m.up && m.node.nextPollMs() <= this.nowMs) m.node.poll(this.nowMs);
    }
  }

  leader(): Member | undefined {
    const leaders = [...this.members.values()].filter((m) => m.up && m.node.role === 'leader');
    return leaders.sort((a, b) => b.node.epoch - a.node.epoch)[0];
  }

  /** Runs until `cond` or `ms` pass. */
  until(cond: () => boolean, ms: number, what: string): void {
    for (let t = 0; t < ms && !cond(); t += 5) this.run(5);
    assert.ok(cond(), `${what} within ${ms} ms of simulated time`);
  }
}

const data = (s: string): Buffer => Buffer.from(s);
const values = (entries: readonly LogEntry[]): string[] =>
  entries.filter((e) => e.data.length > 0).map((e) => e.data.toString());

void describe('RaftNode', () => {
  for (const n of [1, 3, 5]) {
    void test(`${n} voter(s): one leader, proposals commit on every node in order`, () => {
      const net = new Net(Array.from({ length: n }, (_, i) => i + 1));
      net.until(() => net.leader() !== undefined, 2000, 'a leader');
      const leader = net.leader()!;
      const epochs = [...net.members.values()].filter((m) => m.node.role === 'leader').length;
      assert.equal(epochs, 1, 'one leader');
      for (let i = 0; i < 20; i++)
        assert.ok(leader.node.propose([data(`e${i}`)], net.nowMs) !== null, 'accepted');
      assert.equal(leader.node.propose([data('x')], net.nowMs - 0) !== null, true, 'another');
      const expected = [...Array.from({ length: 20 }, (_, i) => `e${i}`), 'x'];
      net.until(
        () => [...net.members.values()].every((m) => values(m.committed).length === 21),
        2000,
        'all commit',
      );
      for (const m of net.members.values()) assert.deepEqual(values(m.committed), expected, `node ${m.id}`);
      const follower = [...net.members.values()].find((m) => m !== leader);
      if (follower !== undefined)
        assert.equal(follower.node.propose([data('no')], net.nowMs), null, 'followers refuse');
    });
  }

  void test('an observer follows the log without voting or counting', () => {
    const net = new Net([1, 2, 3], [9]);
    net.until(() => net.leader() !== undefined, 2000, 'a leader');
    net.leader()!.node.propose([data('a'), data('b')], net.nowMs);
    const observer = net.members.get(9)!;
    net.until(() => values(observer.committed).length === 2, 2000, 'the observer commits');
    assert.equal(observer.node.role, 'follower');
    const q = net.leader()!.node.describeQuorum(net.nowMs);
    assert.deepEqual(
      q.observers.map((o) => o.replicaId),
      [9],
    );
    assert.deepEqual(
      q.currentVoters.map((v) => v.replicaId),
      [1, 2, 3],
    );
  });

  void test('check-quorum counts voters only: a leader cut off from the other voters steps down though an observer still fetches', () => {
    const net = new Net([1, 2, 3], [9]);
    net.until(() => net.leader() !== undefined, 2000, 'a leader');
    const leader = net.leader()!;
    const lead = leader.id;
    for (const id of [1, 2, 3]) {
      if (id === lead) continue;
      net.cut.add(`${lead}>${id}`);
      net.cut.add(`${id}>${lead}`);
    }
    net.until(() => leader.node.role !== 'leader', 5000, 'the cut-off leader steps down');
  });

  void test('the leader stops: another is elected in a higher epoch and nothing committed is lost', () => {
    const net = new Net([1, 2, 3]);
    net.until(() => net.leader() !== undefined, 2000, 'a leader');
    const first = net.leader()!;
    first.node.propose([data('before')], net.nowMs);
    net.until(
      () => [...net.members.values()].every((m) => values(m.committed).includes('before')),
      2000,
      'committed',
    );
    net.stop(first.id);
    net.until(() => net.leader() !== undefined && net.leader() !== first, 3000, 'a new leader');
    const second = net.leader()!;
    assert.ok(second.node.epoch > first.node.epoch, 'a higher epoch');
    second.node.propose([data('after')], net.nowMs);
    net.until(() => values(second.committed).includes('after'), 2000, 'commits with two of three');
    // The old leader comes back (a restart on its durable state) and catches up.
    first.log.crash();
    net.start(first.id, first.log, first.store);
    const again = net.members.get(first.id)!;
    net.until(() => values(again.committed).join() === 'before,after', 3000, 'the restarted node catches up');
  });

  void test('a divergent uncommitted tail is truncated by the new leader', () => {
    const net = new Net([1, 2, 3]);
    net.until(() => net.leader() !== undefined, 2000, 'a leader');
    const first = net.leader()!;
    // Cut the leader off, then let it append entries nobody else sees.
    for (const m of net.members.values()) {
      if (m === first) continue;
      net.cut.add(`${first.id}>${m.id}`);
      net.cut.add(`${m.id}>${first.id}`);
    }
    first.node.propose([data('lost-1'), data('lost-2')], net.nowMs);
    net.until(
      () => [...net.members.values()].some((m) => m !== first && m.node.role === 'leader'),
      3000,
      'the others elect a leader',
    );
    const second = [...net.members.values()].find((m) => m !== first && m.node.role === 'leader')!;
    second.node.propose([data('kept')], net.nowMs);
    net.cut.clear();
    for (let i = 0; i < 10 && !values(first.committed).includes('kept'); i++) {
      net.run(500);
      if (process.env['RAFT_DEBUG'] !== undefined)
        console.log(
          [...net.members.values()]
            .map(
              (m) =>
                `${m.id}:${m.node.role}/${m.node.epoch}/l${m.node.leaderId}/hw${m.node.highWatermark}/end${m.log.endOffset}`,
            )
            .join(' '),
        );
    }
    net.until(() => values(first.committed).includes('kept'), 5000, 'the old leader follows');
    assert.ok(!values(first.committed).includes('lost-1'), 'the divergent entries are gone');
    assert.deepEqual(
      first.log
        .read(0, 100, 1 << 20)
        .map((e) => e.data.toString())
        .filter((s) => s.length > 0),
      ['kept'],
      'its log holds the new leader’s entries only',
    );
  });

  void test('a follower behind the leader’s log start gets the snapshot', () => {
    const net = new Net([1, 2, 3]);
    net.until(() => net.leader() !== undefined, 2000, 'a leader');
    const leader = net.leader()!;
    const lagging = [...net.members.values()].find((m) => m !== leader)!;
    net.stop(lagging.id);
    for (let i = 0; i < 10; i++) leader.node.propose([data(`s${i}`)], net.nowMs);
    net.until(() => leader.node.highWatermark >= leader.log.endOffset, 2000, 'committed by two');
    leader.node.takeSnapshot(leader.node.highWatermark, Buffer.from('state@' + leader.node.highWatermark));
    assert.ok(leader.log.startOffset > 0, 'the leader dropped its log prefix');
    leader.node.propose([data('tail')], net.nowMs);
    lagging.log.crash();
    net.start(lagging.id, lagging.log, lagging.store);
    const back = net.members.get(lagging.id)!;
    net.until(() => values(back.committed).includes('tail'), 5000, 'the lagging node catches up');
    assert.equal(back.snapshot?.data.toString(), `state@${leader.log.startOffset}`, 'it loaded the snapshot');
    assert.deepEqual(values(back.committed), ['tail'], 'and then the entries after it');
  });
});
