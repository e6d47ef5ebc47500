/**
 * The invariant checker on hand-made histories: each invariant holds on a good history and
 * fails on a bad one, so a simulator run that passes means something.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogEntry, RaftRole } from '../../src/raft/types.js';
import { InvariantChecker, InvariantViolation, type InvariantName, type LogView } from './sim/invariants.js';
import { applyEntry, encodeSnapshot, STATE_HASH_INIT } from './sim/state-machine.js';

function entry(offset: number, epoch: number, data = `d${offset}@${epoch}`): LogEntry {
  return { offset, epoch, data: Buffer.from(data) };
}

/** A log holding `entries` (contiguous), starting at the first one's offset, or `start` when empty. */
function log(entries: LogEntry[], start = entries[0]?.offset ?? 0): LogView {
  return {
    startOffset: start,
    endOffset: start + entries.length,
    entryAt: (o) => entries[o - start],
  };
}

function view(role: RaftRole, epoch: number, leaderId: number, highWatermark: number) {
  return { role, epoch, leaderId, highWatermark };
}

/** A checker with nodes 0..n-1 started, each having durably reached `epoch` (voting for -1). */
function checker(n = 3, epoch = 1): InvariantChecker {
  const c = new InvariantChecker();
  for (let id = 0; id < n; id++) {
    c.startLifetime(id);
    c.observeQuorumWrite(id, { epoch, votedId: -1, leaderId: -1 });
  }
  return c;
}

function violates(invariant: InvariantName, f: () => void): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof InvariantViolation, `an InvariantViolation, not ${String(e)}`);
    assert.equal(e.invariant, invariant, e.message);
    return true;
  });
}

/** The snapshot state machine data for the state after applying `entries` (from 0). */
function snapshotOf(entries: LogEntry[], padBytes = 10): Buffer {
  const hash = entries.reduce(applyEntry, STATE_HASH_INIT);
  return encodeSnapshot({ endOffset: entries.length, hash }, padBytes);
}

