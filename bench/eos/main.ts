/**
 * Exactly-once benchmark (`npx tsx bench/eos/main.ts`, or `node dist/bench/eos/main.js` after
 * `npm run build`): transactional produce throughput against plain idempotent produce of the
 * same messages, to the same broker, in the same run, interleaved round by round (this machine's
 * speed drifts, ratios hold), with kafkajs 2.2.4 as the client.
 *
 *   transactional   a kafkajs transactional producer (its defaults): per transaction of
 *                   BENCH_EOS_TXN_SIZE (100) messages: begin, one send() (AddPartitionsToTxn +
 *                   Produce), commit (EndTxn)                      ratio to idempotent
 *   transactional, short back-off   the same with kafkajs's retry back-off at 10 ms instead of
 *                   300 ms: EndTxn is answered once the transaction is prepared (as Kafka does) and
 *                   the next AddPartitionsToTxn meets CONCURRENT_TRANSACTIONS while the markers
 *                   are written; the Java client retries that after 20 ms (KAFKA-5477), kafkajs
 *                   after its general back-off (kafkajs#304). This line isolates the broker's cost.
 *   idempotent      a kafkajs idempotent producer: one send() of the same 100 messages  (baseline)
 *   plain           a kafkajs producer without idempotence, same sends: idempotent / plain ratio
 *
 * Every producer has one request in flight (kafkajs's idempotent producer requires it) and acks=-1;
 * messages carry a key (spread over the topic's 3 partitions, so each transaction has 3) and a
 * BENCH_EOS_VALUE_BYTES (100) value. A round sends BENCH_EOS_RECORDS (10,000) records per
 * variant; rounds alternate the variants after a warm-up round of each, at least 3 and at most
 * 20 rounds, stopping after BENCH_EOS_MS (30,000 ms) of rounds. The broker runs in this process
 * (startBroker on a temporary folder, removed at the end), so the clients' CPU time and the
 * broker's share one event loop: the figures are end-to-end records/s as a kafkajs application
 * sees them. Issue 7 sets no target for these ratios; they are printed to be compared.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel, type Message, type Producer } from 'kafkajs';

import { startBroker } from '../../src/broker/embed.js';
import { interleave, median, ratioText, spread } from '../storage/support.js';

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new Error(`${name} must be an integer in [${min}, ${max}], not ${raw}`);
  return v;
}

const txnSize = envInt('BENCH_EOS_TXN_SIZE', 100, 1, 100_000);
const records = envInt('BENCH_EOS_RECORDS', 10_000, txnSize, 10_000_000);
const valueBytes = envInt('BENCH_EOS_VALUE_BYTES', 100, 0, 1_000_000);
const sectionMs = envInt('BENCH_EOS_MS', 30_000, 1_000, 3_600_000);
const PARTITIONS = 3;
/** kafkajs's default initial retry time, and the short one of the second transactional producer. */
const DEFAULT_RETRY_MS = 300;
const FAST_RETRY_MS = 10;
const DURABILITY = '[durability: page cache — Kafka default, no fsync on append]';

const batches: Message[][] = [];
for (let i = 0; i < records; i += txnSize) {
  batches.push(
    Array.from({ length: Math.min(txnSize, records - i) }, (_, k) => {
      const n = i + k;
      const value = Buffer.alloc(valueBytes, 97 + (n % 26));
      return { key: `key-${n % 1000}`, value };
    }),
  );
}

const f0 = (x: number, w = 9): string => x.toFixed(0).padStart(w);

