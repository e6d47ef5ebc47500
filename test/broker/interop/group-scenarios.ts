/**
 * The consumer group scenarios, each run with every third-party client (groups-node.test.ts,
 * groups-python.test.ts) through the harness in groups.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONSUME_WAIT_MS,
  GROUP_BROKER_CONFIG,
  PARTITIONS,
  SESSION_TIMEOUT_MS,
  STABLE_WAIT_MS,
  STATIC_SESSION_TIMEOUT_MS,
  Scenario,
  waitUntil,
  withScenario,
  type Client,
  type Journal,
  type Member,
  type MemberEvent,
  type MemberOptions,
} from './groups.js';
import { freePort, SamsaProcess } from './process.js';

/**
 * Two then three members split the partitions; the leader leaves (LeaveGroup), then the next
 * leader crashes (SIGKILL, with records read but not committed: its session expires). After
 * each change the group is stable again with a new leader, no overlap and no gap; records
 * produced then are consumed by their partition's new owner, and the crashed member's
 * partitions resume exactly at its last committed offsets, so what it read without committing
 * is read again.
 */
export async function membershipScenario(
  client: Client,
  diagnostic: (message: string) => void,
): Promise<void> {
  await withScenario(client, `${client.name}-membership`, async (s) => {
    const live = [s.startMember('a'), s.startMember('b')];
    let owners = await s.waitStable(live, 'two members');
    for (const ps of owners.values()) assert.equal(ps.length, 3, 'two members: three partitions each');
    let batch = await s.produce(20);
    await s.waitConsumed(batch, 'batch 1');
    s.checkOwners(batch, owners, 'batch 1');

    live.push(s.startMember('c'));
    owners = await s.waitStable(live, 'a third member joined');
    for (const ps of owners.values()) assert.equal(ps.length, 2, 'three members: two partitions each');
    batch = await s.produce(20);
    await s.waitConsumed(batch, 'batch 2');
    s.checkOwners(batch, owners, 'batch 2');

    const leaver = s.leader(live);
    live.splice(live.indexOf(leaver), 1);
    await leaver.stop();
    owners = await s.waitStable(live, `the leader ${leaver.name} left the group`);
    assert.notEqual(s.leader(live), leaver, 'a new leader');
    batch = await s.produce(20);
    await s.waitConsumed(batch, 'batch 3');
    s.checkOwners(batch, owners, 'batch 3');

    // The leader reads the next batch without committing it, then crashes: the survivor must read it again.
    const victim = s.leader(live);
    const survivor = live.find((m) => m !== victim)!;
    const victimPartitions = owners.get(victim)!;
    await victim.command('nocommit');
    const committed = await s.committed();
    batch = await s.produce(20);
    await s.waitConsumed(batch, 'batch 4');
    s.checkOwners(batch, owners, 'batch 4');
    const uncommitted = new Set(
      victim.events().flatMap((e) => (e.event === 'record' && e.value.startsWith('b4-') ? [e.value] : [])),
    );
    assert.equal(uncommitted.size, 20 * victimPartitions.length, `${victim.name} read its share of batch 4`);
    const killedAt = Date.now();
    await victim.kill();
    owners = await s.waitStable([survivor], `the leader ${victim.name} crashed and its session expired`);
    const tookMs = Date.now() - killedAt;
    assert.ok(
      tookMs >= SESSION_TIMEOUT_MS - 1000,
      `the crash was noticed by the session timeout (${tookMs} ms), not a LeaveGroup`,
    );
    assert.equal(s.leader([survivor]), survivor, 'the survivor leads');
    assert.deepEqual(owners.get(survivor), [0, 1, 2, 3, 4, 5], 'the last member owns every partition');
    await waitUntil(
      `${survivor.name} read again what ${victim.name} read but did not commit`,
      CONSUME_WAIT_MS,
      () => {
        const read = new Set(survivor.events().flatMap((e) => (e.event === 'record' ? [e.value] : [])));
        return [...uncommitted].every((v) => read.has(v));
      },
      () => s.state(),
    );
    for (const p of victimPartitions) {
      assert.equal(
        survivor.firstOffsetSinceAssigned(p),
        committed.get(p),
        `${survivor.name} resumed ${victim.name}'s partition ${p} at its last committed offset`,
      );
    }
    batch = await s.produce(20);
    await s.waitConsumed(batch, 'batch 5');
    s.checkOwners(batch, owners, 'batch 5');
    await survivor.stop();
    s.checkJournal();
    diagnostic(`leaver ${leaver.name}, crashed ${victim.name}; ${s.summary()}`);
  });
}

