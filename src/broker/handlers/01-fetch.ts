/**
 * Fetch (key 1), versions 4-17.
 *
 * Records are read from the log as wire bytes and sent by reference. A fetch that finds fewer
 * than `minBytes` waits in the purgatory until appends to its partitions bring enough bytes or
 * `maxWaitMs` passes — woken by the append, never by polling. `maxBytes` bounds the response and
 * `partitionMaxBytes` each partition; the first batch found is returned whole even when larger,
 * so a consumer always makes progress (KIP-74). Topic ids from v13.
 * Deviation: fetch sessions (KIP-227) are not kept: every answer is a full, sessionless one
 * (sessionId 0), which clients accept; an incremental request (sessionId ≠ 0) gets
 * FETCH_SESSION_ID_NOT_FOUND and the client starts over with a full fetch.
 * Versions 0-3 (message formats 0/1 only) are not served.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { FetchRequest } from '../../protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../protocol/generated/message/FetchResponse.js';
import { errorCodeOf, type Partition } from '../replica-manager.js';
import { defineHandler, type RequestContext } from './types.js';

const EMPTY = Buffer.alloc(0);
/** Longest a fetch may wait, whatever it asks (bounds the purgatory's timers). */
const MAX_WAIT_MS = 60_000;

interface Wanted {
  topic: string;
  topicId: string;
  partition: number;
  target: Partition | undefined;
  /** An error decided before reading (unknown topic id, fenced epoch). */
  error: number;
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

function resolveWanted(ctx: RequestContext, req: FetchRequest): Wanted[] {
  const image = ctx.broker.image();
  const out: Wanted[] = [];
  for (const t of req.topics) {
    const byId = ctx.apiVersion >= 13;
    const topic = byId ? image.topicsById.get(t.topicId) : image.topicsByName.get(t.topic);
    for (const p of t.partitions) {
      const target =
        topic === undefined ? undefined : ctx.broker.replicaManager.getPartition(topic.name, p.partition);
      let error: number = ErrorCode.NONE;
      if (topic === undefined)
        error = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (target === undefined) error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== target.leaderEpoch) {
        error =
          p.currentLeaderEpoch > target.leaderEpoch
            ? ErrorCode.UNKNOWN_LEADER_EPOCH
            : ErrorCode.FENCED_LEADER_EPOCH;
      }
      out.push({
        topic: topic?.name ?? t.topic,
        topicId: topic?.topicId ?? t.topicId,
        partition: p.partition,
        target,
        error,
        fetchOffset: Number(p.fetchOffset),
        partitionMaxBytes: p.partitionMaxBytes,
      });
    }
  }
  return out;
}

/** Reads every wanted partition once; returns the answers and how many record bytes they hold. */
async function readAll(
  wanted: Wanted[],
  maxBytes: number,
): Promise<{ data: FetchResponse.PartitionData[]; bytes: number }> {
  const data: FetchResponse.PartitionData[] = [];
  let bytes = 0;
  for (const w of wanted) {
    const p = w.target;
    if (w.error !== ErrorCode.NONE || p === undefined) {
      data.push(partitionData(w.partition, w.error, p));
      continue;
    }
    const limit = Math.min(w.partitionMaxBytes, maxBytes - bytes);
    if (limit <= 0 && bytes > 0) {
      data.push(partitionData(w.partition, ErrorCode.NONE, p));
      continue;
    }
    try {
      const read = await p.log.read(w.fetchOffset, Math.max(limit, 0), { maxOffset: p.highWatermark });
      // Only the first partition with data may exceed the limits (with its first batch).
      const records = read.records.length > limit && bytes > 0 ? EMPTY : read.records;
      bytes += records.length;
      data.push({ ...partitionData(w.partition, ErrorCode.NONE, p), records });
    } catch (e) {
      data.push(partitionData(w.partition, errorCodeOf(e).errorCode, p));
    }
  }
  return { data, bytes };
}

export const fetchHandler = defineHandler<FetchRequest, FetchResponse>({
  api: apis.Fetch,
  minVersion: 4,
  maxVersion: 17,
  async handle(ctx, req) {
    if (req.sessionId !== 0 && req.sessionEpoch !== -1) {
      return { ...FetchResponse.create(), errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0 };
    }
    const wanted = resolveWanted(ctx, req);
    const maxBytes = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
    let result = await readAll(wanted, maxBytes);
    const anyError = result.data.some((d) => d.errorCode !== ErrorCode.NONE);
    if (result.bytes < req.minBytes && req.maxWaitMs > 0 && !anyError) {
      const partitions = wanted.map((w) => w.target).filter((p): p is Partition => p !== undefined);
      await ctx.broker.replicaManager.waitForData(
        partitions,
        req.minBytes - result.bytes,
        Math.min(req.maxWaitMs, MAX_WAIT_MS),
      );
      result = await readAll(wanted, maxBytes);
    }
    const byTopic = new Map<string, FetchResponse.FetchableTopicResponse>();
    wanted.forEach((w, i) => {
      const key = `${w.topicId}/${w.topic}`;
      let t = byTopic.get(key);
      if (t === undefined) {
        t = { topic: w.topic, topicId: w.topicId, partitions: [], unknownTaggedFields: undefined };
        byTopic.set(key, t);
      }
      t.partitions.push(result.data[i]!);
    });
    return { ...FetchResponse.create(), sessionId: 0, responses: [...byTopic.values()] };
  },
});