/** Counts the requests of one kind a producer sends (kafkajs's request instrumentation events). */
function countRequests(p: Producer, apiName: string): { n: number } {
  const c = { n: 0 };
  p.on(p.events.REQUEST, (e) => {
    if (e.payload.apiName === apiName) c.n++;
  });
  return c;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-eos-'));
  const broker = await startBroker({
    port: 0,
    dataDir: root,
    config: { 'num.partitions': String(PARTITIONS), 'group.initial.rebalance.delay.ms': '0' },
  });
  // kafkajs logs every CONCURRENT_TRANSACTIONS answer it retries as an error: they are counted instead.
  const kafka = new Kafka({ clientId: 'bench-eos', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producers: Producer[] = [];
  try {
    await admin.connect();
    const topics = {
      txn: 'bench-eos-txn',
      fast: 'bench-eos-txn-fast',
      idem: 'bench-eos-idem',
      plain: 'bench-eos-plain',
    };
    await admin.createTopics({
      topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })),
      waitForLeaders: true,
    });
    const txn = kafka.producer({ transactionalId: 'bench-eos', idempotent: true, maxInFlightRequests: 1 });
    const fast = kafka.producer({
      transactionalId: 'bench-eos-fast',
      idempotent: true,
      maxInFlightRequests: 1,
      retry: {
        retries: Number.MAX_SAFE_INTEGER,
        initialRetryTime: FAST_RETRY_MS,
        maxRetryTime: 10 * FAST_RETRY_MS,
      },
    });
    const idem = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const plain = kafka.producer({ idempotent: false, maxInFlightRequests: 1 });
    producers.push(txn, fast, idem, plain);
    await Promise.all(producers.map((p) => p.connect()));
    const addPartitions = {
      txn: countRequests(txn, 'AddPartitionsToTxn'),
      fast: countRequests(fast, 'AddPartitionsToTxn'),
    };

    const sent = { txn: 0, fast: 0, idem: 0, plain: 0 };
    const transactions = { txn: 0, fast: 0 };
    const commitMs: number[] = [];
    const txnRound = (p: Producer, key: 'txn' | 'fast') => async (): Promise<number> => {
      const start = process.hrtime.bigint();
      for (const messages of batches) {
        const t = await p.transaction();
        await t.send({ topic: topics[key], messages });
        const c = process.hrtime.bigint();
        await t.commit();
        commitMs.push(Number(process.hrtime.bigint() - c) / 1e6);
        transactions[key]++;
        sent[key] += messages.length;
      }
      return records / (Number(process.hrtime.bigint() - start) / 1e9);
    };
    const sendRound = (p: Producer, key: 'idem' | 'plain') => async (): Promise<number> => {
      const start = process.hrtime.bigint();
      for (const messages of batches) {
        await p.send({ topic: topics[key], acks: -1, messages });
        sent[key] += messages.length;
      }
      return records / (Number(process.hrtime.bigint() - start) / 1e9);
    };

    console.log(
      `EOS bench: kafkajs 2.2.4 producers, broker in-process, ${records} records of ${valueBytes} B per round, ` +
        `transactions of ${txnSize}, ${PARTITIONS} partitions, one request in flight, acks=-1`,
    );
    const started = Date.now();
    const [txnRates, fastRates, idemRates, plainRates] = (await interleave(
      [txnRound(txn, 'txn'), txnRound(fast, 'fast'), sendRound(idem, 'idem'), sendRound(plain, 'plain')],
      { warmup: 1, minRounds: 3, maxRounds: 20, maxMs: sectionMs },
    )) as [number[], number[], number[], number[]];
    const elapsed = Date.now() - started;

    // Sanity: every record written, and one marker per partition of each transaction.
    const ends = async (topic: string): Promise<number> =>
      (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    const [txnEnd, fastEnd, idemEnd, plainEnd] = (await Promise.all(
      [topics.txn, topics.fast, topics.idem, topics.plain].map(ends),
    )) as [number, number, number, number];
    if (idemEnd !== sent.idem || plainEnd !== sent.plain)
      throw new Error(`records lost: idempotent ${idemEnd}/${sent.idem}, plain ${plainEnd}/${sent.plain}`);
    const markersPerTxn = (txnEnd - sent.txn + fastEnd - sent.fast) / (transactions.txn + transactions.fast);
    const retriesPerTxn = (key: 'txn' | 'fast'): string =>
      ((addPartitions[key].n - transactions[key]) / transactions[key]).toFixed(2);

    const sortedCommit = [...commitMs].sort((a, b) => a - b);
    const p99 =
      sortedCommit[Math.min(sortedCommit.length - 1, Math.floor(0.99 * sortedCommit.length))] ?? NaN;
    const perTxn = (rate: number): string => `${((1000 * txnSize) / rate).toFixed(2)} ms per transaction`;
    console.log(
      `\n${txnRates.length} interleaved rounds in ${(elapsed / 1000).toFixed(1)} s   ${DURABILITY}`,
    );
    console.log(
      `   baseline  idempotent produce, sends of ${txnSize}                     ${f0(median(idemRates))} records/s ${spread(idemRates)}`,
    );
    console.log(
      `   HEADLINE  transactional produce, transactions of ${txnSize}           ${f0(median(txnRates))} records/s ${spread(txnRates)}   ${ratioText(txnRates, idemRates)}`,
    );
    console.log(
      `             kafkajs defaults: ${perTxn(median(txnRates))}, ${retriesPerTxn('txn')} AddPartitionsToTxn retries per transaction (CONCURRENT_TRANSACTIONS: the previous one's markers still being written), each after kafkajs's ${DEFAULT_RETRY_MS} ms back-off`,
    );
    console.log(
      `             transactional, retry back-off ${FAST_RETRY_MS} ms             ${f0(median(fastRates))} records/s ${spread(fastRates)}   ${ratioText(fastRates, idemRates)}   ${perTxn(median(fastRates))}, ${retriesPerTxn('fast')} retries per transaction`,
    );
    console.log(
      `             EndTxn (commit) median ${median(commitMs).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; ${markersPerTxn.toFixed(2)} markers per transaction`,
    );
    console.log(
      `             plain produce (no idempotence), sends of ${txnSize}          ${f0(median(plainRates))} records/s ${spread(plainRates)}   idempotent vs plain: ${ratioText(idemRates, plainRates)}`,
    );
  } finally {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
    await admin.disconnect().catch(() => undefined);
    await broker.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
