/**
 * The simulator's pieces on their own: seeded randomness, the event queue, skewed clocks,
 * the network, the state machine's snapshots, the trace and the wire round trip.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VoteRequest } from '../../src/protocol/generated/message/VoteRequest.js';
import type { RaftMessage } from '../../src/raft/types.js';
import { SkewedClock } from './sim/clock.js';
import { EventQueue } from './sim/event-queue.js';
import { decodeWire, describeMessage, encodeWire } from './sim/messages.js';
import { Network } from './sim/network.js';
import { Rng, streamSeed } from './sim/rng.js';
import { scheduleParams } from './sim/schedule.js';
import { applyEntry, decodeSnapshot, encodeSnapshot, STATE_HASH_INIT } from './sim/state-machine.js';
import { Trace } from './sim/trace.js';

void describe('Rng', () => {
  void test('a seed gives the same sequence; another seed another one', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seqA = Array.from({ length: 20 }, () => a.next());
    assert.deepEqual(
      Array.from({ length: 20 }, () => b.next()),
      seqA,
    );
    assert.notDeepEqual(
      Array.from({ length: 20 }, () => c.next()),
      seqA,
    );
    for (const x of seqA) assert.ok(x >= 0 && x < 1, `${x} is in [0, 1)`);
  });

  void test('helpers stay in their ranges and are roughly uniform', () => {
    const r = new Rng(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[r.int(4)]!++;
    for (const c of counts) assert.ok(c > 850 && c < 1150, `bucket count ${c} is near 1000`);
    for (let i = 0; i < 100; i++) {
      const x = r.range(5, 6);
      assert.ok(x >= 5 && x < 6, `range gave ${x}`);
    }
    assert.equal(r.chance(0), false);
    assert.throws(() => r.pick([]), /empty/);
    const mean = Array.from({ length: 4000 }, () => r.exponential(100)).reduce((s, x) => s + x, 0) / 4000;
    assert.ok(mean > 90 && mean < 110, `exponential mean ${mean} is near 100`);
  });

  void test('streams of one seed differ, and are stable', () => {
    assert.notEqual(streamSeed(1, 1), streamSeed(1, 2));
    assert.notEqual(streamSeed(1, 1), streamSeed(2, 1));
    assert.equal(streamSeed(123, 4), streamSeed(123, 4));
  });
});

void describe('EventQueue', () => {
  void test('pops by time, and in insertion order at equal times', () => {
    const q = new EventQueue<string>();
    const r = new Rng(1);
    const pushed: { at: number; id: string }[] = [];
    for (let i = 0; i < 500; i++) {
      const at = r.int(50);
      q.push(at, `e${i}`);
      pushed.push({ at, id: `e${i}` });
    }
    const expected = [...pushed].sort((x, y) => x.at - y.at).map((x) => x.id);
    const popped: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) popped.push(e.event);
    assert.deepEqual(popped, expected, 'a stable sort by time');
    assert.equal(q.size, 0);
    assert.equal(q.peek(), undefined);
  });

  void test('interleaved pushes and pops keep the order', () => {
    const q = new EventQueue<number>();
    q.push(10, 10);
    q.push(5, 5);
    assert.equal(q.pop()?.event, 5);
    q.push(7, 7);
    q.push(20, 20);
    assert.equal(q.peek()?.atMs, 7);
    assert.deepEqual([q.pop()?.event, q.pop()?.event, q.pop()?.event, q.pop()], [7, 10, 20, undefined]);
  });

  void test('refuses a time that is not a number', () => {
    assert.throws(() => new EventQueue<number>().push(Number.NaN, 1), /NaN/);
  });
});

void describe('SkewedClock', () => {
  void test('local time runs at its rate from its origin', () => {
    const c = new SkewedClock(0.01, 1000);
    assert.equal(c.local(0), 1000);
    assert.equal(c.local(100), 1101);
  });

  void test('globalAt is the earliest global time reading at least the local time, despite rounding', () => {
    const r = new Rng(3);
    for (let i = 0; i < 2000; i++) {
      const c = new SkewedClock(r.range(-0.01, 0.01), r.range(0, 1e9));
      const local = c.local(r.range(0, 60_000)) + r.range(0, 5000);
      const g = c.globalAt(local);
      assert.ok(c.local(g) >= local, `clock ${i}: local(globalAt(x)) >= x`);
      assert.ok(c.local(g - 0.01) < local, `clock ${i}: not much later than needed`);
    }
  });

  void test('refuses a rate that stops time', () => {
    assert.throws(() => new SkewedClock(-1, 0), /stop or reverse/);
  });
});

void describe('Network', () => {
  const faults = { dropProbability: 0, duplicateProbability: 0, delayMinMs: 10, delayMaxMs: 20 };

  void test('delivers once within the delay range when nothing is wrong', () => {
    const n = new Network(3, new Rng(1), faults);
    for (let i = 0; i < 100; i++) {
      const times = n.route(0, 1, 1000);
      assert.equal(times.length, 1);
      assert.ok(times[0]! >= 1010 && times[0]! < 1020, `delivery at ${times[0]}`);
    }
  });

  void test('drops and duplicates at about their probabilities', () => {
    const n = new Network(2, new Rng(2), { ...faults, dropProbability: 0.2, duplicateProbability: 0.1 });
    let dropped = 0;
    let twice = 0;
    for (let i = 0; i < 5000; i++) {
      const k = n.route(0, 1, 0).length;
      if (k === 0) dropped++;
      if (k === 2) twice++;
    }
    assert.ok(dropped > 900 && dropped < 1100, `${dropped} of 5000 dropped`);
    assert.ok(twice > 320 && twice < 480, `${twice} of 5000 duplicated`);
  });

  void test('a symmetric partition cuts both ways between the sides only', () => {
    const n = new Network(4, new Rng(3), faults);
    n.partition([0, 1]);
    assert.equal(n.isBlocked(0, 2), true);
    assert.equal(n.isBlocked(3, 1), true);
    assert.equal(n.isBlocked(0, 1), false);
    assert.equal(n.isBlocked(2, 3), false);
    assert.deepEqual(n.route(0, 2, 0), []);
    assert.equal(n.describe(), 'blocked 0->2 0->3 1->2 1->3 2->0 2->1 3->0 3->1');
    n.heal();
    assert.equal(n.isBlocked(0, 2), false);
    assert.equal(n.describe(), 'healed');
  });

  void test('a one-way block leaves the other direction open', () => {
    const n = new Network(3, new Rng(4), faults);
    n.blockOneWay(2, 0);
    assert.equal(n.isBlocked(2, 0), true);
    assert.equal(n.isBlocked(0, 2), false);
    assert.equal(n.route(0, 2, 0).length, 1);
  });

  void test('the same seed routes the same way', () => {
    const f = { ...faults, dropProbability: 0.3, duplicateProbability: 0.3 };
    const a = new Network(3, new Rng(9), f);
    const b = new Network(3, new Rng(9), f);
    for (let i = 0; i < 100; i++) assert.deepEqual(a.route(0, 1, i), b.route(0, 1, i));
  });
});

void describe('state machine snapshots', () => {
  void test('a snapshot round-trips its state and padding', () => {
    const hash = applyEntry(STATE_HASH_INIT, { offset: 0, epoch: 1, data: Buffer.from('x') });
    const data = encodeSnapshot({ endOffset: 1, hash }, 300);
    assert.equal(data.length, 320);
    assert.deepEqual(decodeSnapshot(data), { endOffset: 1, hash });
  });

  void test('a lost, repeated or corrupt chunk shows', () => {
    const data = encodeSnapshot({ endOffset: 9, hash: 1234 }, 100);
    /** The reason a snapshot does not decode (a decoded state is a test failure). */
    const problem = (b: Buffer): string => {
      const r = decodeSnapshot(b);
      assert.ok(typeof r === 'string', 'the snapshot does not decode');
      return r;
    };
    assert.match(problem(data.subarray(0, 60)), /header says 120/);
    assert.match(problem(Buffer.concat([data.subarray(0, 60), data.subarray(40)])), /140 bytes/);
    const swapped = Buffer.concat([
      data.subarray(0, 40),
      data.subarray(60, 80),
      data.subarray(40, 60),
      data.subarray(80),
    ]);
    assert.match(problem(swapped), /corrupt/);
    assert.match(problem(Buffer.alloc(5)), /shorter than its header/);
  });

  void test('the state hash depends on order, epochs and entry boundaries', () => {
    const e = (offset: number, epoch: number, s: string) => ({ offset, epoch, data: Buffer.from(s) });
    const run = (...entries: ReturnType<typeof e>[]) => entries.reduce(applyEntry, STATE_HASH_INIT);
    assert.notEqual(run(e(0, 1, 'a'), e(1, 1, 'b')), run(e(0, 1, 'b'), e(1, 1, 'a')));
    assert.notEqual(run(e(0, 1, 'a')), run(e(0, 2, 'a')));
    assert.notEqual(run(e(0, 1, 'ab')), run(e(0, 1, 'a'), e(1, 1, 'b')));
  });
});

