/**
 * One consumer group member for the group interop tests, as a child process (so a test can
 * SIGKILL it like a crashed application): `group-member kafkajs|platformatic OPTIONS_JSON`.
 * It prints the same JSON lines as python/group_member.py (assigned, record, commit, committed,
 * commit-failed, error, nocommit, slow, closed). Offsets are committed by hand, with the next
 * offset to read, after each batch (kafkajs) or each record (@platformatic/kafka). After a
 * "nocommit" line it reads on without committing; after a "slow" line it takes 10 ms a record.
 * It stops gracefully (leaving the group as the client does on close) on a "stop" line, at the
 * end of stdin, or after exactly `maxRecords` records (the rest of a fetched batch is left
 * uncommitted).
 */
import { createInterface } from 'node:readline';
import {
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializers,
} from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';

export interface MemberOptions {
  bootstrap: string;
  topic: string;
  group: string;
  clientId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** group.instance.id: a static member. */
  instanceId?: string;
  /** partition.assignment.strategy (confluent only). */
  assignor?: string;
  /** Stop gracefully after this many records. */
  maxRecords?: number;
}

/** Bounds the whole run: a member left behind by a failed test ends by itself. */
const RUN_MS_MAX = 300_000;

function out(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function errorName(e: unknown): string {
  if (e instanceof Error) {
    const type = (e as Error & { type?: unknown }).type;
    return typeof type === 'string' ? type : `${e.name}: ${e.message}`;
  }
  return String(e);
}

/** Per record once slowed: a broker restart then lands in the middle of consumption. */
const SLOW_RECORD_MS = 10;

/**
 * Commands from stdin: "stop" (or its end, or RUN_MS_MAX) resolves `stop`; "nocommit" stops
 * commits; "slow" makes each record take SLOW_RECORD_MS.
 */
class Control {
  noCommit = false;
  slow = false;
  readonly stop: Promise<void>;

  constructor() {
    this.stop = new Promise((resolve) => {
      const rl = createInterface({ input: process.stdin });
      const timer = setTimeout(resolve, RUN_MS_MAX);
      const done = (): void => {
        clearTimeout(timer);
        rl.close();
        resolve();
      };
      rl.on('line', (line) => {
        const cmd = line.trim();
        if (cmd === 'stop') return done();
        if (cmd === 'nocommit') this.noCommit = true;
        else if (cmd === 'slow') this.slow = true;
        else return;
        out({ event: cmd });
      });
      rl.on('close', done);
    });
  }

  async pace(): Promise<void> {
    if (this.slow) await new Promise((r) => setTimeout(r, SLOW_RECORD_MS));
  }
}

async function runKafkajs(o: MemberOptions, ctl: Control): Promise<void> {
  if (o.instanceId !== undefined) throw new Error('the kafkajs consumer has no groupInstanceId option');
  const kafka = new Kafka({
    brokers: [o.bootstrap],
    clientId: o.clientId,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 30 },
  });
  const consumer = kafka.consumer({
    groupId: o.group,
    sessionTimeout: o.sessionTimeoutMs,
    heartbeatInterval: o.heartbeatIntervalMs,
    rebalanceTimeout: o.rebalanceTimeoutMs,
    maxWaitTimeInMs: 250,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 30 },
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    out({
      event: 'assigned',
      partitions: [...(e.payload.memberAssignment[o.topic] ?? [])].sort((a, b) => a - b),
    });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    out({ event: 'error', error: errorName(e.payload.error), restart: e.payload.restart });
  });
  let consumed = 0;
  let limitReached: () => void = () => undefined;
  const limit = new Promise<void>((resolve) => (limitReached = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      let next = -1;
      for (const m of batch.messages) {
        // Past the limit the rest is left uncommitted, for the next member.
        if (o.maxRecords !== undefined && consumed >= o.maxRecords) break;
        out({
          event: 'record',
          partition: batch.partition,
          offset: Number(m.offset),
          value: m.value?.toString('utf8') ?? '',
        });
        next = Number(m.offset) + 1;
        consumed++;
        await ctl.pace();
      }
      const full = o.maxRecords !== undefined && consumed >= o.maxRecords;
      if (next < 0 || ctl.noCommit) {
        if (full) limitReached();
        return;
      }
      const offsets = { [String(batch.partition)]: next };
      out({ event: 'commit', offsets });
      try {
        await consumer.commitOffsets([{ topic: o.topic, partition: batch.partition, offset: String(next) }]);
        out({ event: 'committed', offsets });
      } catch (e) {
        out({ event: 'commit-failed', offsets, error: errorName(e) });
      }
      if (full) limitReached();
    },
  });
  await Promise.race([ctl.stop, limit]);
  await consumer.disconnect();
}

async function runPlatformatic(o: MemberOptions, ctl: Control): Promise<void> {
  const consumer = new Consumer({
    clientId: o.clientId,
    bootstrapBrokers: [o.bootstrap],
    groupId: o.group,
    sessionTimeout: o.sessionTimeoutMs,
    heartbeatInterval: o.heartbeatIntervalMs,
    rebalanceTimeout: o.rebalanceTimeoutMs,
    ...(o.instanceId !== undefined ? { groupInstanceId: o.instanceId } : {}),
    autocommit: false,
    maxWaitTime: 250,
    retries: 30,
    retryDelay: 200,
    deserializers: stringDeserializers,
  });
  consumer.on('consumer:group:join', (e: { assignments?: { topic: string; partitions: number[] }[] }) => {
    const mine = (e.assignments ?? []).filter((a) => a.topic === o.topic).flatMap((a) => a.partitions);
    out({ event: 'assigned', partitions: [...mine].sort((a, b) => a - b) });
  });
  const stream = await consumer.consume({
    topics: [o.topic],
    mode: MessagesStreamModes.COMMITTED,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    autocommit: false,
  });
  let leaving = false;
  // Leaving the loop below destroys the stream with an AbortError: not a failure.
  stream.on('error', (e) => {
    if (!leaving) out({ event: 'error', error: errorName(e) });
  });
  void ctl.stop.then(() => {
    leaving = true;
    void stream.close();
  });
  let consumed = 0;
  for await (const m of stream) {
    out({ event: 'record', partition: m.partition, offset: Number(m.offset), value: m.value });
    consumed++;
    await ctl.pace();
    if (!ctl.noCommit) {
      const offsets = { [String(m.partition)]: Number(m.offset) + 1 };
      out({ event: 'commit', offsets });
      try {
        await m.commit();
        out({ event: 'committed', offsets });
      } catch (e) {
        out({ event: 'commit-failed', offsets, error: errorName(e) });
      }
    }
    if (o.maxRecords !== undefined && consumed >= o.maxRecords) leaving = true;
    if (leaving) break;
  }
  await stream.close();
  await consumer.close();
}

async function main(argv: string[]): Promise<void> {
  const [client, json] = argv;
  const o = JSON.parse(json ?? '{}') as MemberOptions;
  const ctl = new Control();
  if (client === 'kafkajs') await runKafkajs(o, ctl);
  else if (client === 'platformatic') await runPlatformatic(o, ctl);
  else throw new Error(`unknown client ${client}`);
  out({ event: 'closed' });
  process.exit(0);
}

// Only as a program (the test runner may load every compiled file under test/).
if (process.argv[1] !== undefined && /group-member\.[jt]s$/.test(process.argv[1])) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    out({ event: 'error', error: errorName(e), fatal: true });
    process.exit(1);
  });
}
