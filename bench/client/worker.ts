/**
 * One client of the client benchmark, in a process of its own (so its garbage, JIT state and
 * CPU time are its own, not shared with the other clients or the broker):
 *
 *   worker.ts samsa [<repository root>] | kafkajs | platformatic
 *
 * With a repository root (another checkout of Samsa, e.g. a `git worktree` of an older commit),
 * the Samsa worker loads that checkout's client: an A/B run compares two versions of the client
 * in the same run (BENCH_CLIENT_AB in main.ts).
 *
 * Driven by main.ts over the IPC channel (bench/broker/procs.ts): it reports `{ type: 'ready' }`,
 * then answers `{ id, cmd }` messages:
 *   produce  { bootstrap, topic, shape, perCall, window, mode }  → ProduceResult
 *   consume  { bootstrap, topic, partitions, count, groupId }    → ConsumeResult
 *   stop                                                          closes the producers, exits
 * The messages are made here by `makeMessages` (the same bytes in every worker, built before the
 * clock starts), so the clients send exactly the same keys and values.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { MessageShape } from './messages.js';
import { forgetMessages, makeMessages } from './messages.js';

export type ClientName = 'samsa' | 'kafkajs' | 'platformatic';

/** How Samsa's producer is driven: one sendBatch per `perCall` records, or send() per record + flush(). */
export type SamsaProduceMode = 'sendBatch' | 'send';

export interface ProduceCommand {
  cmd: 'produce';
  bootstrap: string;
  /**
   * Producers are kept while the session stays the same (warm connections, as in an
   * application) and closed when it changes: kafkajs keeps refreshing the metadata of every
   * topic it ever produced to and fails once one has been deleted, so each section (whose topics
   * are deleted at its end) has producers of its own.
   */
  session: string;
  topic: string;
  shape: MessageShape;
  /** Records per send call (kafkajs, platformatic, Samsa's sendBatch). */
  perCall: number;
  /** Send calls in flight at once. */
  window: number;
  /** Samsa only. */
  mode: SamsaProduceMode;
  /** Samsa's batchSize (the others make one batch per partition per call). */
  batchSizeBytes: number;
  lingerMs: number;
}

export interface ProduceResult {
  seconds: number;
  /** This process's CPU time (user + system) during the round, µs. */
  cpuUs: number;
  acked: number;
}

export interface ConsumeCommand {
  cmd: 'consume';
  bootstrap: string;
  topic: string;
  partitions: number;
  count: number;
  /** A fresh group per round for the clients that need one (kafkajs and platformatic). */
  groupId: string;
  maxBytes: number;
  maxPartitionBytes: number;
}

export interface ConsumeResult {
  /** From the group's assignment (the member has joined) to the last of `count` records handed to the application. */
  seconds: number;
  /** From the start of the round (client created) to the assignment: connecting and joining the group. */
  startupMs: number;
  /** CPU time over `seconds`, µs. */
  cpuUs: number;
  received: number;
  valueBytes: number;
}

/** Bound of one round, whatever the client does. */
const ROUND_TIMEOUT_MS = 180_000;

const client = process.argv[2] as ClientName | undefined;
if (client !== 'samsa' && client !== 'kafkajs' && client !== 'platformatic') {
  process.stderr.write('usage: worker.ts samsa [<repository root>] | kafkajs | platformatic\n');
  process.exit(2);
}
const send = (m: unknown): void => {
  process.send?.(m);
};
process.on('disconnect', () => process.exit(0));

const cpuNow = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

function withTimeout<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `fn` on chunks of `perCall` items with `window` calls in flight, in chunk order. */
async function windowed<T>(
  items: readonly T[],
  perCall: number,
  window: number,
  fn: (chunk: T[]) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const chunk = items.slice(next, next + perCall);
      next += perCall;
      await fn(chunk);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
}

// ------------------------------------------------------------------ Samsa

const samsaRoot = process.argv[3];
type SamsaClient = typeof import('../../src/client/index.js');
const samsa: SamsaClient | null =
  client !== 'samsa'
    ? null
    : samsaRoot === undefined
      ? await import('../../src/client/index.js')
      : ((await import(
          pathToFileURL(
            path.join(samsaRoot, import.meta.url.endsWith('.ts') ? 'src' : 'dist/src', 'client', 'index.js'),
          ).href
        )) as SamsaClient);
type SamsaProducer = InstanceType<NonNullable<typeof samsa>['Producer']>;
const samsaProducers = new Map<string, SamsaProducer>();

