/**
 * The harness of the consumer group interop tests (the scenarios are in group-scenarios.ts):
 * members are child processes (group-member.ts for the Node clients, python/group_member.py for
 * the Python ones) that print JSON lines — assignments, records, commit attempts and
 * acknowledgements — into one journal. kafkajs, in the test process, is only the harness: it
 * creates the topic, produces, and asks the broker (DescribeGroups, OffsetFetch) what it believes.
 *
 * What every scenario checks: a Stable group's assignments (the broker's, decoded, and each
 * member's own last `assigned` line agree) cover the partitions with no overlap and no gap;
 * every record produced after a stable point is consumed, and only by the owner of its
 * partition; every record produced is consumed at least once; a member never reads a partition
 * it does not own; after each assignment a member starts each partition at an offset some member
 * committed (or 0 when none was): nothing committed is skipped or forgotten.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs, { logLevel, type Admin, type Producer } from 'kafkajs';
import type { MemberOptions } from './group-member.js';
import { repoRoot } from './process.js';
import { withBroker } from './support.js';

/** Why the broker-restart scenario cannot run here (it runs bin/samsa.js, the compiled CLI), or null when it can. */
export const RESTART_SKIP: string | null = existsSync(
  join(repoRoot(), 'dist', 'src', 'coordinator', 'group-coordinator.js'),
)
  ? null
  : 'the restart runs bin/samsa.js, the compiled CLI with the group coordinator: run `npm run build` first';

export type { MemberOptions };

export const PARTITIONS = 6;
/** Broker settings: no initial delay, short sessions allowed. */
export const GROUP_BROKER_CONFIG: Record<string, string> = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
};
export const SESSION_TIMEOUT_MS = 4000;
/** Long enough for a static member's restart, which must not rebalance. */
export const STATIC_SESSION_TIMEOUT_MS = 10_000;
export const HEARTBEAT_INTERVAL_MS = 500;
export const REBALANCE_TIMEOUT_MS = 10_000;
/** How long a group may take to settle after a change (a crashed member's session included). */
export const STABLE_WAIT_MS = 30_000;
export const CONSUME_WAIT_MS = 30_000;
const POLL_MS = 100;
const MEMBER_STOP_MS = 20_000;

/** How a client's member process is started. */
export interface Client {
  name: string;
  command(o: MemberOptions): { cmd: string; args: string[] };
  /**
   * Set (to the reason) for a client known to deliver records of partitions revoked by its last
   * rebalance (from a fetch sent before it): those reads are counted and reported instead of
   * failing the test. The broker's assignments are still checked for overlap in `waitStable`.
   */
  readsRevokedPartitions?: string;
}

export type MemberEvent =
  | { event: 'assigned'; partitions: number[] }
  | { event: 'revoked'; partitions: number[] }
  | { event: 'record'; partition: number; offset: number; value: string }
  | { event: 'commit' | 'committed'; offsets: Record<string, number> }
  | { event: 'commit-failed'; offsets: Record<string, number>; error: string }
  | { event: 'error'; error: string; message?: string; fatal?: boolean }
  | { event: 'nocommit' | 'slow' }
  | { event: 'closed' };

export interface Entry {
  /** Arrival order over all members of a scenario. */
  seq: number;
  member: Member;
  e: MemberEvent;
}

/** Every line of every member of one scenario, in arrival order. */
export class Journal {
  readonly entries: Entry[] = [];

  get seq(): number {
    return this.entries.length;
  }

  add(member: Member, e: MemberEvent): void {
    this.entries.push({ seq: this.entries.length, member, e });
  }

  /** Values consumed (by anyone) so far. */
  consumedValues(): Set<string> {
    const s = new Set<string>();
    for (const { e } of this.entries) if (e.event === 'record') s.add(e.value);
    return s;
  }

