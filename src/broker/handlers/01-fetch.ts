/**
 * Fetch (key 1), versions 4-17, with incremental fetch sessions (KIP-227) from v7.
 *
 * Records are read from the log as wire bytes and sent by reference. A fetch that finds fewer
 * than `minBytes` waits in the purgatory until appends to its partitions bring enough bytes or
 * `maxWaitMs` passes — woken by the append, never by polling. `maxBytes` bounds the response and
 * `partitionMaxBytes` each partition; the first batch found is returned whole even when larger,
 * so a consumer always makes progress (KIP-74). Topic ids from v13.
 *
 * Sessions (see fetch-session-cache.ts for the rules): sessionEpoch -1 is a sessionless full
 * fetch, 0 opens a session (the response carries its id, or 0 when the cache is full), n > 0
 * continues one — the request lists only added or changed partitions and `forgottenTopicsData`,
 * the broker fetches every partition of the session and answers only those that changed. The
 * session is decided before the fetch waits and its epoch advanced then, so a long-polling
 * incremental fetch waits on all the session's partitions. Versions 4-6 carry no session fields:
 * always sessionless.
 *
 * Isolation: read_uncommitted reads up to the high watermark (abortedTransactions null);
 * read_committed up to the last stable offset, with the aborted transactions overlapping the
 * batches returned (an empty list when none, as Kafka) — consumers drop those records themselves.
 * Replicas (replicaId ≥ 0) read up to the high watermark whatever they ask.
 *
 * A partition whose topic (id) is unknown is answered with its error without keeping the others
 * from waiting for `minBytes` (as Kafka: only read errors answer at once); it stays in a session,
 * answered every time, until forgotten.
 * Deviations: the response groups a topic's partitions together even when the request
 * interleaved topics; a fenced or unknown leader epoch answers with the partition's offsets
 * rather than -1. Versions 0-3 (message formats 0/1 only) are not served.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { FetchRequest } from '../../protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../protocol/generated/message/FetchResponse.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import {
  INVALID_SESSION_ID,
  type FetchContext,
  type ForgottenPartition,
  type PartitionRequest,
  type PartitionSent,
} from '../fetch-session-cache.js';
import type { AbortedTransaction } from '../../storage/txn-index.js';
import { errorCodeOf, type Partition } from '../replica-manager.js';
import { defineHandler, type RequestContext } from './types.js';

const EMPTY = Buffer.alloc(0);
const READ_COMMITTED = 1;
/** The abortedTransactions of a read_committed answer with none (shared: never modified). */
const NO_ABORTED: FetchResponse.AbortedTransaction[] = [];
/** Longest a fetch may wait, whatever it asks (bounds the purgatory's timers). */
const MAX_WAIT_MS = 60_000;

