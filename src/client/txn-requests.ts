/**
 * Requests to the transaction and group coordinators for the transaction manager: one at a time
 * in priority order (Kafka's TransactionManager sends one transactional request at a time), each
 * sent again while the coordinator moved, is loading or busy with the same transactional id, or
 * the connection was lost — with backoff until a deadline — and the checks of
 * sendOffsetsToTransaction's arguments.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { Clock } from '../runtime/clock.js';
import type { Cluster } from './cluster.js';
import type { BrokerConnection } from './connection.js';
import { asClientError, clientError, kafkaError, KafkaClientError } from './errors.js';

/** Kafka retries quickly while the previous transaction completes (its AddPartitions retry backoff). */
const CONCURRENT_TRANSACTIONS_BACKOFF_MS = 20;
/** Ceiling on attempts of one coordinator request, whatever its deadline. */
const MAX_COORDINATOR_ATTEMPTS = 1000;

/** Coordinator answers worth another attempt (after a new lookup for the first set). */
const COORDINATOR_MOVED: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);
const COORDINATOR_BUSY: ReadonlySet<number> = new Set([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.CONCURRENT_TRANSACTIONS,
]);

export interface TransactionOffset {
  topic: string;
  partition: number;
  offset: bigint;
  metadata?: string | null;
  leaderEpoch?: number;
}

/** What sendOffsetsToTransaction needs of the consumer group (Consumer.groupMetadata()). */
export interface GroupMetadataInput {
  groupId: string;
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

export interface CallContext {
  cluster: Cluster;
  clock: Clock;
  schedule: (delayMs: number, fn: () => void) => () => void;
  /** Named in the deadline error. */
  maxBlockMs: number;
  isClosed(): boolean;
}

/** Runs operations one at a time, lower priority numbers first, FIFO within one. */
export class RequestQueue {
  private readonly ops: { priority: number; seq: number; run: () => Promise<void> }[] = [];
  private seq = 0;
  private running = false;

  enqueue<T>(priority: number, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.ops.push({ priority, seq: this.seq++, run: () => fn().then(resolve, reject) });
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.ops.length > 0) {
        let best = 0;
        for (let i = 1; i < this.ops.length; i++) {
          const a = this.ops[i]!;
          const b = this.ops[best]!;
          if (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)) best = i;
        }
        const [op] = this.ops.splice(best, 1);
        await op!.run();
      }
    } finally {
      this.running = false;
    }
  }
}

/**
 * One request to the transaction (or group) coordinator of `key`, sent again on a moved or
 * busy coordinator, a lost connection, or a code in `alsoRetry`, with backoff until
 * `deadlineMs`. Resolves the value of an answer without error; throws its error otherwise, or
 * DEADLINE_EXCEEDED (code -1, naming the last error) when time runs out.
 */
export async function coordinatorCall<T>(
  ctx: CallContext,
  keyType: 'transaction' | 'group',
  key: string,
  what: string,
  deadlineMs: number,
  send: (conn: BrokerConnection) => Promise<{ code: number; value: T }>,
  alsoRetry: ReadonlySet<number> = new Set(),
): Promise<T> {
  const { cluster, clock } = ctx;
  let last: KafkaClientError | null = null;
  for (let attempt = 1; attempt <= MAX_COORDINATOR_ATTEMPTS; attempt++) {
    if (ctx.isClosed()) throw clientError('CLIENT_CLOSED', `${what}: the producer was closed`);
    let waitMs: number;
    try {
      const conn = await cluster.coordinator(keyType, key);
      const { code, value } = await send(conn);
      if (code === ErrorCode.NONE) return value;
      last = kafkaError(code, what);
      if (COORDINATOR_MOVED.has(code)) cluster.invalidateCoordinator(keyType, key);
      else if (!COORDINATOR_BUSY.has(code) && !alsoRetry.has(code)) throw last;
      waitMs =
        code === ErrorCode.CONCURRENT_TRANSACTIONS
          ? CONCURRENT_TRANSACTIONS_BACKOFF_MS
          : cluster.backoffMs(attempt);
    } catch (e) {
      const error = asClientError(e);
      if (error === last || !error.retriable) throw error;
      // A lost connection or a coordinator that cannot be found: look it up again.
      cluster.invalidateCoordinator(keyType, key);
      last = error;
      waitMs = cluster.backoffMs(attempt);
    }
    if (clock.nowMs() + waitMs >= deadlineMs) break;
    await new Promise<void>((resolve) => ctx.schedule(waitMs, resolve));
  }
  throw new KafkaClientError(
    `${what}: no success before the deadline (maxBlockMs ${ctx.maxBlockMs}); last error: ${last?.message ?? 'none'}`,
    -1,
    'DEADLINE_EXCEEDED',
    false,
    { cause: last },
  );
}

/** The highest common version (capped by `max`), or UNSUPPORTED_VERSION naming the request. */
export function versionOf(conn: BrokerConnection, apiKey: number, what: string, max?: number): number {
  const version = conn.version(apiKey, max);
  if (version < 0) {
    throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `${what} to ${conn.address} (no common version)`);
  }
  return version;
}

/** TxnOffsetCommit partition errors that another attempt may fix. */
export function isTransientOffsetError(code: number): boolean {
  return (
    COORDINATOR_MOVED.has(code) || COORDINATOR_BUSY.has(code) || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
  );
}

/** The offsets grouped by topic; throws TypeError on a malformed entry. */
export function checkOffsets(offsets: readonly TransactionOffset[]): Map<string, TransactionOffset[]> {
  const given: unknown = offsets;
  if (!Array.isArray(given)) throw new TypeError('sendOffsetsToTransaction takes an array of offsets');
  const byTopic = new Map<string, TransactionOffset[]>();
  offsets.forEach((o, i) => {
    if (typeof o !== 'object' || o === null) throw new TypeError(`offsets[${i}] must be an object`);
    if (typeof o.topic !== 'string' || o.topic === '') {
      throw new TypeError(`offsets[${i}].topic must be a non-empty string, got ${String(o.topic)}`);
    }
    if (!Number.isInteger(o.partition) || o.partition < 0) {
      throw new TypeError(`offsets[${i}].partition must be an integer >= 0, got ${String(o.partition)}`);
    }
    if (typeof o.offset !== 'bigint' || o.offset < 0n) {
      throw new TypeError(`offsets[${i}].offset must be a bigint >= 0n, got ${String(o.offset)}`);
    }
    let list = byTopic.get(o.topic);
    if (list === undefined) byTopic.set(o.topic, (list = []));
    list.push(o);
  });
  return byTopic;
}

export function checkGroup(group: GroupMetadataInput): string {
  const given: unknown = group;
  if (typeof given !== 'object' || given === null) {
    throw new TypeError('sendOffsetsToTransaction needs the consumer group metadata ({ groupId, ... })');
  }
  if (typeof group.groupId !== 'string' || group.groupId === '') {
    throw new TypeError(`groupMetadata.groupId must be a non-empty string, got ${String(group.groupId)}`);
  }
  return group.groupId;
}