/**
 * A member reads part of the topic, commits and stops; the next member of the group starts
 * each partition exactly at the committed offset: nothing consumed twice, nothing skipped.
 */
export async function resumeScenario(client: Client, diagnostic: (message: string) => void): Promise<void> {
  await withScenario(client, `${client.name}-resume`, async (s) => {
    const perPartition = 50;
    const limit = 123;
    const batch = await s.produce(perPartition);
    const first = s.startMember('first', { maxRecords: limit });
    const exit = await first.waitExit(CONSUME_WAIT_MS);
    assert.ok(exit !== null, `first stopped by itself after ${limit} records\n${s.state()}`);
    assert.equal(exit.code, 0, `first exited cleanly\n${first.stderr}`);
    const consumedFirst = first.events().filter((e) => e.event === 'record').length;
    assert.equal(consumedFirst, limit, `first read exactly ${limit} records`);
    const acked = first.lastCommitted();
    assert.ok(
      [...acked.values()].some((o) => o > 0 && o < perPartition),
      `some partition committed part-way: ${JSON.stringify([...acked])}`,
    );
    const broker = await s.committed();
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(
        broker.get(p),
        acked.get(p) ?? -1,
        `OffsetFetch answers partition ${p}'s last acknowledged commit`,
      );
    }

    const second = s.startMember('second');
    await s.waitConsumed(batch, 'the rest of the topic');
    await second.stop();
    const firstOffset = new Map<number, number>();
    for (const e of second.events()) {
      if (e.event === 'record' && !firstOffset.has(e.partition)) firstOffset.set(e.partition, e.offset);
    }
    for (let p = 0; p < PARTITIONS; p++) {
      const committed = acked.get(p) ?? 0;
      if (committed === perPartition) {
        assert.equal(firstOffset.get(p), undefined, `partition ${p} was fully committed: nothing more read`);
      } else {
        assert.equal(
          firstOffset.get(p),
          committed,
          `second resumed partition ${p} exactly at the committed offset`,
        );
      }
    }
    const values = s.journal.entries.flatMap((x) => (x.e.event === 'record' ? [x.e.value] : []));
    assert.equal(values.length, batch.length, 'every record read exactly once over both members');
    assert.equal(new Set(values).size, batch.length, 'no record read twice');
    s.checkJournal();
    diagnostic(s.summary());
  });
}

/** The highest acknowledged commit of each partition in the journal's first `entries` lines. */
function ackedCommits(journal: Journal, entries: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const { e } of journal.entries.slice(0, entries)) {
    if (e.event !== 'committed') continue;
    for (const [p, o] of Object.entries(e.offsets)) m.set(Number(p), Math.max(o, m.get(Number(p)) ?? 0));
  }
  return m;
}

/**
 * The broker (a `samsa server` process) is SIGKILLed and started again on the same data, three
 * times under a live group: when everything read is committed (the committed offsets come back
 * exactly), in the middle of consumption (every acknowledged commit comes back), and as a new
 * member's join starts a rebalance (the rebalance in progress is lost; members rejoin). Each
 * time the group becomes stable again with the same member processes, which carry on without
 * re-reading what they had committed.
 */