async function samsaProduce(c: ProduceCommand): Promise<ProduceResult> {
  const { Producer } = samsa!;
  // One producer per configuration, kept across rounds: connections and JIT stay warm, as in an application.
  const key = `${c.session}/${c.batchSizeBytes}/${c.lingerMs}/${c.window}`;
  let producer = samsaProducers.get(key);
  if (producer === undefined) {
    producer = new Producer({
      bootstrapServers: c.bootstrap,
      clientId: 'bench-samsa',
      acks: 'all',
      idempotent: false,
      lingerMs: c.lingerMs,
      batchSize: c.batchSizeBytes,
      maxInFlightRequestsPerConnection: c.window,
      compression: 'none',
    });
    samsaProducers.set(key, producer);
  }
  const { keys, values } = makeMessages(c.shape);
  const records = keys.map((k, i) => ({ topic: c.topic, key: k, value: values[i]! }));
  const cpu0 = cpuNow();
  const t0 = performance.now();
  let acked = 0;
  if (c.mode === 'sendBatch') {
    await windowed(records, c.perCall, c.window, async (chunk) => {
      // Not `acked += await …`: that reads `acked` before the await, losing the other lanes' counts.
      const metadata = await producer.sendBatch(chunk);
      acked += metadata.length;
    });
  } else {
    const failures: Error[] = [];
    const ok = (): void => {
      acked++;
    };
    const fail = (e: unknown): void => {
      failures.push(e instanceof Error ? e : new Error(String(e)));
    };
    for (const r of records) producer.send(r).then(ok, fail);
    await producer.flush();
    if (failures.length > 0) throw failures[0]!;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, cpuUs: cpuNow() - cpu0, acked };
}

async function samsaConsume(c: ConsumeCommand): Promise<ConsumeResult> {
  const { Consumer } = samsa!;
  const t0 = performance.now();
  const consumer = new Consumer({
    bootstrapServers: c.bootstrap,
    clientId: 'bench-samsa',
    groupId: c.groupId,
    enableAutoCommit: false,
    autoOffsetReset: 'earliest',
    fetchMaxBytes: c.maxBytes,
    maxPartitionFetchBytes: c.maxPartitionBytes,
    isolationLevel: 'read_uncommitted',
  });
  const clock = new RoundClock(t0);
  try {
    consumer.subscribe([c.topic], { onPartitionsAssigned: () => clock.assigned() });
    let received = 0;
    let valueBytes = 0;
    const deadline = Date.now() + ROUND_TIMEOUT_MS;
    while (received < c.count) {
      if (Date.now() > deadline) throw new Error(`samsa consumed ${received} of ${c.count} in time`);
      const records = await consumer.poll(1000);
      for (const r of records) valueBytes += r.value?.length ?? 0;
      received += records.length;
    }
    return clock.result(received, valueBytes);
  } finally {
    await consumer.close();
  }
}

/** Times a consume round: from the group's assignment to the last record (the join, a fixed cost, apart). */
class RoundClock {
  private assignedAt = 0;
  private cpuAtAssign = 0;

  constructor(private readonly createdAt: number) {}

  assigned(): void {
    if (this.assignedAt !== 0) return;
    this.assignedAt = performance.now();
    this.cpuAtAssign = cpuNow();
  }

  result(received: number, valueBytes: number): ConsumeResult {
    if (this.assignedAt === 0) throw new Error('records arrived before the assignment was seen');
    return {
      seconds: (performance.now() - this.assignedAt) / 1000,
      startupMs: this.assignedAt - this.createdAt,
      cpuUs: cpuNow() - this.cpuAtAssign,
      received,
      valueBytes,
    };
  }
}

// ------------------------------------------------------------------ kafkajs

const kafkajs = client === 'kafkajs' ? await import('kafkajs') : null;
type KafkajsProducer = ReturnType<InstanceType<NonNullable<typeof kafkajs>['Kafka']>['producer']>;
const kafkajsProducers = new Map<string, KafkajsProducer>();

function kafkajsClient(bootstrap: string): InstanceType<NonNullable<typeof kafkajs>['Kafka']> {
  const { Kafka, logLevel } = kafkajs!;
  return new Kafka({ brokers: [bootstrap], clientId: 'bench-kafkajs', logLevel: logLevel.NOTHING });
}

async function kafkajsProduce(c: ProduceCommand): Promise<ProduceResult> {
  let producer = kafkajsProducers.get(c.session);
  if (producer === undefined) {
    producer = kafkajsClient(c.bootstrap).producer({
      createPartitioner: kafkajs!.Partitioners.DefaultPartitioner,
      idempotent: false,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    kafkajsProducers.set(c.session, producer);
  }
  const { keys, values } = makeMessages(c.shape);
  const messages = keys.map((k, i) => ({ key: k, value: values[i]! }));
  const cpu0 = cpuNow();
  const t0 = performance.now();
  let acked = 0;
  await windowed(messages, c.perCall, c.window, async (chunk) => {
    await producer.send({ topic: c.topic, messages: chunk, acks: -1 });
    acked += chunk.length;
  });
  return { seconds: (performance.now() - t0) / 1000, cpuUs: cpuNow() - cpu0, acked };
}

async function kafkajsConsume(c: ConsumeCommand): Promise<ConsumeResult> {
  const t0 = performance.now();
  const consumer = kafkajsClient(c.bootstrap).consumer({
    groupId: c.groupId,
    readUncommitted: true,
    maxBytes: c.maxBytes,
    maxBytesPerPartition: c.maxPartitionBytes,
  });
  const clock = new RoundClock(t0);
  consumer.on(consumer.events.GROUP_JOIN, () => clock.assigned());
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: c.topic, fromBeginning: true });
    let received = 0;
    let valueBytes = 0;
    let result: ConsumeResult | null = null;
    await withTimeout(
      'kafkajs consume',
      new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            // kafkajs's documented way to throughput: whole fetched batches to one handler.
            eachBatch: ({ batch }) => {
              for (const m of batch.messages) valueBytes += m.value?.length ?? 0;
              received += batch.messages.length;
              if (received >= c.count && result === null) {
                result = clock.result(received, valueBytes);
                resolve();
              }
              return Promise.resolve();
            },
          })
          .catch(reject);
      }),
    );
    return result!;
  } finally {
    await consumer.disconnect();
  }
}

