/**
 * An exactly-once consume → transform → produce processor (kafkajs) as a child process, so the
 * EOS test can SIGKILL it at random moments: `eos-processor OPTIONS_JSON`.
 *
 * The producer is transactional; before the consumer starts, an empty transaction makes kafkajs
 * send InitProducerId (it does so at the first transaction(), not at connect()), which fences
 * the previous incarnation and waits for its transaction to end (aborted when open, completed
 * when prepared). The consumer is in a group, reads read_committed, never auto-commits. Each
 * fetched batch is processed in chunks of `chunk` records, one transaction each: produce
 * `out:<value>` with the same key to the same partition of the output topic, send the consumed
 * offsets to the transaction, commit. Random pauses (seeded) between the steps let kills land
 * anywhere in a transaction.
 *
 * stdout, one JSON object per line: {"event":"ready"} once consuming, {"event":"committed",
 * "partition","next","count"} after each commit, {"event":"error","where","error"} before
 * exiting with code 1 on any failure (the test restarts it). SIGTERM stops it gracefully.
 */
import { Kafka, logLevel } from 'kafkajs';

export interface ProcessorOptions {
  bootstrap: string;
  input: string;
  output: string;
  group: string;
  transactionalId: string;
  /** Records per transaction at most. */
  chunk: number;
  /** Each step (send, sendOffsets, commit) waits 0..stepDelayMs first. */
  stepDelayMs: number;
  seed: number;
  transactionTimeoutMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

/** Bounds the whole run: a processor left behind by a failed test ends by itself. */
const RUN_MS_MAX = 180_000;

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

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as ProcessorOptions;
  let s = o.seed >>> 0;
  const random = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pause = (): Promise<void> =>
    o.stepDelayMs <= 0
      ? Promise.resolve()
      : new Promise((resolve) => setTimeout(resolve, Math.floor(random() * o.stepDelayMs)));

  const kafka = new Kafka({
    clientId: `eos-${o.transactionalId}`,
    brokers: [o.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 1000 },
  });
  const producer = kafka.producer({
    transactionalId: o.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: o.transactionTimeoutMs,
  });
  const consumer = kafka.consumer({
    groupId: o.group,
    readUncommitted: false,
    sessionTimeout: o.sessionTimeoutMs,
    rebalanceTimeout: o.sessionTimeoutMs,
    heartbeatInterval: o.heartbeatIntervalMs,
    maxWaitTimeInMs: 100,
    retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 1000 },
  });
  const fail = (where: string, e: unknown): never => {
    out({ event: 'error', where, error: errorName(e) });
    process.exit(1);
  };
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
    void Promise.allSettled([consumer.disconnect(), producer.disconnect()]).then(() => process.exit(0));
  });
  setTimeout(() => fail('run', new Error(`still running after ${RUN_MS_MAX} ms`)), RUN_MS_MAX).unref();
  consumer.on(consumer.events.CRASH, (e) => {
    if (!stopping) fail('consumer crash', e.payload.error);
  });

  try {
    await producer.connect();
    // InitProducerId now: fences the previous incarnation before the group's offsets are read.
    await (await producer.transaction()).abort();
  } catch (e) {
    fail('init', e);
  }
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: o.input, fromBeginning: true });
  } catch (e) {
    fail('subscribe', e);
  }
  consumer.on(consumer.events.GROUP_JOIN, () => out({ event: 'ready' }));
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      for (let i = 0; i < batch.messages.length; i += o.chunk) {
        if (!payload.isRunning() || payload.isStale() || stopping) return;
        const chunk = batch.messages.slice(i, i + o.chunk);
        const last = chunk[chunk.length - 1]!;
        const next = String(Number(last.offset) + 1);
        let step = 'begin';
        try {
          const txn = await producer.transaction();
          await pause();
          step = 'send';
          await txn.send({
            topic: o.output,
            messages: chunk.map((m) => ({
              key: m.key,
              value: `out:${m.value?.toString('utf8') ?? ''}`,
              partition: batch.partition,
            })),
          });
          await pause();
          step = 'sendOffsets';
          await txn.sendOffsets({
            consumerGroupId: o.group,
            topics: [{ topic: o.input, partitions: [{ partition: batch.partition, offset: next }] }],
          });
          await pause();
          step = 'commit';
          await txn.commit();
        } catch (e) {
          // The transaction is left to the next incarnation (which fences it) or to its timeout.
          fail(step, e);
        }
        payload.resolveOffset(last.offset);
        out({ event: 'committed', partition: batch.partition, next: Number(next), count: chunk.length });
        await payload.heartbeat();
      }
    },
  });
}

void main().catch((e: unknown) => {
  out({ event: 'error', where: 'main', error: errorName(e) });
  process.exit(1);
});