  /** The last lines, for assertion messages. */
  tail(n = 40): string {
    return this.entries
      .slice(-n)
      .map((x) => `${x.seq} ${x.member.name}: ${JSON.stringify(x.e)}`)
      .join('\n');
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One member process. */
export class Member {
  readonly name: string;
  readonly clientId: string;
  private readonly child: ChildProcess;
  private readonly journal: Journal;
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;
  stderr = '';
  private partial = '';

  constructor(client: Client, name: string, o: MemberOptions, journal: Journal) {
    this.name = name;
    this.clientId = o.clientId;
    this.journal = journal;
    const { cmd, args } = client.command(o);
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c: Buffer) => this.onData(c.toString('utf8')));
    this.child.stderr!.on('data', (c: Buffer) => {
      if (this.stderr.length < 100_000) this.stderr += c.toString('utf8');
    });
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', (e) => {
        this.stderr += `spawn failed: ${e.message}\n`;
        this.exit = { code: null, signal: null };
        resolve(this.exit);
      });
    });
  }

  private onData(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let e: MemberEvent;
      try {
        e = JSON.parse(line) as MemberEvent;
      } catch {
        this.stderr += `unparsable stdout line: ${line}\n`;
        continue;
      }
      this.journal.add(this, e);
    }
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** This member's own lines. */
  events(): MemberEvent[] {
    return this.journal.entries.filter((x) => x.member === this).map((x) => x.e);
  }

  /** The partitions of its last `assigned` line, emptied by a later `revoked` (null before any). */
  assignment(): number[] | null {
    let current: number[] | null = null;
    for (const e of this.events()) {
      if (e.event === 'assigned') current = e.partitions;
      else if (e.event === 'revoked') current = [];
    }
    return current;
  }

  /** Offsets whose commit was acknowledged, the last per partition. */
  lastCommitted(): Map<number, number> {
    const m = new Map<number, number>();
    for (const e of this.events()) {
      if (e.event !== 'committed') continue;
      for (const [p, o] of Object.entries(e.offsets)) m.set(Number(p), o);
    }
    return m;
  }

  /** Sends a command ("nocommit": read on without committing; "slow": 10 ms a record) and waits for its echo. */
  async command(cmd: 'nocommit' | 'slow'): Promise<void> {
    this.child.stdin!.write(`${cmd}\n`);
    await waitUntil(`${this.name} took "${cmd}"`, MEMBER_STOP_MS, () =>
      this.events().some((e) => e.event === cmd),
    );
  }

  /** The offset of the first record of `partition` read since its assignment last changed. */
  firstOffsetSinceAssigned(partition: number): number | undefined {
    let first: number | undefined;
    let owned = '';
    for (const e of this.events()) {
      if (e.event === 'assigned' && e.partitions.join() !== owned) {
        owned = e.partitions.join();
        first = undefined;
      } else if (e.event === 'record' && e.partition === partition) {
        first ??= e.offset;
      }
    }
    return first;
  }

  /** Asks for a graceful stop (the client leaves the group as it does on close) and waits for a clean exit. */
  async stop(): Promise<void> {
    if (this.exit !== null) return;
    this.child.stdin!.end('stop\n');
    const exit = await this.waitExit(MEMBER_STOP_MS);
    if (exit === null) {
      await this.kill();
      assert.fail(`${this.name} did not stop within ${MEMBER_STOP_MS} ms\n${this.stderr}`);
    }
    assert.equal(exit.code, 0, `${this.name} exited cleanly: ${JSON.stringify(exit)}\n${this.stderr}`);
    assert.equal(this.events().at(-1)?.event, 'closed', `${this.name} closed its consumer`);
  }

  /** SIGKILL: a crash (no LeaveGroup, no commit). */
  async kill(): Promise<void> {
    if (this.exit !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async waitExit(timeoutMs: number): Promise<Exit | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    const exit = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return exit;
  }
}

/** Polls `check` every POLL_MS until it is true; fails with `explain()` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
  explain: () => string = () => '',
): Promise<void> {
  const rounds = Math.ceil(timeoutMs / POLL_MS);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < rounds && Date.now() < deadline; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (await check()) return;
  assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}\n${explain()}`);
}

/** What the in-process broker holds for a group: its generation and its leader's client id. */
export interface GroupInside {
  generationId: number;
  leaderClientId: string | null;
}

export interface Produced {
  partition: number;
  value: string;
}

/** One scenario: a topic, a group, the harness's kafkajs clients, and members that are all stopped at the end. */
export class Scenario {
  readonly client: Client;
  readonly topic: string;
  readonly group: string;
  readonly journal = new Journal();
  readonly members: Member[] = [];
  readonly produced: Produced[] = [];
  bootstrap: string;
  /** Reads of partitions the reader had just been revoked, tolerated (see Client). */
  readonly foreignReads: string[] = [];
  /** The broker's own state of the group, when the broker runs in this process. */
  inspect: (() => GroupInside | undefined) | null = null;
  private admin: Admin | null = null;
  private producer: Producer | null = null;
  private batches = 0;

  constructor(client: Client, bootstrap: string, name: string) {
    this.client = client;
    this.bootstrap = bootstrap;
    this.topic = `${name}-topic`;
    this.group = `${name}-group`;
  }

