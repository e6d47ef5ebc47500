/**
 * A Jepsen-style checker for transactional workloads, with third-party clients as the judges.
 *
 * - `runTxnWorkload`: several kafkajs transactional producers in parallel, each running
 *   transactions of random size over the partitions of a topic and ending them at random
 *   (seeded): commit, abort, or abandon — a new incarnation with the same transactional id
 *   fences the open transaction, and the abandoned (zombie) producer then tries to send and
 *   commit anyway. Every attempt, every acknowledgment (with its offset) and every outcome is
 *   recorded in a history.
 * - `kafkajsReadAll`: a whole topic read back by a kafkajs consumer at read_committed or
 *   read_uncommitted, up to the end offsets at that isolation level.
 * - `checkHistory`: the history against the two reads — no aborted reads, no lost acknowledged
 *   writes, no duplicates, offsets strictly increasing per partition, each transaction's records
 *   all or nothing, each producer's order kept within a partition, acknowledged offsets where
 *   the client was told, read_committed a subsequence of read_uncommitted.
 * - `rawLog`: the log as stored (data batches and transaction markers) through raw Fetch
 *   requests, for statistics: how many transactions committed and aborted.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer, type RecordMetadata, type Transaction } from 'kafkajs';

import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ListOffsetsRequest } from '../../../src/protocol/generated/message/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../../src/protocol/generated/message/ListOffsetsResponse.js';
import { decodeRecordBatch, parseControlBatch } from '../../../src/protocol/records/batch.js';
import { BatchSplitter } from '../../../src/protocol/records/batch-view.js';
import { DecodeError } from '../../../src/protocol/primitives/errors.js';
import { RawClient } from '../raw-client.js';

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

// ------------------------------------------------------------------ a seeded PRNG

/** mulberry32: small, fast, seeded; good enough to pick sizes and outcomes reproducibly. */
export class Prng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The name kafkajs gives an error (its `type`), or its message. */
export function errorName(e: unknown): string {
  if (e instanceof Error) {
    const type = (e as Error & { type?: unknown }).type;
    return typeof type === 'string' ? type : `${e.name}: ${e.message}`;
  }
  return String(e);
}

/** `bootstrap` = "host:port" → port. */
export function portOf(bootstrap: string): number {
  return Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1));
}

// ------------------------------------------------------------------ reading a topic back

export interface Read {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** The end offset of each partition at an isolation level: the high watermark, or the LSO at read_committed. */
export async function endOffsets(
  port: number,
  topic: string,
  partitions: number,
  isolationLevel: number,
): Promise<number[]> {
  const raw = await RawClient.open(port);
  try {
    const res = await raw.send(ListOffsetsRequest, ListOffsetsResponse, 7, {
      ...ListOffsetsRequest.create(),
      replicaId: -1,
      isolationLevel,
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
            ...ListOffsetsRequest.structs.ListOffsetsPartition(),
            partitionIndex,
            timestamp: -1n,
          })),
          unknownTaggedFields: undefined,
        },
      ],
    });
    const ends: number[] = [];
    for (let p = 0; p < partitions; p++) {
      const r = res.topics[0]?.partitions.find((x) => x.partitionIndex === p);
      if (r === undefined || r.errorCode !== ErrorCode.NONE) {
        throw new Error(
          `ListOffsets ${topic}-${p}: ${r === undefined ? 'no answer' : `error ${r.errorCode}`}`,
        );
      }
      ends.push(Number(r.offset));
    }
    return ends;
  } finally {
    raw.close();
  }
}

export interface ReadOptions {
  bootstrap: string;
  topic: string;
  partitions: number;
  readCommitted: boolean;
  /** Bound on the whole read. */
  timeoutMs?: number;
}

/**
 * Every record of `topic` as a kafkajs consumer (a new group, from the beginning) sees it at
 * the isolation level, up to the end offsets at that level taken first (the consumer's
 * position, advanced past aborted records and markers too, reaching them). Records delivered
 * twice at one offset (a refetch) are kept once; two different records at one offset throw.
 */
