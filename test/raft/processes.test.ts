/**
 * Three Raft nodes as processes over TCP on 127.0.0.1, each on its own data dir: a leader is
 * elected and commits; SIGKILL of the leader; a new leader is elected and commits within a
 * bounded time; the killed node restarts on its data dir and catches up; no entry acknowledged
 * as committed is lost (each is in every node's committed sequence, in order). Every wait is
 * bounded and every child is killed at the end, whatever happened.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { DescribeQuorumRequest } from '../../src/protocol/generated/message/DescribeQuorumRequest.js';
import { DescribeQuorumResponse } from '../../src/protocol/generated/message/DescribeQuorumResponse.js';
import { METADATA_TOPIC_NAME } from '../../src/raft/types.js';
import { RawClient } from '../broker/raw-client.js';
import { Cluster, freePorts, type NodeProcess } from './support/node-process.js';

/** Short timeouts keep the test fast on loopback. */
const ELECTION_TIMEOUT_MS = 300;
const FETCH_TIMEOUT_MS = 600;
const FETCH_MAX_WAIT_MS = 100;
/** Bounds on the waits (generous: processes start through tsx on a shared machine). */
const LEADER_WAIT_MS = 20_000;
const NEW_LEADER_COMMIT_WAIT_MS = 20_000;
const CATCH_UP_WAIT_MS = 20_000;
/** Proposals before and after the kill (RAFT_PROC_PROPOSALS scales them). */
const PROPOSALS = Number(process.env['RAFT_PROC_PROPOSALS'] ?? 20);
const ENTRIES_PER_PROPOSAL = 5;

/** Prints every node's log lines (and exits) in time order, times relative to `originMs`. */
function printTrace(cluster: Cluster, originMs: number): void {
  const lines = [...cluster.nodes.values()].flatMap((p) => [
    ...p.logs.map((e) => ({ id: p.id, tMs: e.tMs, text: String(e['message']) })),
    ...p.events.map((e) => ({ id: p.id, tMs: e.tMs, text: JSON.stringify(e).slice(0, 200) })),
  ]);
  for (const l of lines.sort((x, y) => x.tMs - y.tMs))
    console.log(`# ${l.tMs - originMs} ms node ${l.id}: ${l.text}`);
}

interface Acked {
  offset: number;
  data: string[];
}

/** Proposes `data` to `node`; the acknowledgement (offset of the last entry) or null when refused. */
async function propose(node: NodeProcess, data: string[]): Promise<Acked | null> {
  const r = await node.command({ cmd: 'propose', data }, 10_000);
  return r['ok'] === true ? { offset: r['offset'] as number, data } : null;
}