  private kafka(): kafkajs.Kafka {
    return new kafkajs.Kafka({
      brokers: [this.bootstrap],
      clientId: 'group-interop-harness',
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 20 },
    });
  }

  async connect(): Promise<void> {
    const kafka = this.kafka();
    this.admin = kafka.admin();
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
    await this.admin.connect();
    await this.producer.connect();
  }

  /** The harness's clients again (after a broker restart). */
  async reconnect(bootstrap: string): Promise<void> {
    await this.disconnect();
    this.bootstrap = bootstrap;
    await this.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.producer = null;
    this.admin = null;
  }

  async createTopic(): Promise<void> {
    const created = await this.admin!.createTopics({
      topics: [{ topic: this.topic, numPartitions: PARTITIONS }],
      waitForLeaders: true,
    });
    assert.ok(created, `topic ${this.topic} created`);
  }

  startMember(name: string, extra: Partial<MemberOptions> = {}): Member {
    const o: MemberOptions = {
      bootstrap: this.bootstrap,
      topic: this.topic,
      group: this.group,
      clientId: `${this.client.name}-${name}`,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
      ...extra,
    };
    const m = new Member(this.client, name, o, this.journal);
    this.members.push(m);
    return m;
  }

  /** `perPartition` records into every partition; values are unique. */
  async produce(perPartition: number): Promise<Produced[]> {
    const batch = ++this.batches;
    const records: Produced[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0; i < perPartition; i++) records.push({ partition: p, value: `b${batch}-p${p}-${i}` });
    }
    for (let p = 0; p < PARTITIONS; p++) {
      await this.producer!.send({
        topic: this.topic,
        acks: -1,
        messages: records.filter((r) => r.partition === p).map((r) => ({ partition: p, value: r.value })),
      });
    }
    this.produced.push(...records);
    return records;
  }

  /** Waits until every one of `records` was consumed by some member. */
  async waitConsumed(records: readonly Produced[], what: string): Promise<void> {
    await waitUntil(
      `every record of ${what} is consumed`,
      CONSUME_WAIT_MS,
      () => {
        const seen = this.journal.consumedValues();
        return records.every((r) => seen.has(r.value));
      },
      () => {
        const seen = this.journal.consumedValues();
        const missing = records.filter((r) => !seen.has(r.value));
        return `${missing.length} missing, e.g. ${JSON.stringify(missing.slice(0, 5))}\n${this.state()}`;
      },
    );
  }

  /** Committed offsets of the group for the topic, as the broker answers OffsetFetch. */
  async committed(): Promise<Map<number, number>> {
    const [t] = await this.admin!.fetchOffsets({ groupId: this.group, topics: [this.topic] });
    const m = new Map<number, number>();
    for (const p of t?.partitions ?? []) m.set(p.partition, Number(p.offset));
    return m;
  }

  /** The broker's view of the group: state and each member's decoded assignment, by client id. */
  async described(): Promise<{
    state: string;
    protocolType: string;
    protocol: string;
    members: Map<string, number[]>;
  }> {
    const { groups } = await this.admin!.describeGroups([this.group]);
    const g = groups[0];
    assert.ok(g !== undefined, `DescribeGroups answered for ${this.group}`);
    const members = new Map<string, number[]>();
    for (const m of g.members) {
      const decoded =
        g.state === 'Stable' && m.memberAssignment.length > 0
          ? kafkajs.AssignerProtocol.MemberAssignment.decode(m.memberAssignment)
          : null;
      const partitions = decoded?.assignment[this.topic] ?? [];
      members.set(
        m.clientId,
        [...partitions].sort((a, b) => a - b),
      );
    }
    return { state: g.state, protocolType: g.protocolType, protocol: g.protocol, members };
  }

  /**
   * Waits until the group is Stable with exactly `expected` as members, the broker's
   * assignments cover every partition once, and each member's last `assigned` line matches the
   * broker's. Returns the assignment by member name.
   */
  async waitStable(expected: readonly Member[], what: string): Promise<Map<Member, number[]>> {
    let last = '';
    let protocol = { type: '', name: '' };
    let result = new Map<Member, number[]>();
    await waitUntil(
      `the group is stable with ${expected.map((m) => m.name).join(', ')} (${what})`,
      STABLE_WAIT_MS,
      async () => {
        for (const m of expected) {
          assert.ok(m.alive, `${m.name} is running: ${JSON.stringify(m.exit)}\n${m.stderr}\n${this.state()}`);
        }
        const d = await this.described();
        last = `broker: ${d.state} ${JSON.stringify([...d.members])}`;
        if (d.state !== 'Stable' || d.members.size !== expected.length) return false;
        const byMember = new Map<Member, number[]>();
        for (const m of expected) {
          const broker = d.members.get(m.clientId);
          if (broker === undefined) return false;
          const own = m.assignment();
          if (own === null || own.join() !== broker.join()) return false;
          byMember.set(m, broker);
        }
        const all = [...byMember.values()].flat().sort((a, b) => a - b);
        if (all.join() !== Array.from({ length: PARTITIONS }, (_, p) => p).join()) return false;
        result = byMember;
        protocol = { type: d.protocolType, name: d.protocol };
        return true;
      },
      () => `${last}\n${this.state()}`,
    );
    // No overlap and no gap, stated plainly for the record (the wait above required it).
    const owners = new Map<number, string>();
    for (const [m, ps] of result) {
      for (const p of ps) {
        assert.ok(!owners.has(p), `partition ${p} assigned to ${owners.get(p)} and ${m.name}`);
        owners.set(p, m.name);
      }
    }
    assert.equal(owners.size, PARTITIONS, `every partition assigned (${what})`);
    assert.equal(protocol.type, 'consumer', 'DescribeGroups: protocol type');
    assert.ok(protocol.name !== '', `DescribeGroups: the chosen assignor (${JSON.stringify(protocol)})`);
    return result;
  }

  /** The member the broker holds as the group's leader (the broker runs in this process). */
  leader(among: readonly Member[]): Member {
    const inside = this.inspect?.();
    assert.ok(inside !== undefined, 'the in-process broker holds the group');
    const leader = among.find((m) => m.clientId === inside.leaderClientId);
    assert.ok(
      leader !== undefined,
      `the leader (${inside.leaderClientId}) is one of ${among.map((m) => m.name).join(', ')}`,
    );
    return leader;
  }

  /** The group's generation as the broker holds it (the broker runs in this process). */
  generation(): number {
    const inside = this.inspect?.();
    assert.ok(inside !== undefined, 'the in-process broker holds the group');
    return inside.generationId;
  }

  /** Each member's assignment, and the one before it, when it read each record. */
  private readContexts(): Map<Entry, { owned: number[] | null; previous: number[] | null }> {
    const state = new Map<Member, { owned: number[] | null; previous: number[] | null }>();
    const contexts = new Map<Entry, { owned: number[] | null; previous: number[] | null }>();
    for (const entry of this.journal.entries) {
      const { member, e } = entry;
      const st = state.get(member) ?? { owned: null, previous: null };
      if (e.event === 'assigned' || e.event === 'revoked') {
        const owned = e.event === 'assigned' ? e.partitions : [];
        // A client may announce the same assignment twice: the one before is what it lost.
        if (owned.join() !== st.owned?.join()) state.set(member, { owned, previous: st.owned });
      } else if (e.event === 'record') {
        contexts.set(entry, st);
      }
    }
    return contexts;
  }

  /** A read of a partition the reader does not own: a failure, unless the client's known issue covers it. */
  private foreignRead(message: string, partition: number, previous: number[] | null): void {
    if (this.client.readsRevokedPartitions !== undefined && previous?.includes(partition) === true) {
      this.foreignReads.push(message);
      return;
    }
    assert.fail(`${message}\n${this.state()}`);
  }

  /** Records of `records` were consumed only by the member that owns their partition in `owners`. */
  checkOwners(records: readonly Produced[], owners: Map<Member, number[]>, what: string): void {
    const ownerOf = new Map<number, Member>();
    for (const [m, ps] of owners) for (const p of ps) ownerOf.set(p, m);
    const values = new Map(records.map((r) => [r.value, r.partition]));
    const contexts = this.readContexts();
    for (const [entry, { previous }] of contexts) {
      const { member, e } = entry;
      if (e.event !== 'record' || !values.has(e.value)) continue;
      const owner = ownerOf.get(e.partition);
      if (member === owner) continue;
      this.foreignRead(
        `${e.value} (${what}) consumed by ${member.name}, but partition ${e.partition} belongs to ${owner?.name}`,
        e.partition,
        previous,
      );
    }
  }

  /** The checks every scenario ends with (see the file comment). */
  checkJournal(): void {
    const producedPartition = new Map(this.produced.map((r) => [r.value, r.partition]));
    const seen = this.journal.consumedValues();
    const missing = this.produced.filter((r) => !seen.has(r.value));
    assert.deepEqual(missing.slice(0, 10), [], `every produced record consumed (${missing.length} missing)`);
    const attempted = new Map<number, Set<number>>();
    for (const { e } of this.journal.entries) {
      if (e.event !== 'commit') continue;
      for (const [p, o] of Object.entries(e.offsets)) {
        let s = attempted.get(Number(p));
        if (s === undefined) attempted.set(Number(p), (s = new Set()));
        s.add(o);
      }
    }
    const contexts = this.readContexts();
    const started = new Map<Member, Set<number>>();
    for (const entry of this.journal.entries) {
      const { member: m, e } = entry;
      if (e.event === 'assigned' || e.event === 'revoked') started.set(m, new Set());
      if (e.event !== 'record') continue;
      assert.equal(
        producedPartition.get(e.value),
        e.partition,
        `${m.name} read ${e.value} from partition ${e.partition}, where it was produced`,
      );
      const { owned, previous } = contexts.get(entry)!;
      if (owned?.includes(e.partition) !== true) {
        this.foreignRead(
          `${m.name} read partition ${e.partition} (${e.value}) while assigned ${JSON.stringify(owned)}`,
          e.partition,
          previous,
        );
        continue;
      }
      const mine = started.get(m) ?? new Set<number>();
      started.set(m, mine);
      if (mine.has(e.partition)) continue;
      mine.add(e.partition);
      const committed = attempted.get(e.partition) ?? new Set<number>();
      assert.ok(
        e.offset === 0 || committed.has(e.offset),
        `${m.name} started partition ${e.partition} at offset ${e.offset} after an assignment: neither 0 nor an offset a member committed (${JSON.stringify([...committed].sort((a, b) => a - b))})`,
      );
    }
  }

  /** Counts for the test's diagnostics: records (and re-reads), commits, assignments per member. */
  summary(): string {
    const parts = this.members.map((m) => {
      const ev = m.events();
      const n = (kind: MemberEvent['event']): number => ev.filter((e) => e.event === kind).length;
      return `${m.name}: ${n('record')} records, ${n('committed')}/${n('commit')} commits acknowledged, ${n('assigned')} assignments, ${n('error')} errors`;
    });
    const values = this.journal.entries.filter((x) => x.e.event === 'record').length;
    const reread = values - this.journal.consumedValues().size;
    const foreign =
      this.foreignReads.length === 0
        ? ''
        : `; ${this.foreignReads.length} reads of just-revoked partitions tolerated (${this.client.readsRevokedPartitions}), e.g. ${this.foreignReads[0]}`;
    return `${this.produced.length} produced, ${values} read (${reread} re-read); ${parts.join('; ')}${foreign}`;
  }

  /** Members' states and the journal's tail, for failure messages. */
  state(): string {
    const members = this.members
      .map(
        (m) =>
          `${m.name} (${m.clientId}) ${m.alive ? 'running' : `exited ${JSON.stringify(m.exit)}`}, assigned ${JSON.stringify(m.assignment())}${m.stderr.length > 0 ? `\n  stderr: ${m.stderr.slice(-2000)}` : ''}`,
      )
      .join('\n');
    return `${members}\njournal tail:\n${this.journal.tail()}`;
  }

  /** Kills what is still running and disconnects the harness. */
  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    await this.disconnect();
  }
}