export async function kafkajsReadAll(o: ReadOptions): Promise<Read[]> {
  const ends = await endOffsets(
    portOf(o.bootstrap),
    o.topic,
    o.partitions,
    o.readCommitted ? READ_COMMITTED : READ_UNCOMMITTED,
  );
  const kafka = new Kafka({ clientId: 'txn-reader', brokers: [o.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `txn-reader-${randomUUID()}`,
    readUncommitted: !o.readCommitted,
    maxWaitTimeInMs: 100,
    retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 500 },
  });
  const positions = Array.from({ length: o.partitions }, () => 0);
  const byOffset = new Map<string, Read>();
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const check = (): void => {
    if (positions.every((p, i) => p >= ends[i]!)) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const p = e.payload.partition;
    const last = Number(e.payload.lastOffset) + 1;
    if (last > positions[p]!) positions[p] = last;
    check();
  });
  const timeoutMs = o.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const r: Read = {
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key?.toString('utf8') ?? '',
            value: m.value?.toString('utf8') ?? '',
          };
          const id = `${r.partition}:${r.offset}`;
          const seen = byOffset.get(id);
          if (seen !== undefined && seen.value !== r.value) {
            throw new Error(`two records at ${o.topic}-${id}: ${seen.value} and ${r.value}`);
          }
          byOffset.set(id, r);
        }
        return Promise.resolve();
      },
    });
    check();
    const timedOut = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
    );
    if ((await Promise.race([finished, timedOut])) === 'timeout') {
      throw new Error(
        `reading ${o.topic} (${o.readCommitted ? 'read_committed' : 'read_uncommitted'}) did not reach the end offsets ${ends.join(',')} in ${timeoutMs} ms: positions ${positions.join(',')}`,
      );
    }
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return [...byOffset.values()].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

// ------------------------------------------------------------------ the log as stored

export interface RawRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
  producerId: bigint;
  producerEpoch: number;
  transactional: boolean;
}

export interface RawMarker {
  partition: number;
  offset: number;
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
}

/** Every data record and transaction marker of `topic` up to the high watermark, with raw Fetch (read_uncommitted). */
export async function rawLog(
  port: number,
  topic: string,
  partitions: number,
): Promise<{ records: RawRecord[]; markers: RawMarker[] }> {
  const raw = await RawClient.open(port);
  const records: RawRecord[] = [];
  const markers: RawMarker[] = [];
  try {
    for (let partition = 0; partition < partitions; partition++) {
      let offset = 0;
      let end = -1;
      for (let i = 0; i < 10_000 && offset !== end; i++) {
        const p = await raw.fetchPartition(topic, partition, offset);
        if (p === undefined || p.errorCode !== ErrorCode.NONE) {
          throw new Error(`Fetch ${topic}-${partition} at ${offset}: ${p?.errorCode ?? 'no answer'}`);
        }
        end = Number(p.highWatermark);
        const it = new BatchSplitter(p.records ?? Buffer.alloc(0));
        while (it.next()) {
          const batch = decodeRecordBatch(Buffer.from(it.batch()), { maxDecompressedBytes: 1 << 26 });
          if (batch instanceof Error) throw batch;
          const base = Number(batch.baseOffset);
          if (batch.isControl) {
            const info = parseControlBatch(batch);
            if (info instanceof DecodeError) throw info;
            if (info.marker !== null && base >= offset) {
              markers.push({
                partition,
                offset: base,
                producerId: batch.producerId,
                producerEpoch: batch.producerEpoch,
                commit: info.key.type === 1,
              });
            }
          } else {
            for (const r of batch.records) {
              const o = base + r.offsetDelta;
              if (o < offset) continue;
              records.push({
                partition,
                offset: o,
                key: r.key?.toString('utf8') ?? '',
                value: r.value?.toString('utf8') ?? '',
                producerId: batch.producerId,
                producerEpoch: batch.producerEpoch,
                transactional: batch.isTransactional,
              });
            }
          }
          offset = base + batch.lastOffsetDelta + 1;
        }
      }
      if (offset !== end) throw new Error(`raw read of ${topic}-${partition} stopped at ${offset} of ${end}`);
    }
  } finally {
    raw.close();
  }
  return { records, markers };
}

// ------------------------------------------------------------------ the workload

/** What the client knows of a transaction's end. */
export type Outcome =
  /** commit() resolved. */
  | 'committed'
  /** abort() resolved. */
  | 'aborted'
  /** Abandoned open; a new incarnation of its transactional id fenced it (and the zombie's commit failed). */
  | 'fenced'
  /** A send failed, so the transaction was never committed (abort tried). */
  | 'send-failed'
  /** commit() failed: committed or not, the client cannot tell. */
  | 'commit-failed'
  /** The zombie's commit() after fencing resolved: a fencing violation. */
  | 'zombie-committed';

export interface SentRecord {
  partition: number;
  value: string;
  /** The offset the client was told (baseOffset of its request's batch + its index there); null if unacknowledged. */
  ackOffset: number | null;
}