// ------------------------------------------------------------------ @platformatic/kafka

const platformatic = client === 'platformatic' ? await import('@platformatic/kafka') : null;
type PlatformaticProducer = InstanceType<NonNullable<typeof platformatic>['Producer']>;
const platformaticProducers = new Map<string, PlatformaticProducer>();

async function platformaticProduce(c: ProduceCommand): Promise<ProduceResult> {
  const { Producer, ProduceAcks } = platformatic!;
  let producer = platformaticProducers.get(c.session);
  if (producer === undefined) {
    producer = new Producer({
      clientId: 'bench-platformatic',
      bootstrapBrokers: [c.bootstrap],
      idempotent: false,
      autocreateTopics: false,
    });
    platformaticProducers.set(c.session, producer);
  }
  const { keys, values } = makeMessages(c.shape);
  const messages = keys.map((k, i) => ({ topic: c.topic, key: k, value: values[i]! }));
  const cpu0 = cpuNow();
  const t0 = performance.now();
  let acked = 0;
  await windowed(messages, c.perCall, c.window, async (chunk) => {
    await producer.send({ messages: chunk, acks: ProduceAcks.ALL });
    acked += chunk.length;
  });
  return { seconds: (performance.now() - t0) / 1000, cpuUs: cpuNow() - cpu0, acked };
}

async function platformaticConsume(c: ConsumeCommand): Promise<ConsumeResult> {
  const { Consumer, MessagesStreamModes, MessagesStreamFallbackModes } = platformatic!;
  const t0 = performance.now();
  const consumer = new Consumer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: [c.bootstrap],
    groupId: c.groupId,
    isolationLevel: 0, // read_uncommitted, as the others
    maxBytes: c.maxBytes,
    maxBytesPerPartition: c.maxPartitionBytes,
  });
  const clock = new RoundClock(t0);
  consumer.on('consumer:group:join', () => clock.assigned());
  try {
    const stream = await consumer.consume({
      topics: [c.topic],
      mode: MessagesStreamModes.EARLIEST,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
    });
    let received = 0;
    let valueBytes = 0;
    const deadline = Date.now() + ROUND_TIMEOUT_MS;
    try {
      for await (const m of stream) {
        valueBytes += m.value?.length ?? 0;
        if (++received >= c.count) break;
        if ((received & 0xfff) === 0 && Date.now() > deadline) {
          throw new Error(`platformatic consumed ${received} of ${c.count} in time`);
        }
      }
    } finally {
      await stream.close();
    }
    return clock.result(received, valueBytes);
  } finally {
    await consumer.close();
  }
}

// ------------------------------------------------------------------ dispatch

async function stopAll(): Promise<void> {
  for (const p of samsaProducers.values()) await p.close();
  for (const p of kafkajsProducers.values()) await p.disconnect();
  for (const p of platformaticProducers.values()) await p.close();
  samsaProducers.clear();
  kafkajsProducers.clear();
  platformaticProducers.clear();
}

let session = '';

type Command = (ProduceCommand | ConsumeCommand | { cmd: 'stop' }) & { id: number };

process.on('message', (m: Command) => {
  void (async () => {
    switch (m.cmd) {
      case 'produce': {
        if (m.session !== session) {
          await stopAll();
          session = m.session;
        }
        const fn =
          client === 'samsa' ? samsaProduce : client === 'kafkajs' ? kafkajsProduce : platformaticProduce;
        send({ id: m.id, result: await withTimeout(`${client} produce`, fn(m)) });
        return;
      }
      case 'consume': {
        // The pre-fill's messages (Samsa's worker writes the topic) are not needed to read it.
        forgetMessages();
        const fn =
          client === 'samsa' ? samsaConsume : client === 'kafkajs' ? kafkajsConsume : platformaticConsume;
        send({ id: m.id, result: await withTimeout(`${client} consume`, fn(m)) });
        return;
      }
      case 'stop':
        await stopAll();
        send({ id: m.id });
        // Let the reply go out, then exit (a --cpu-prof profile is written on exit).
        setTimeout(() => process.exit(0), 20);
        return;
    }
  })().catch((e: unknown) => {
    send({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  });
});

send({ type: 'ready' });