export async function restartScenario(client: Client, diagnostic: (message: string) => void): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-group-restart-'));
  const port = await freePort();
  const overrides = Object.entries(GROUP_BROKER_CONFIG).map(([k, v]) => `${k}=${v}`);
  let broker = await SamsaProcess.start({ port, dataDir, overrides });
  const s = new Scenario(client, broker.bootstrap, `${client.name}-restart`);
  const restart = async (): Promise<void> => {
    broker.kill('SIGKILL');
    await broker.exited;
    broker = await SamsaProcess.start({ port, dataDir, overrides });
    await s.reconnect(broker.bootstrap);
  };
  /** Records read after journal line `from` start no lower than `floor` in their partition. */
  const noReread = (from: number, floor: Map<number, number>, when: string): void => {
    for (const { member, e } of s.journal.entries.slice(from)) {
      if (e.event !== 'record') continue;
      assert.ok(
        e.offset >= (floor.get(e.partition) ?? 0),
        `${member.name} re-read committed ${e.value} (partition ${e.partition} offset ${e.offset}) after the ${when}`,
      );
    }
  };
  try {
    await s.connect();
    await s.createTopic();
    const a = s.startMember('a');
    const b = s.startMember('b');
    let owners = await s.waitStable([a, b], 'before the restarts');
    const batch1 = await s.produce(30);
    await s.waitConsumed(batch1, 'batch 1');
    s.checkOwners(batch1, owners, 'batch 1');
    await waitUntil(
      'batch 1 is committed',
      CONSUME_WAIT_MS,
      async () => [...(await s.committed()).values()].every((o) => o === 30),
      () => s.state(),
    );

    // 1. Everything read is committed: the committed offsets are known exactly.
    const before = await s.committed();
    assert.equal(before.size, PARTITIONS, 'a committed offset for every partition');
    const firstKill = s.journal.seq;
    await restart();
    assert.deepEqual(await s.committed(), before, 'the committed offsets survived the first restart');
    owners = await s.waitStable([a, b], 'after the first restart');

    // 2. In the middle of consumption: members read slowly, the broker dies after some records.
    await a.command('slow');
    await b.command('slow');
    const batch2 = await s.produce(60);
    const batch2Values = new Set(batch2.map((r) => r.value));
    const readOfBatch2 = (): number =>
      new Set(
        s.journal.entries.flatMap((x) =>
          x.e.event === 'record' && batch2Values.has(x.e.value) ? [x.e.value] : [],
        ),
      ).size;
    await waitUntil(
      'members are reading batch 2',
      CONSUME_WAIT_MS,
      () => readOfBatch2() >= 60,
      () => s.state(),
    );
    const secondKill = s.journal.seq;
    const acked = ackedCommits(s.journal, secondKill);
    const readAtKill = readOfBatch2();
    assert.ok(
      readAtKill < batch2.length,
      `the second kill came in the middle of batch 2 (${readAtKill} read)`,
    );
    await restart();
    const after = await s.committed();
    for (let p = 0; p < PARTITIONS; p++) {
      assert.ok(
        (after.get(p) ?? -1) >= (acked.get(p) ?? 0),
        `partition ${p}: OffsetFetch after the restart (${after.get(p)}) has the last acknowledged commit (${acked.get(p)})`,
      );
    }
    await s.waitConsumed(batch2, 'batch 2, across the second restart');
    owners = await s.waitStable([a, b], 'after the second restart');
    const batch3 = await s.produce(10);
    await s.waitConsumed(batch3, 'batch 3');
    s.checkOwners(batch3, owners, 'batch 3');

    // 3. During a rebalance: a third member joins, and the broker dies as the group starts rebalancing.
    await waitUntil(
      'batch 3 is committed',
      CONSUME_WAIT_MS,
      async () => [...(await s.committed()).values()].every((o) => o === 100),
      () => s.state(),
    );
    const committedBeforeThird = await s.committed();
    const c = s.startMember('c');
    // The broker logs "preparing to rebalance (…; member <client id>-<uuid> joined …)".
    await broker.waitFor(`member ${c.clientId}-`, STABLE_WAIT_MS);
    const thirdKill = s.journal.seq;
    await restart();
    assert.deepEqual(
      await s.committed(),
      committedBeforeThird,
      'the committed offsets survived the third restart',
    );
    owners = await s.waitStable([a, b, c], 'a member joined as the broker died');
    const batch4 = await s.produce(10);
    await s.waitConsumed(batch4, 'batch 4');
    s.checkOwners(batch4, owners, 'batch 4');
    await waitUntil(
      'everything is committed',
      CONSUME_WAIT_MS,
      async () => [...(await s.committed()).values()].every((o) => o === 110),
      () => s.state(),
    );
    noReread(firstKill, before, 'first restart');
    noReread(secondKill, acked, 'second restart');
    noReread(thirdKill, committedBeforeThird, 'third restart');
    for (const m of [a, b, c]) await m.stop();
    s.checkJournal();
    diagnostic(`second kill after ${readAtKill} of ${batch2.length} records of batch 2; ${s.summary()}`);
  } finally {
    await s.close();
    await broker.stop('SIGKILL').catch(() => undefined);
    await SamsaProcess.killAll();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Two static members (group.instance.id). The group's leader crashes and a new process with
 * its instance id starts within the session timeout: it gets the same partitions back, the
 * other member sees no rebalance, the generation stays the same, and both carry on. Then the
 * same for the other member (a follower's restart takes another path in the coordinator).
 */
export async function staticMemberScenario(
  client: Client,
  diagnostic: (message: string) => void,
): Promise<void> {
  await withScenario(client, `${client.name}-static`, async (s) => {
    const staticOptions = (id: string): Partial<MemberOptions> => ({
      instanceId: `${client.name}-${id}`,
      clientId: `${client.name}-${id}`,
      sessionTimeoutMs: STATIC_SESSION_TIMEOUT_MS,
      rebalanceTimeoutMs: STATIC_SESSION_TIMEOUT_MS,
    });
    const live = new Map<string, Member>([
      ['a', s.startMember('a', staticOptions('a'))],
      ['b', s.startMember('b', staticOptions('b'))],
    ]);
    let owners = await s.waitStable([...live.values()], 'two static members');
    const partitionsOf = new Map([...live].map(([id, m]) => [id, owners.get(m)!]));
    let batch = await s.produce(20);
    await s.waitConsumed(batch, 'batch 1');
    s.checkOwners(batch, owners, 'batch 1');
    const generation = s.generation();
    const order = s.leader([...live.values()]) === live.get('a') ? ['a', 'b'] : ['b', 'a'];

    for (const [round, id] of order.entries()) {
      const role = round === 0 ? 'the leader' : 'a follower';
      const victim = live.get(id)!;
      const others = [...live].filter(([, m]) => m !== victim);
      const rebalances = (m: Member): MemberEvent[] =>
        m.events().filter((e) => e.event === 'assigned' || e.event === 'revoked');
      const rebalancesBefore = others.map(([, m]) => rebalances(m).length);
      const killedAt = Date.now();
      await victim.kill();
      const replacement = s.startMember(`${id}${round + 2}`, staticOptions(id));
      live.set(id, replacement);
      owners = await s.waitStable([...live.values()], `${role} restarted with its instance id`);
      const tookMs = Date.now() - killedAt;
      assert.ok(
        tookMs < STATIC_SESSION_TIMEOUT_MS,
        `${role} came back within its session timeout (${tookMs} ms)`,
      );
      assert.deepEqual(owners.get(replacement), partitionsOf.get(id), `${role} got its partitions back`);
      for (const [i, [otherId, m]] of others.entries()) {
        assert.deepEqual(owners.get(m), partitionsOf.get(otherId), `${m.name} kept its partitions`);
        assert.deepEqual(
          rebalances(m).slice(rebalancesBefore[i]),
          [],
          `no rebalance: ${m.name} saw no revocation or assignment\n${s.state()}`,
        );
      }
      // (A client may announce the same assignment twice: repeats are not rebalances.)
      const announced = rebalances(replacement).map((e) =>
        e.event === 'assigned' ? e.partitions.join() : 'revoked',
      );
      assert.deepEqual(
        announced.filter((x, i) => x !== announced[i - 1]),
        [partitionsOf.get(id)!.join()],
        `${role}'s new process was assigned its partitions once`,
      );
      assert.equal(s.generation(), generation, `no rebalance: still generation ${generation}`);
      batch = await s.produce(20);
      await s.waitConsumed(batch, `the batch after ${role}'s restart`);
      s.checkOwners(batch, owners, `the batch after ${role}'s restart`);
    }
    for (const m of live.values()) await m.stop();
    s.checkJournal();
    diagnostic(s.summary());
  });
}