void describe('Trace', () => {
  void test('keeps the last lines, formatting them only when asked', () => {
    const t = new Trace(3);
    let formatted = 0;
    for (let i = 0; i < 5; i++) {
      t.add(i, () => {
        formatted++;
        return `line ${i}`;
      });
    }
    assert.equal(formatted, 0);
    assert.deepEqual(
      t.lines().map((l) => l.trim()),
      ['2.000 line 2', '3.000 line 3', '4.000 line 4'],
    );
    assert.equal(formatted, 3);
  });

  void test('a live trace writes each line at once', () => {
    const out: string[] = [];
    const t = new Trace(2, (l) => out.push(l.trim()));
    t.add(1.5, 'a');
    t.add(2, () => 'b');
    assert.deepEqual(out, ['1.500 a', '2.000 b']);
  });
});

void describe('wire messages', () => {
  void test('a message survives encoding and decoding, tagged fields included', () => {
    const message: RaftMessage = {
      type: 'VoteRequest',
      correlationId: 7,
      body: {
        ...VoteRequest.create(),
        clusterId: 'sim',
        voterId: 2,
        topics: [
          {
            topicName: '__cluster_metadata',
            partitions: [
              {
                partitionIndex: 0,
                candidateEpoch: 5,
                candidateId: 1,
                candidateDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
                voterDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
                lastOffsetEpoch: 4,
                lastOffset: 99n,
                unknownTaggedFields: [{ tag: 1000, data: Buffer.from([1]) }],
              },
            ],
          },
        ],
      },
    };
    const wire = encodeWire(message);
    const back = decodeWire(wire);
    assert.equal(back.type, 'VoteRequest');
    assert.equal(back.correlationId, 7);
    assert.equal(describeMessage(back), 'VoteRequest#7 cand=1 e=5 last=99@4 (tagged)');
    assert.deepEqual(encodeWire(back).bytes, wire.bytes, 'what was decoded encodes to the same bytes');
  });

  void test('a truncated message does not decode', () => {
    const wire = encodeWire({
      type: 'VoteRequest',
      correlationId: 1,
      body: { ...VoteRequest.create(), clusterId: 'sim', voterId: 1, topics: [] },
    });
    assert.throws(() => decodeWire({ ...wire, bytes: wire.bytes.subarray(0, 2) }), /does not decode/);
  });
});

void test('schedule parameters are a function of the seed and honour overrides', () => {
  assert.deepEqual(scheduleParams(11), scheduleParams(11));
  const p = scheduleParams(11, {
    voterCount: 5,
    observerCount: 1,
    unsafe: { grantVoteWithoutLogCheck: true },
  });
  assert.equal(p.voterCount, 5);
  assert.equal(p.observerCount, 1);
  assert.equal(p.clocks.length, 6);
  assert.equal(p.config.unsafe?.grantVoteWithoutLogCheck, true);
  for (const c of p.clocks) assert.ok(Math.abs(c.skew) <= 0.01, `skew ${c.skew} within 1%`);
});