interface Wanted {
  topic: string;
  topicId: string;
  partition: number;
  target: Partition | undefined;
  /** An error decided before reading: unknown topic, topic id or partition. */
  unknown: number;
  /** A fenced or unknown leader epoch: answered at once, as a read error. */
  fenced: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

function partitionData(
  partitionIndex: number,
  errorCode: number,
  p: Partition | undefined,
): FetchResponse.PartitionData {
  return {
    ...FetchResponse.structs.PartitionData(),
    partitionIndex,
    errorCode,
    highWatermark: BigInt(p?.highWatermark ?? -1),
    lastStableOffset: BigInt(p?.lastStableOffset ?? -1),
    logStartOffset: BigInt(p?.log.logStartOffset ?? -1),
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

/** A read_committed answer lists aborted transactions: an empty list when there are none. */
function withAborted(d: FetchResponse.PartitionData, readCommitted: boolean): FetchResponse.PartitionData {
  if (readCommitted) d.abortedTransactions = NO_ABORTED;
  return d;
}

/**
 * A read_committed answer with the aborted transactions overlapping [from, to), the offsets of
 * its batches; in memory once the partition's aborted-transaction indexes are loaded.
 */
async function withAbortedOf(
  d: FetchResponse.PartitionData,
  p: Partition,
  from: number,
  to: number,
): Promise<FetchResponse.PartitionData> {
  if (to <= from) {
    d.abortedTransactions = NO_ABORTED;
    return d;
  }
  const found: readonly AbortedTransaction[] =
    p.log.abortedTransactionsInMemory(from, to) ?? (await p.log.collectAbortedTransactions(from, to));
  d.abortedTransactions =
    found.length === 0
      ? NO_ABORTED
      : // By first offset (Kafka lists them by marker): kafkajs's filter relies on that order.
        [...found]
          .sort((x, y) => x.firstOffset - y.firstOffset)
          .map((t) => ({
            producerId: t.producerId,
            firstOffset: BigInt(t.firstOffset),
            unknownTaggedFields: undefined,
          }));
  return d;
}

/** The request's partitions in the session cache's terms (names before v13, ids from v13). */
function requestedPartitions(req: FetchRequest, usesTopicIds: boolean): PartitionRequest[] {
  const out: PartitionRequest[] = [];
  for (const t of req.topics) {
    for (const p of t.partitions) {
      out.push({
        topic: usesTopicIds ? '' : t.topic,
        topicId: usesTopicIds ? t.topicId : ZERO_UUID,
        partition: p.partition,
        fetchOffset: Number(p.fetchOffset),
        fetcherLogStartOffset: Number(p.logStartOffset),
        partitionMaxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
      });
    }
  }
  return out;
}

function forgottenPartitions(req: FetchRequest, usesTopicIds: boolean): ForgottenPartition[] {
  const out: ForgottenPartition[] = [];
  for (const t of req.forgottenTopicsData) {
    for (const partition of t.partitions) {
      out.push({
        topic: usesTopicIds ? '' : t.topic,
        topicId: usesTopicIds ? t.topicId : ZERO_UUID,
        partition,
      });
    }
  }
  return out;
}

/** Finds each partition's topic in the current metadata and its hosted log. */
function resolveWanted(
  ctx: RequestContext,
  partitions: readonly PartitionRequest[],
  byId: boolean,
): Wanted[] {
  const image = ctx.broker.image();
  return partitions.map((r) => {
    const topic = byId ? image.topicsById.get(r.topicId) : image.topicsByName.get(r.topic);
    const target =
      topic === undefined ? undefined : ctx.broker.replicaManager.getPartition(topic.name, r.partition);
    let unknown: number = ErrorCode.NONE;
    let fenced: number = ErrorCode.NONE;
    if (topic === undefined)
      unknown = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    else if (target === undefined) unknown = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    else if (r.currentLeaderEpoch >= 0 && r.currentLeaderEpoch !== target.leaderEpoch) {
      fenced =
        r.currentLeaderEpoch > target.leaderEpoch
          ? ErrorCode.UNKNOWN_LEADER_EPOCH
          : ErrorCode.FENCED_LEADER_EPOCH;
    }
    return {
      topic: topic?.name ?? r.topic,
      topicId: topic?.topicId ?? r.topicId,
      partition: r.partition,
      target,
      unknown,
      fenced,
      fetchOffset: r.fetchOffset,
      partitionMaxBytes: r.partitionMaxBytes,
    };
  });
}

/**
 * Reads every wanted partition once; returns the answers, how many record bytes they hold and
 * whether a read failed (which answers the fetch at once).
 */
async function readAll(
  wanted: readonly Wanted[],
  maxBytes: number,
  readCommitted: boolean,
): Promise<{ data: FetchResponse.PartitionData[]; bytes: number; readError: boolean }> {
  const data: FetchResponse.PartitionData[] = [];
  let bytes = 0;
  let readError = false;
  for (const w of wanted) {
    const p = w.target;
    if (w.unknown !== ErrorCode.NONE || p === undefined) {
      data.push(partitionData(w.partition, w.unknown, undefined));
      continue;
    }
    if (w.fenced !== ErrorCode.NONE) {
      readError = true;
      data.push(partitionData(w.partition, w.fenced, p));
      continue;
    }
    const limit = Math.min(w.partitionMaxBytes, maxBytes - bytes);
    if (limit <= 0 && bytes > 0) {
      data.push(withAborted(partitionData(w.partition, ErrorCode.NONE, p), readCommitted));
      continue;
    }
    // At the log end, what was just appended is answered from memory (no read-back).
    const cached = p.cachedFrom(w.fetchOffset, limit, readCommitted);
    try {
      if (cached !== null) {
        bytes += cached.length;
        const answer = { ...partitionData(w.partition, ErrorCode.NONE, p), records: cached };
        data.push(readCommitted ? await withAbortedOf(answer, p, w.fetchOffset, p.highWatermark) : answer);
        continue;
      }
      const maxOffset = readCommitted ? p.lastStableOffset : p.highWatermark;
      const read = await p.log.read(w.fetchOffset, Math.max(limit, 0), { maxOffset });
      // Only the first partition with data may exceed the limits (with its first batch).
      const records = read.records.length > limit && bytes > 0 ? EMPTY : read.records;
      bytes += records.length;
      const answer = { ...partitionData(w.partition, ErrorCode.NONE, p), records };
      const end = records.length === 0 ? w.fetchOffset : read.nextOffset;
      data.push(readCommitted ? await withAbortedOf(answer, p, w.fetchOffset, end) : answer);
    } catch (e) {
      readError = true;
      data.push(partitionData(w.partition, errorCodeOf(e).errorCode, p));
    }
  }
  return { data, bytes, readError };
}

function sentOf(d: FetchResponse.PartitionData): PartitionSent {
  return {
    errorCode: d.errorCode,
    highWatermark: Number(d.highWatermark),
    lastStableOffset: Number(d.lastStableOffset),
    logStartOffset: Number(d.logStartOffset),
    preferredReadReplica: d.preferredReadReplica,
    recordBytes: d.records?.length ?? 0,
  };
}

/** The answers grouped by topic, in first-seen order; `keep[i]` false leaves answer i out. */
function byTopic(
  wanted: readonly Wanted[],
  data: readonly FetchResponse.PartitionData[],
  keep: readonly boolean[] | null,
): FetchResponse.FetchableTopicResponse[] {
  const topics = new Map<string, FetchResponse.FetchableTopicResponse>();
  wanted.forEach((w, i) => {
    if (keep !== null && keep[i] !== true) return;
    const key = `${w.topicId}/${w.topic}`;
    let t = topics.get(key);
    if (t === undefined) {
      t = { topic: w.topic, topicId: w.topicId, partitions: [], unknownTaggedFields: undefined };
      topics.set(key, t);
    }
    t.partitions.push(data[i]!);
  });
  return [...topics.values()];
}

export const fetchHandler = defineHandler<FetchRequest, FetchResponse>({
  api: apis.Fetch,
  minVersion: 4,
  maxVersion: 17,
  async handle(ctx, req) {
    const usesTopicIds = ctx.apiVersion >= 13;
    const sessions = ctx.broker.fetchSessions;
    const replicaId = ctx.apiVersion >= 15 ? req.replicaState.replicaId : req.replicaId;
    const privileged = replicaId >= 0;
    const context: FetchContext = sessions.newContext({
      sessionId: req.sessionId,
      sessionEpoch: req.sessionEpoch,
      usesTopicIds,
      privileged,
      partitions: requestedPartitions(req, usesTopicIds),
      forgotten: forgottenPartitions(req, usesTopicIds),
    });
    if (context.kind === 'error') {
      return { ...FetchResponse.create(), errorCode: context.errorCode, sessionId: INVALID_SESSION_ID };
    }
    // Resolved on every fetch: a topic id unknown when its partition joined a session may be known now.
    const wanted = resolveWanted(ctx, context.partitions, usesTopicIds);
    const maxBytes = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
    // Replicas read everything up to the high watermark, whatever isolation they ask for.
    const readCommitted = !privileged && req.isolationLevel === READ_COMMITTED;
    let result = await readAll(wanted, maxBytes, readCommitted);
    if (result.bytes < req.minBytes && req.maxWaitMs > 0 && !result.readError) {
      const partitions = wanted
        .filter((w) => w.unknown === ErrorCode.NONE)
        .map((w) => w.target)
        .filter((p): p is Partition => p !== undefined);
      const delayed = ctx.broker.replicaManager.waitForData(
        partitions,
        req.minBytes - result.bytes,
        Math.min(req.maxWaitMs, MAX_WAIT_MS),
        readCommitted,
      );
      if (delayed !== null) {
        await delayed.woken;
        delayed.close();
        result = await readAll(wanted, maxBytes, readCommitted);
      }
    }
    const { data } = result;
    switch (context.kind) {
      case 'sessionless':
        return {
          ...FetchResponse.create(),
          sessionId: INVALID_SESSION_ID,
          responses: byTopic(wanted, data, null),
        };
      case 'full': {
        const sessionId = sessions.maybeCreateSession(
          privileged,
          usesTopicIds,
          context.partitions,
          data.map(sentOf),
        );
        return { ...FetchResponse.create(), sessionId, responses: byTopic(wanted, data, null) };
      }
      case 'incremental': {
        const keep = sessions.selectChanged(context, data.map(sentOf));
        if (keep === null) {
          return {
            ...FetchResponse.create(),
            errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
            sessionId: context.session.id,
          };
        }
        return {
          ...FetchResponse.create(),
          sessionId: context.session.id,
          responses: byTopic(wanted, data, keep),
        };
      }
    }
  },
});