void test('three processes over TCP: the leader is SIGKILLed, a new one commits, the old one catches up, nothing committed is lost', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-raft-procs-'));
  const ids = [1, 2, 3];
  const cluster = new Cluster({
    ids,
    ports: await freePorts(3),
    dirOf: (id) => path.join(root, `node-${id}`),
    args: [
      '--election-timeout-ms',
      String(ELECTION_TIMEOUT_MS),
      '--fetch-timeout-ms',
      String(FETCH_TIMEOUT_MS),
      '--election-backoff-max-ms',
      String(ELECTION_TIMEOUT_MS),
      '--fetch-max-wait-ms',
      String(FETCH_MAX_WAIT_MS),
    ],
  });
  const startedAtMs = Date.now();
  try {
    await Promise.all(ids.map((id) => cluster.start(id)));
    const first = await cluster.waitForLeader(LEADER_WAIT_MS);
    // DescribeQuorum over the wire, as Kafka's tools ask it: the leader lists the three voters.
    const portOf = (id: number): number => Number(cluster.voters.split(',')[ids.indexOf(id)]!.split(':')[1]);
    const raw = await RawClient.open(portOf(first.leader.id));
    try {
      const described = await raw.send(DescribeQuorumRequest, DescribeQuorumResponse, 2, {
        ...DescribeQuorumRequest.create(),
        topics: [{ topicName: METADATA_TOPIC_NAME, partitions: [{ partitionIndex: 0 }] }],
      });
      const q = described.topics[0]?.partitions[0];
      assert.equal(q?.errorCode, 0, 'the leader answers DescribeQuorum');
      assert.equal(q?.leaderId, first.leader.id);
      assert.deepEqual(
        q?.currentVoters.map((v) => v.replicaId),
        ids,
        'the voters',
      );
    } finally {
      raw.close();
    }
    const acked: Acked[] = [];
    for (let i = 0; i < PROPOSALS; i++) {
      const data = Array.from({ length: ENTRIES_PER_PROPOSAL }, (_, k) => `before-${i}-${k}`);
      const a = await propose(first.leader, data);
      assert.ok(a !== null, `the leader (node ${first.leader.id}) commits proposal ${i}`);
      acked.push(a);
    }
    // Proposals in flight when the leader dies: their fate is unknown, and either is fine.
    const inFlight = [0, 1, 2].map((i) => propose(first.leader, [`in-flight-${i}`]).catch(() => null));

    await first.leader.kill();
    const killedAtMs = Date.now();
    void Promise.all(inFlight);

    // A new leader is elected and commits.
    let newLeader: NodeProcess | null = null;
    let commitAfterKillMs = -1;
    const deadline = killedAtMs + NEW_LEADER_COMMIT_WAIT_MS;
    for (let attempt = 0; newLeader === null && Date.now() < deadline; attempt++) {
      for (const p of cluster.live()) {
        const a = await propose(p, [`after-kill-${attempt}`]).catch(() => null);
        if (a !== null) {
          commitAfterKillMs = Date.now() - killedAtMs;
          newLeader = p;
          acked.push(a);
          break;
        }
      }
      if (newLeader === null) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(newLeader !== null, `a new leader commits within ${NEW_LEADER_COMMIT_WAIT_MS} ms of the kill`);
    assert.notEqual(newLeader.id, first.leader.id);
    const second = await cluster.waitForLeader(LEADER_WAIT_MS, first.epoch);
    assert.equal(second.leader.id, newLeader.id, 'the survivors agree on the new leader');
    for (let i = 0; i < PROPOSALS; i++) {
      const a = await propose(newLeader, [`after-${i}`, `after-${i}-b`]);
      assert.ok(a !== null, `the new leader commits proposal ${i}`);
      acked.push(a);
    }

    // The killed node restarts on its data dir and catches up.
    const restarted = await cluster.start(first.leader.id);
    const leaderHw = (await newLeader.state()).highWatermark;
    const catchUpDeadline = Date.now() + CATCH_UP_WAIT_MS;
    let caughtUp = false;
    while (!caughtUp && Date.now() < catchUpDeadline) {
      const s = await restarted.state();
      caughtUp = s.appliedEnd >= leaderHw && s.role === 'follower' && s.leaderId === newLeader.id;
      if (!caughtUp) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(caughtUp, `node ${restarted.id} applies up to the leader's high watermark ${leaderHw}`);
    // One more commit with all three up, so every node has applied everything acknowledged.
    const last = await propose(newLeader, ['last']);
    assert.ok(last !== null, 'a commit with the restarted node back');
    acked.push(last);
    for (const p of cluster.live()) {
      const waitUntil = Date.now() + CATCH_UP_WAIT_MS;
      while ((await p.state()).appliedEnd <= last.offset) {
        assert.ok(Date.now() < waitUntil, `node ${p.id} applies the last entry`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    // No acknowledged entry is lost: each is in every node's sequence, in acknowledgement order.
    const expected = acked.sort((a, b) => a.offset - b.offset).flatMap((a) => a.data);
    const sequences = new Map<number, string[]>();
    for (const p of cluster.live()) {
      const dump = await p.command({ cmd: 'dump' });
      sequences.set(p.id, dump['entries'] as string[]);
    }
    for (const [id, seq] of sequences) {
      const position = new Map(seq.map((d, i) => [d, i]));
      let previous = -1;
      for (const d of expected) {
        const at = position.get(d);
        assert.ok(at !== undefined, `node ${id} has committed entry ${d}`);
        assert.ok(at > previous, `node ${id} has ${d} after the entries acknowledged before it`);
        previous = at;
      }
    }
    const [a, b, c] = [...sequences.values()];
    assert.deepEqual(a, b, 'nodes agree on the committed sequence');
    assert.deepEqual(b, c, 'nodes agree on the committed sequence');
    const restartEvent = restarted.events.find((e) => e.event === 'ready');
    assert.ok((restartEvent?.['logEnd'] as number) > 0, 'the restarted node recovered its log from disk');
    if (process.env['RAFT_PROC_TRACE'] === '1') printTrace(cluster, killedAtMs);
    console.log(
      `# new leader committed ${commitAfterKillMs} ms after the SIGKILL ` +
        `(election timeout ${ELECTION_TIMEOUT_MS} ms, fetch timeout ${FETCH_TIMEOUT_MS} ms); ` +
        `${expected.length} entries acknowledged, ${a?.length ?? 0} committed on every node`,
    );
  } catch (e) {
    // The nodes' own account of what happened, to tell a slow machine from a bug.
    printTrace(cluster, startedAtMs);
    throw e;
  } finally {
    await cluster.killAll();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

void test('a follower that was down while the others snapshotted catches up from the snapshot (FetchSnapshot over TCP)', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-raft-procs-'));
  const ids = [1, 2, 3];
  const cluster = new Cluster({
    ids,
    ports: await freePorts(3),
    dirOf: (id) => path.join(root, `node-${id}`),
    args: [
      '--election-timeout-ms',
      String(ELECTION_TIMEOUT_MS),
      '--fetch-timeout-ms',
      String(FETCH_TIMEOUT_MS),
      '--election-backoff-max-ms',
      String(ELECTION_TIMEOUT_MS),
      '--fetch-max-wait-ms',
      String(FETCH_MAX_WAIT_MS),
    ],
  });
  const startedAtMs = Date.now();
  try {
    await Promise.all(ids.map((id) => cluster.start(id)));
    const { leader } = await cluster.waitForLeader(LEADER_WAIT_MS);
    const acked: Acked[] = [];
    const commit = async (tag: string): Promise<void> => {
      for (let i = 0; i < PROPOSALS; i++) {
        const a = await propose(leader, [`${tag}-${i}`, `${tag}-${i}-b`]);
        assert.ok(a !== null, `the leader commits ${tag}-${i}`);
        acked.push(a);
      }
    };
    await commit('early');
    const down = cluster.live().find((p) => p !== leader)!;
    await down.kill();
    await commit('while-down');
    // Both running nodes snapshot what they applied and drop their logs below it.
    const snapshotEnds: number[] = [];
    for (const p of cluster.live()) {
      const waitUntil = Date.now() + CATCH_UP_WAIT_MS;
      while ((await p.state()).appliedEnd <= acked.at(-1)!.offset) {
        assert.ok(Date.now() < waitUntil, `node ${p.id} applies everything before its snapshot`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const r = await p.command({ cmd: 'snapshot' });
      assert.equal(r['ok'], true, `node ${p.id} takes a snapshot`);
      snapshotEnds.push(r['endOffset'] as number);
    }
    const leaderState = await leader.state();
    assert.ok(
      leaderState.logStart > 0,
      `the leader's log starts after its snapshot (${leaderState.logStart})`,
    );

    const back = await cluster.start(down.id);
    await commit('after');
    // Followers hear of the last commit with their next fetch: every node applies it.
    for (const p of cluster.live()) {
      const waitUntil = Date.now() + CATCH_UP_WAIT_MS;
      while ((await p.state()).appliedEnd <= acked.at(-1)!.offset) {
        assert.ok(Date.now() < waitUntil, `node ${p.id} catches up`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.ok(
      back.events.some((e) => e.event === 'snapshot-loaded'),
      'the returning node loaded the snapshot it fetched',
    );
    const expected = acked.sort((a, b) => a.offset - b.offset).flatMap((a) => a.data);
    for (const p of cluster.live()) {
      const seq = (await p.command({ cmd: 'dump' }))['entries'] as string[];
      assert.deepEqual(seq, expected, `node ${p.id} has every acknowledged entry, in order`);
    }
  } catch (e) {
    printTrace(cluster, startedAtMs);
    throw e;
  } finally {
    await cluster.killAll();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