export interface TxnAttempt {
  /** Workload producer (its transactional id) index. */
  producer: number;
  incarnation: number;
  /** Per producer, in the order run. */
  txn: number;
  records: SentRecord[];
  outcome: Outcome;
  error?: string;
}

export interface WorkloadOptions {
  bootstrap: string;
  topic: string;
  partitions: number;
  producers: number;
  /** Transactions in all, spread over the producers. */
  transactions: number;
  seed: number;
  /** Probabilities of the ends (the rest: commit). */
  abortP?: number;
  abandonP?: number;
  /** Transactional id prefix. */
  idPrefix?: string;
}

export interface History {
  attempts: TxnAttempt[];
}

/** `w<producer>.<txn>.<index>`: which attempt a record belongs to and where in it. */
export function recordValue(producer: number, txn: number, index: number): string {
  return `w${producer}.${txn}.${index}`;
}

export function parseValue(v: string): { producer: number; txn: number; index: number } | null {
  const m = /^w(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (m === null) return null;
  return { producer: Number(m[1]), txn: Number(m[2]), index: Number(m[3]) };
}

/** Records their acknowledged offsets from a send's answer: per partition, baseOffset + index among that partition's records. */
function noteAcks(sent: SentRecord[], meta: RecordMetadata[]): void {
  const next = new Map<number, number>();
  for (const m of meta) {
    if (m.baseOffset !== undefined) next.set(m.partition, Number(m.baseOffset));
  }
  for (const r of sent) {
    const o = next.get(r.partition);
    if (o === undefined) continue;
    r.ackOffset = o;
    next.set(r.partition, o + 1);
  }
}

/** A kafkajs transactional producer for the workload. */
function txnProducer(kafka: Kafka, transactionalId: string): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 30_000,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 1000 },
  });
}

/**
 * Runs the workload and returns its history. A producer fenced or failed in a way kafkajs does
 * not recover from is replaced by a new incarnation (connect() fences the old one), so the
 * run always does its number of transactions.
 */
export async function runTxnWorkload(o: WorkloadOptions): Promise<History> {
  const kafka = new Kafka({
    clientId: 'txn-workload',
    brokers: [o.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 1000 },
  });
  const attempts: TxnAttempt[] = [];
  const abortP = o.abortP ?? 0.3;
  const abandonP = o.abandonP ?? 0.08;
  const prefix = o.idPrefix ?? 'txn-check';
  const open = new Set<Producer>();
  const worker = async (w: number, count: number): Promise<void> => {
    const rng = new Prng(o.seed * 7919 + w);
    const transactionalId = `${prefix}-${w}`;
    let incarnation = 0;
    let producer = txnProducer(kafka, transactionalId);
    open.add(producer);
    await producer.connect();
    /**
     * A new incarnation of the transactional id. kafkajs sends InitProducerId (which fences the
     * previous incarnation and aborts its open transaction) at its first transaction(), not at
     * connect(): an empty transaction, ended without a request, does it now.
     */
    const replace = async (): Promise<Producer> => {
      const next = txnProducer(kafka, transactionalId);
      open.add(next);
      await next.connect();
      await (await next.transaction()).abort();
      incarnation++;
      return next;
    };
    for (let t = 0; t < count; t++) {
      const attempt: TxnAttempt = { producer: w, incarnation, txn: t, records: [], outcome: 'send-failed' };
      attempts.push(attempt);
      let txn: Transaction;
      try {
        txn = await producer.transaction();
      } catch (e) {
        attempt.error = `transaction(): ${errorName(e)}`;
        await producer.disconnect().catch(() => undefined);
        open.delete(producer);
        producer = await replace();
        continue;
      }
      let index = 0;
      let sendFailed = false;
      const sends = rng.between(1, 3);
      for (let s = 0; s < sends && !sendFailed; s++) {
        const n = rng.between(1, 8);
        const sent: SentRecord[] = [];
        for (let i = 0; i < n; i++) {
          sent.push({ partition: rng.int(o.partitions), value: recordValue(w, t, index++), ackOffset: null });
        }
        attempt.records.push(...sent);
        try {
          const meta = await txn.send({
            topic: o.topic,
            messages: sent.map((r) => ({ key: `p${w}`, value: r.value, partition: r.partition })),
          });
          noteAcks(sent, meta);
        } catch (e) {
          sendFailed = true;
          attempt.error = `send: ${errorName(e)}`;
        }
      }
      const roll = rng.next();
      if (sendFailed) {
        attempt.outcome = 'send-failed';
        try {
          await txn.abort();
        } catch (e) {
          attempt.error += `; abort: ${errorName(e)}`;
          await producer.disconnect().catch(() => undefined);
          open.delete(producer);
          producer = await replace();
        }
      } else if (roll < abandonP) {
        // The zombie: a new incarnation fences it; then it sends once more and tries to commit.
        const zombie = producer;
        producer = await replace();
        try {
          const extra: SentRecord = {
            partition: rng.int(o.partitions),
            value: recordValue(w, t, index++),
            ackOffset: null,
          };
          attempt.records.push(extra);
          try {
            const meta = await txn.send({
              topic: o.topic,
              messages: [{ key: `p${w}`, value: extra.value, partition: extra.partition }],
            });
            noteAcks([extra], meta);
          } catch {
            // Expected: the zombie is fenced.
          }
          await txn.commit();
          attempt.outcome = 'zombie-committed';
        } catch (e) {
          attempt.outcome = 'fenced';
          attempt.error = `zombie commit: ${errorName(e)}`;
        }
        await zombie.disconnect().catch(() => undefined);
        open.delete(zombie);
      } else if (roll < abandonP + abortP) {
        try {
          await txn.abort();
          attempt.outcome = 'aborted';
        } catch (e) {
          // An abort that failed never committed anything.
          attempt.outcome = 'send-failed';
          attempt.error = `abort: ${errorName(e)}`;
          await producer.disconnect().catch(() => undefined);
          open.delete(producer);
          producer = await replace();
        }
      } else {
        try {
          await txn.commit();
          attempt.outcome = 'committed';
        } catch (e) {
          attempt.outcome = 'commit-failed';
          attempt.error = `commit: ${errorName(e)}`;
          await producer.disconnect().catch(() => undefined);
          open.delete(producer);
          producer = await replace();
        }
      }
    }
    await producer.disconnect();
    open.delete(producer);
  };
  try {
    const per = Math.floor(o.transactions / o.producers);
    await Promise.all(
      Array.from({ length: o.producers }, (_, w) =>
        worker(w, per + (w < o.transactions - per * o.producers ? 1 : 0)),
      ),
    );
  } finally {
    await Promise.all([...open].map((p) => p.disconnect().catch(() => undefined)));
  }
  return { attempts };
}