/** Runs `body` with an in-process broker, a fresh scenario connected to it and its topic created. */
export async function withScenario(
  client: Client,
  name: string,
  body: (s: Scenario) => Promise<void>,
): Promise<void> {
  await withBroker(GROUP_BROKER_CONFIG, async (b) => {
    const s = new Scenario(client, b.bootstrap, name);
    s.inspect = () => {
      for (const shard of b.broker.groupCoordinator.activeShards()) {
        const g = shard.classicGroups.get(s.group);
        if (g === undefined) continue;
        const leader = g.leaderId === null ? undefined : g.members.get(g.leaderId);
        return { generationId: g.generationId, leaderClientId: leader?.clientId ?? null };
      }
      return undefined;
    };
    try {
      await s.connect();
      await s.createTopic();
      await body(s);
    } finally {
      await s.close();
    }
  });
}

/** `node group-member.ts|js CLIENT OPTIONS` (through tsx when the tests run from the sources). */
export function nodeMemberCommand(client: string, o: MemberOptions): { cmd: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const fromSources = here.endsWith('.ts');
  const script = join(here, '..', `group-member.${fromSources ? 'ts' : 'js'}`);
  return {
    cmd: process.execPath,
    args: [...(fromSources ? ['--import', 'tsx'] : []), script, client, JSON.stringify(o)],
  };
}