void describe('InvariantChecker', () => {
  void test('a good history passes: election, replication, commit, restart, snapshot', () => {
    const c = checker();
    const entries = [entry(0, 2, ''), entry(1, 2), entry(2, 2)];
    c.observeQuorumWrite(0, { epoch: 2, votedId: 0, leaderId: -1 });
    c.observeQuorumWrite(1, { epoch: 2, votedId: 0, leaderId: -1 });
    c.observeQuorumWrite(0, { epoch: 2, votedId: 0, leaderId: 0 });
    c.observeNode(0, view('leader', 2, 0, 0), log(entries));
    c.observeQuorumWrite(1, { epoch: 2, votedId: 0, leaderId: 0 });
    c.observeNode(1, view('follower', 2, 0, 0), log(entries.slice(0, 2)));
    c.observeNode(0, view('leader', 2, 0, 2), log(entries));
    c.observeCommit(0, entries.slice(0, 2));
    c.observeNode(1, view('follower', 2, 0, 2), log(entries.slice(0, 2)));
    c.observeCommit(1, entries.slice(0, 2));
    assert.equal(c.committedEndOffset, 2);
    assert.deepEqual(c.appliedState(1), {
      endOffset: 2,
      hash: entries.slice(0, 2).reduce(applyEntry, STATE_HASH_INIT),
    });
    // Node 1 restarts: a lower high watermark and applying from 0 again are fine in a new lifetime.
    c.startLifetime(1);
    assert.equal(c.appliedState(1), null);
    c.observeNode(1, view('follower', 2, 0, 0), log(entries.slice(0, 2)));
    c.observeCommit(1, entries.slice(0, 1));
    // Node 2 restarts from a snapshot of the committed prefix.
    c.startLifetime(2);
    c.observeLoadSnapshot(2, { endOffset: 2, epoch: 2, data: snapshotOf(entries.slice(0, 2)) });
    c.observeCommit(2, [entries[2]!]);
    c.observeRemoved(1, [entry(2, 1)], 'a divergent entry');
  });

  void test('one-leader-per-epoch: two nodes leading one epoch, across the whole history', () => {
    const c = checker();
    c.observeQuorumWrite(0, { epoch: 2, votedId: 0, leaderId: 0 });
    c.observeNode(0, view('leader', 2, 0, 0), log([]));
    c.observeQuorumWrite(0, { epoch: 3, votedId: -1, leaderId: -1 });
    c.observeNode(0, view('unattached', 3, -1, 0), log([]));
    c.observeQuorumWrite(1, { epoch: 2, votedId: 1, leaderId: -1 });
    violates('one-leader-per-epoch', () => c.observeNode(1, view('leader', 2, 1, 0), log([])));
  });

  void test('one-leader-per-epoch: a follower naming another leader than the one that leads', () => {
    const c = checker();
    c.observeQuorumWrite(0, { epoch: 2, votedId: 0, leaderId: 0 });
    c.observeNode(0, view('leader', 2, 0, 0), log([]));
    c.observeQuorumWrite(2, { epoch: 2, votedId: -1, leaderId: -1 });
    violates('one-leader-per-epoch', () => c.observeNode(2, view('follower', 2, 1, 0), log([])));
  });

  void test('one-leader-per-epoch: durable quorum states naming two leaders', () => {
    const c = checker();
    c.observeQuorumWrite(0, { epoch: 4, votedId: -1, leaderId: 1 });
    violates('one-leader-per-epoch', () => c.observeQuorumWrite(2, { epoch: 4, votedId: -1, leaderId: 0 }));
  });

  void test('epoch-monotonic: an epoch going back, in a lifetime or across a restart', () => {
    const c = checker(2, 3);
    c.observeNode(0, view('unattached', 3, -1, 0), log([]));
    violates('epoch-monotonic', () => c.observeNode(0, view('unattached', 2, -1, 0), log([])));
    const d = checker(2, 3);
    d.observeNode(1, view('unattached', 3, -1, 0), log([]));
    d.startLifetime(1);
    violates('epoch-monotonic', () => d.observeNode(1, view('unattached', 1, -1, 0), log([])));
  });

  void test('epoch-monotonic: an epoch used before it is durable', () => {
    const c = checker(2, 3);
    violates('epoch-monotonic', () => c.observeNode(0, view('candidate', 4, -1, 0), log([])));
    const fresh = new InvariantChecker();
    fresh.startLifetime(0);
    fresh.observeNode(0, view('unattached', 0, -1, 0), log([]));
    violates('epoch-monotonic', () => fresh.observeNode(0, view('unattached', 1, -1, 0), log([])));
  });

  void test('epoch-monotonic: a durable write lowering the epoch', () => {
    const c = checker(1, 5);
    violates('epoch-monotonic', () => c.observeQuorumWrite(0, { epoch: 4, votedId: -1, leaderId: -1 }));
  });

  void test('one-vote-per-epoch: a second candidate voted for in an epoch, even after clearing the vote', () => {
    const c = checker(3, 1);
    c.observeQuorumWrite(0, { epoch: 2, votedId: 1, leaderId: -1 });
    c.observeQuorumWrite(0, { epoch: 2, votedId: 1, leaderId: -1 });
    c.observeQuorumWrite(0, { epoch: 2, votedId: -1, leaderId: 1 });
    violates('one-vote-per-epoch', () => c.observeQuorumWrite(0, { epoch: 2, votedId: 2, leaderId: -1 }));
    const d = checker(3, 1);
    d.observeQuorumWrite(0, { epoch: 2, votedId: 1, leaderId: -1 });
    d.observeQuorumWrite(0, { epoch: 3, votedId: 2, leaderId: -1 });
  });

  void test('one-vote-per-epoch: a vote granted before it is on disk', () => {
    const c = checker(3, 1);
    violates('one-vote-per-epoch', () => c.observeVoteGranted(0, 1, 2));
    c.observeQuorumWrite(0, { epoch: 2, votedId: -1, leaderId: -1 });
    violates('one-vote-per-epoch', () => c.observeVoteGranted(0, 1, 2));
    c.observeQuorumWrite(0, { epoch: 2, votedId: 1, leaderId: -1 });
    c.observeVoteGranted(0, 1, 2);
    violates('one-vote-per-epoch', () => c.observeVoteGranted(0, 2, 2));
    const fresh = new InvariantChecker();
    fresh.startLifetime(0);
    violates('one-vote-per-epoch', () => fresh.observeVoteGranted(0, 1, 1));
  });

  void test('one-vote-per-epoch: a known leader replaced in the same epoch', () => {
    const c = checker(3, 1);
    c.observeQuorumWrite(0, { epoch: 2, votedId: -1, leaderId: 1 });
    violates('one-vote-per-epoch', () => c.observeQuorumWrite(0, { epoch: 2, votedId: -1, leaderId: -1 }));
  });

  void test('hw-monotonic: the high watermark going back within a lifetime', () => {
    const c = checker();
    const entries = [entry(0, 1), entry(1, 1)];
    c.observeNode(1, view('follower', 1, 0, 2), log(entries));
    violates('hw-monotonic', () => c.observeNode(1, view('follower', 1, 0, 1), log(entries)));
  });

  void test('committed-stable: a different entry delivered at a committed offset', () => {
    const c = checker();
    c.observeCommit(0, [entry(0, 1, 'a'), entry(1, 1, 'b')]);
    violates('committed-stable', () => c.observeCommit(1, [entry(0, 1, 'a'), entry(1, 1, 'B')]));
    const d = checker();
    d.observeCommit(0, [entry(0, 1, 'a')]);
    violates('committed-stable', () => d.observeCommit(1, [entry(0, 2, 'a')]));
  });

  void test("committed-stable: a node's log below its high watermark disagreeing with what was committed", () => {
    const c = checker();
    c.observeCommit(0, [entry(0, 1), entry(1, 1)]);
    violates('committed-stable', () =>
      c.observeNode(2, view('follower', 1, 0, 2), log([entry(0, 1), entry(1, 1, 'other')])),
    );
  });

  void test('committed-stable: a log removing a committed entry', () => {
    const c = checker();
    c.observeCommit(0, [entry(0, 1), entry(1, 1)]);
    c.observeRemoved(1, [entry(1, 3)], 'a different entry at a committed offset');
    violates('committed-stable', () => c.observeRemoved(1, [entry(1, 1), entry(2, 1)], 'truncateTo(1)'));
  });

  void test('leader-complete: a new leader missing an entry committed in an earlier epoch', () => {
    const c = checker(3, 2);
    const entries = [entry(0, 2, ''), entry(1, 2)];
    c.observeQuorumWrite(0, { epoch: 2, votedId: 0, leaderId: 0 });
    c.observeNode(0, view('leader', 2, 0, 2), log(entries));
    c.observeQuorumWrite(1, { epoch: 3, votedId: 1, leaderId: 1 });
    violates('leader-complete', () => c.observeNode(1, view('leader', 3, 1, 0), log([entry(0, 2, '')])));
  });

  void test('leader-complete: entries committed in the same or a later epoch, or below the log start, do not count', () => {
    const c = checker(3, 2);
    c.observeQuorumWrite(0, { epoch: 2, votedId: 0, leaderId: 0 });
    c.observeNode(0, view('leader', 2, 0, 2), log([entry(0, 2, ''), entry(1, 2)]));
    c.observeQuorumWrite(1, { epoch: 3, votedId: 1, leaderId: 1 });
    // Its log starts past both (a snapshot holds them).
    c.observeNode(1, view('leader', 3, 1, 2), log([], 2));
    // A leader of epoch 2 elected late (after epoch 3 committed) need not hold what epoch 3 committed.
    const d = checker(3, 2);
    d.observeQuorumWrite(1, { epoch: 3, votedId: 1, leaderId: 1 });
    d.observeNode(1, view('leader', 3, 1, 2), log([entry(0, 3, ''), entry(1, 3)]));
    d.observeQuorumWrite(0, { epoch: 2, votedId: 0, leaderId: 0 });
    d.observeNode(0, view('leader', 2, 0, 0), log([]));
  });

  void test('apply-order: a gap, a repeat, or a first entry other than 0', () => {
    const c = checker();
    c.observeCommit(0, [entry(0, 1), entry(1, 1)]);
    violates('apply-order', () => c.observeCommit(0, [entry(3, 1)]));
    const d = checker();
    d.observeCommit(0, [entry(0, 1), entry(1, 1)]);
    violates('apply-order', () => d.observeCommit(0, [entry(1, 1)]));
    const e = checker();
    violates('apply-order', () => e.observeCommit(0, [entry(1, 1)]));
  });

  void test('apply-order: a snapshot taking the state machine back, or not holding the committed state', () => {
    const entries = [entry(0, 1), entry(1, 1), entry(2, 1)];
    const c = checker();
    c.observeCommit(0, entries);
    violates('apply-order', () =>
      c.observeLoadSnapshot(0, { endOffset: 2, epoch: 1, data: snapshotOf(entries.slice(0, 2)) }),
    );
    const d = checker();
    d.observeCommit(0, entries);
    d.startLifetime(1);
    const wrong = snapshotOf([entry(0, 1), entry(1, 1, 'x')]);
    violates('apply-order', () => d.observeLoadSnapshot(1, { endOffset: 2, epoch: 1, data: wrong }));
    violates('apply-order', () =>
      d.observeLoadSnapshot(1, { endOffset: 3, epoch: 1, data: snapshotOf(entries.slice(0, 2)) }),
    );
    violates('apply-order', () =>
      d.observeLoadSnapshot(1, { endOffset: 2, epoch: 1, data: Buffer.from('junk') }),
    );
    const e = checker();
    e.observeCommit(0, entries.slice(0, 1));
    e.startLifetime(1);
    violates('apply-order', () =>
      e.observeLoadSnapshot(1, { endOffset: 2, epoch: 1, data: snapshotOf(entries.slice(0, 2)) }),
    );
  });

  void test('committed-stable: a snapshot whose epoch disagrees with the committed entry before its end', () => {
    const entries = [entry(0, 1), entry(1, 1)];
    const c = checker();
    c.observeCommit(0, entries);
    c.startLifetime(1);
    violates('committed-stable', () =>
      c.observeLoadSnapshot(1, { endOffset: 2, epoch: 2, data: snapshotOf(entries) }),
    );
  });

  void test('observing a node never started is a programming error, not a violation', () => {
    assert.throws(() => new InvariantChecker().observeCommit(9, []), /before startLifetime/);
  });
});