// ------------------------------------------------------------------ the checker

export interface CheckResult {
  violations: string[];
  stats: {
    attempts: number;
    outcomes: Record<string, number>;
    committedRecords: number;
    uncommittedRecords: number;
    readCommitted: number;
    readUncommitted: number;
  };
}

/** Whether an outcome certainly did not commit (its records must never be read committed). */
function certainlyNotCommitted(o: Outcome): boolean {
  return o === 'aborted' || o === 'fenced' || o === 'send-failed';
}

/**
 * Judges a history against what read_committed and read_uncommitted consumers read. Returns
 * every violation found (at most `maxEach` of each kind, with the count of the rest).
 */
export function checkHistory(
  history: History,
  committedRead: readonly Read[],
  uncommittedRead: readonly Read[],
  maxEach = 5,
): CheckResult {
  const found = new Map<string, string[]>();
  const violation = (kind: string, text: string): void => {
    let list = found.get(kind);
    if (list === undefined) found.set(kind, (list = []));
    list.push(text);
  };
  const byKey = new Map<string, TxnAttempt>();
  for (const a of history.attempts) byKey.set(`${a.producer}.${a.txn}`, a);
  const recordOf = (v: string): { attempt: TxnAttempt; record: SentRecord } | null => {
    const p = parseValue(v);
    if (p === null) return null;
    const attempt = byKey.get(`${p.producer}.${p.txn}`);
    const record = attempt?.records[p.index];
    return attempt === undefined || record === undefined || record.value !== v ? null : { attempt, record };
  };

  for (const [name, read] of [
    ['read_committed', committedRead],
    ['read_uncommitted', uncommittedRead],
  ] as const) {
    // No duplicates; offsets strictly increasing per partition; records where they were sent.
    const seen = new Map<string, Read>();
    const lastOffset = new Map<number, number>();
    /** Per partition and producer: the last (txn, index) read, for the order check. */
    const lastOfProducer = new Map<string, { txn: number; index: number; offset: number }>();
    for (const r of read) {
      const before = seen.get(r.value);
      if (before !== undefined) {
        violation(
          'duplicate',
          `${name}: ${r.value} at ${before.partition}:${before.offset} and ${r.partition}:${r.offset}`,
        );
      }
      seen.set(r.value, r);
      const last = lastOffset.get(r.partition);
      if (last !== undefined && r.offset <= last) {
        violation(
          'offsets not increasing',
          `${name}: partition ${r.partition} offset ${r.offset} after ${last}`,
        );
      }
      lastOffset.set(r.partition, r.offset);
      const known = recordOf(r.value);
      if (known === null) {
        violation('phantom record', `${name}: ${r.value} at ${r.partition}:${r.offset} was never sent`);
        continue;
      }
      if (known.record.partition !== r.partition) {
        violation(
          'wrong partition',
          `${name}: ${r.value} sent to ${known.record.partition}, read in ${r.partition}`,
        );
      }
      if (known.record.ackOffset !== null && known.record.ackOffset !== r.offset) {
        violation(
          'acknowledged offset differs',
          `${name}: ${r.value} acknowledged at ${known.record.ackOffset}, read at ${r.partition}:${r.offset}`,
        );
      }
      const p = parseValue(r.value)!;
      const k = `${r.partition}/${p.producer}`;
      const prev = lastOfProducer.get(k);
      if (prev !== undefined && (p.txn < prev.txn || (p.txn === prev.txn && p.index <= prev.index))) {
        violation(
          'producer order',
          `${name}: partition ${r.partition}: w${p.producer}.${p.txn}.${p.index} at ${r.offset} after w${p.producer}.${prev.txn}.${prev.index} at ${prev.offset}`,
        );
      }
      lastOfProducer.set(k, { txn: p.txn, index: p.index, offset: r.offset });
    }
  }

  // read_committed: no aborted reads; all or nothing; no lost acknowledged commits.
  const committedValues = new Set(committedRead.map((r) => r.value));
  const uncommittedValues = new Set(uncommittedRead.map((r) => r.value));
  const uncommittedAt = new Map(uncommittedRead.map((r) => [`${r.partition}:${r.offset}`, r.value]));
  for (const r of committedRead) {
    const known = recordOf(r.value);
    if (known !== null && certainlyNotCommitted(known.attempt.outcome)) {
      violation(
        'aborted read',
        `${r.value} at ${r.partition}:${r.offset} read committed, its transaction ${known.attempt.outcome} (${known.attempt.error ?? ''})`,
      );
    }
    if (uncommittedAt.get(`${r.partition}:${r.offset}`) !== r.value) {
      violation(
        'read_committed not within read_uncommitted',
        `${r.value} at ${r.partition}:${r.offset} read committed; read_uncommitted has ${uncommittedAt.get(`${r.partition}:${r.offset}`) ?? 'nothing'} there`,
      );
    }
  }
  for (const a of history.attempts) {
    if (a.outcome === 'zombie-committed') {
      violation('zombie commit', `w${a.producer}.${a.txn}: the fenced producer's commit succeeded`);
    }
    const visible = a.records.filter((r) => committedValues.has(r.value)).length;
    if (a.outcome === 'committed' && visible !== a.records.length) {
      const missing = a.records.filter((r) => !committedValues.has(r.value)).map((r) => r.value);
      violation(
        'lost acknowledged write',
        `w${a.producer}.${a.txn} committed, ${missing.length} of ${a.records.length} records not read committed: ${missing.slice(0, 5).join(',')}`,
      );
    }
    if (visible !== 0 && visible !== a.records.length) {
      violation(
        'not all or nothing',
        `w${a.producer}.${a.txn} (${a.outcome}): ${visible} of ${a.records.length} records read committed`,
      );
    }
    for (const r of a.records) {
      if (r.ackOffset !== null && !uncommittedValues.has(r.value)) {
        violation(
          'lost acknowledged record',
          `${r.value} acknowledged at ${r.partition}:${r.ackOffset}, not in read_uncommitted`,
        );
      }
    }
  }

  const violations: string[] = [];
  for (const [kind, list] of found) {
    violations.push(
      `${kind} (${list.length}): ${list.slice(0, maxEach).join(' | ')}${list.length > maxEach ? ' | …' : ''}`,
    );
  }
  const outcomes: Record<string, number> = {};
  for (const a of history.attempts) outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
  return {
    violations,
    stats: {
      attempts: history.attempts.length,
      outcomes,
      committedRecords: history.attempts
        .filter((a) => a.outcome === 'committed')
        .reduce((n, a) => n + a.records.length, 0),
      uncommittedRecords: history.attempts
        .filter((a) => a.outcome !== 'committed')
        .reduce((n, a) => n + a.records.length, 0),
      readCommitted: committedRead.length,
      readUncommitted: uncommittedRead.length,
    },
  };
}
