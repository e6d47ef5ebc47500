/**
 * ListOffsets (key 2), versions 0-10.
 *
 * Per partition, the offset a timestamp names: -2 the log start offset (earliest), -1 the high
 * watermark (latest; the last stable offset for read_committed consumers, v2+), -3 the record
 * with the largest timestamp (v7+), -4 the local log start offset (v8+; the log start here: no
 * tiered storage), -5 the last tiered offset (v9+; always offset -1 here, as Kafka answers
 * without tiered storage), any other value the first record whose timestamp is at or after it —
 * found record by record inside its batch, answered with that record's own timestamp — or
 * offset -1 / timestamp -1 when there is none below the high watermark. The leader epoch that
 * wrote the answer comes back from v4, and a request's currentLeaderEpoch is fenced as in Fetch
 * (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH). As in Kafka, followers (replicaId ≥ 0) see the
 * log end rather than the high watermark, only the debugging replica id (-2) may ask a
 * non-leader, and a partition named twice in one request gets INVALID_REQUEST.
 * Deviations: v0 answers at most one offset (Kafka's legacy answer lists segment base offsets by
 * modification time): -2 the log start, -1 the high watermark, a timestamp the v1 answer or
 * none. OFFSET_NOT_AVAILABLE (a new leader whose high watermark still lags) is never answered:
 * the high watermark here does not lag. timeoutMs (v10, remote lookups) has nothing to wait for.
 * For -3, records below the log start (DeleteRecords) do not count, where Kafka may answer a
 * deleted offset, and the leader epoch is that of the record's batch, not the latest one.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { ListOffsetsRequest } from '../../protocol/generated/message/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../protocol/generated/message/ListOffsetsResponse.js';
import { DecodeError } from '../../protocol/primitives/errors.js';
import { decodeRecordBatch, recordTimestamp } from '../../protocol/records/batch.js';
import { BatchField, BatchSplitter, readInt64Number } from '../../protocol/records/batch-view.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../storage/cleaner.js';
import type { PartitionLog } from '../../storage/log.js';
import { errorCodeOf, type Partition } from '../replica-manager.js';
import { defineHandler, type RequestContext } from './types.js';

/** ListOffsets' special timestamps (Kafka's ListOffsetsRequest constants). */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;
export const LATEST_TIERED_TIMESTAMP = -5;

/** Replica ids of requests from consumers and from debugging tools (which may read any replica). */
export const CONSUMER_REPLICA_ID = -1;
export const DEBUGGING_REPLICA_ID = -2;

const READ_COMMITTED = 1;
/** Bytes read at a time while looking for a record inside batches. */
const LOOKUP_READ_BYTES = 1024 * 1024;

/**
 * The partition a per-partition request names, or the error Kafka answers for it: unknown topic
 * or partition, not hosted here or not led here (NOT_LEADER_OR_FOLLOWER, unless `requireLeader`
 * is false), or a currentLeaderEpoch that is older (FENCED_LEADER_EPOCH) or newer
 * (UNKNOWN_LEADER_EPOCH) than the partition's; -1 means "no epoch given".
 */
export function resolvePartition(
  ctx: RequestContext,
  topic: string,
  partition: number,
  currentLeaderEpoch: number,
  requireLeader: boolean,
): Partition | { error: number } {
  const b = ctx.broker;
  const p = b.replicaManager.getPartition(topic, partition);
  if (p === undefined) {
    const known = b.image().topicsByName.get(topic)?.partitions.has(partition) ?? false;
    return { error: known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  }
  if (currentLeaderEpoch !== -1 && currentLeaderEpoch !== p.leaderEpoch) {
    return {
      error:
        currentLeaderEpoch < p.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH,
    };
  }
  if (requireLeader && p.leaderId !== b.nodeId) return { error: ErrorCode.NOT_LEADER_OR_FOLLOWER };
  return p;
}

interface Found {
  offset: number;
  timestampMs: number;
  leaderEpoch: number;
}

/** One stored batch as the walk sees it: its bytes and header fields. */
interface WalkedBatch {
  bytes: Buffer;
  baseOffset: number;
  lastOffset: number;
  maxTimestampMs: number;
  /** The epoch that wrote it, -1 when unknown. */
  leaderEpoch: number;
}

/**
 * Visits whole batches from the one holding `from` up to (not including) `endOffset`, in order,
 * until `visit` returns true.
 */
async function walkBatches(
  log: PartitionLog,
  from: number,
  endOffset: number,
  visit: (b: WalkedBatch) => boolean,
): Promise<void> {
  let offset = from;
  while (offset < endOffset) {
    const { records } = await log.read(offset, LOOKUP_READ_BYTES, { maxOffset: endOffset });
    if (records.length === 0) return;
    const splitter = new BatchSplitter(records);
    let next = offset;
    while (splitter.next()) {
      const bytes = splitter.batch();
      const baseOffset = readInt64Number(bytes, BatchField.baseOffset);
      const lastOffset = baseOffset + bytes.readInt32BE(BatchField.lastOffsetDelta);
      const epoch = bytes.readInt32BE(BatchField.partitionLeaderEpoch);
      next = lastOffset + 1;
      const stop = visit({
        bytes,
        baseOffset,
        lastOffset,
        maxTimestampMs: readInt64Number(bytes, BatchField.maxTimestamp),
        leaderEpoch: epoch >= 0 ? epoch : -1,
      });
      if (stop) return;
    }
    if (next <= offset) return;
    offset = next;
  }
}

/**
 * The records of a batch at or after `minOffset`, each with its own offset and timestamp. A batch
 * that cannot be decoded stands for itself: its first offset (at or after `minOffset`) and max
 * timestamp, the batch granularity the log's own index has.
 */
function recordsOf(b: WalkedBatch, minOffset: number): { offset: number; timestampMs: number }[] {
  const decoded = decodeRecordBatch(b.bytes, {
    maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
    verifyCrc: false,
  });
  if (decoded instanceof DecodeError) {
    return [{ offset: Math.max(b.baseOffset, minOffset), timestampMs: b.maxTimestampMs }];
  }
  const out: { offset: number; timestampMs: number }[] = [];
  for (const r of decoded.records) {
    const offset = b.baseOffset + r.offsetDelta;
    if (offset >= minOffset) out.push({ offset, timestampMs: recordTimestamp(decoded, r) });
  }
  return out;
}

/**
 * The first record at or after the log start whose timestamp reaches `timestampMs`: the log's
 * time index finds the batch, the batch's records give the exact offset and timestamp.
 */
async function offsetForTimestamp(log: PartitionLog, timestampMs: number): Promise<Found | null> {
  const candidate = await log.offsetForTimestamp(timestampMs);
  if (candidate === null) return null;
  const start = log.logStartOffset;
  let found: Found | null = null;
  await walkBatches(log, Math.max(candidate.offset, start), log.logEndOffset, (b) => {
    if (b.lastOffset < start || b.maxTimestampMs < timestampMs) return false;
    const r = recordsOf(b, start).find((x) => x.timestampMs >= timestampMs);
    if (r !== undefined) found = { ...r, leaderEpoch: b.leaderEpoch };
    return found !== null;
  });
  return found;
}

/**
 * The record with the largest timestamp at or after the log start (the first such record on a
 * tie). Segments wholly above the log start answer from their own max timestamp; the segment the
 * log start falls inside is scanned from the log start, since its max may belong to a deleted
 * record. The winning batch is then decoded for the exact record.
 */
async function maxTimestampRecord(log: PartitionLog): Promise<Found | null> {
  const start = log.logStartOffset;
  let best: Found | null = null;
  /** Where the best record is, when only its batch is known (the segment's offsetOfMaxTimestamp). */
  let hint = -1;
  for (const segment of [...log.segments]) {
    await segment.indexes();
    if (segment.nextOffset <= start || segment.maxTimestampMs < 0) continue;
    if (best !== null && segment.maxTimestampMs <= best.timestampMs) continue;
    if (segment.baseOffset >= start) {
      best = { offset: -1, timestampMs: segment.maxTimestampMs, leaderEpoch: -1 };
      hint = segment.offsetOfMaxTimestamp;
      continue;
    }
    await walkBatches(log, start, segment.nextOffset, (b) => {
      if (b.lastOffset < start || (best !== null && b.maxTimestampMs <= best.timestampMs)) return false;
      for (const r of recordsOf(b, start)) {
        if (best === null || r.timestampMs > best.timestampMs) {
          best = { ...r, leaderEpoch: b.leaderEpoch };
          hint = -1;
        }
      }
      return false;
    });
  }
  if (best === null || hint < 0) return best;
  const target = best.timestampMs;
  let found: Found | null = null;
  await walkBatches(log, Math.max(hint, start), log.logEndOffset, (b) => {
    if (b.maxTimestampMs !== target) return false;
    const r = recordsOf(b, start).find((x) => x.timestampMs === target);
    if (r !== undefined) found = { ...r, leaderEpoch: b.leaderEpoch };
    return found !== null;
  });
  return found;
}

/** The epoch that wrote `offset`, -1 when the log does not know. */
function epochAt(log: PartitionLog, offset: number): number {
  return log.epochCache.epochForOffset(offset) ?? -1;
}

/** The answer for one partition; null when no offset matches (offset -1, timestamp -1). */
async function lookup(p: Partition, timestamp: number, lastFetchable: number): Promise<Found | null> {
  const log = p.log;
  let found: Found | null;
  switch (timestamp) {
    case LATEST_TIMESTAMP:
      return { offset: lastFetchable, timestampMs: -1, leaderEpoch: p.leaderEpoch };
    case EARLIEST_TIMESTAMP:
    case EARLIEST_LOCAL_TIMESTAMP:
      return { offset: log.logStartOffset, timestampMs: -1, leaderEpoch: epochAt(log, log.logStartOffset) };
    case LATEST_TIERED_TIMESTAMP:
      return null;
    case MAX_TIMESTAMP:
      found = await maxTimestampRecord(log);
      break;
    default:
      found = await offsetForTimestamp(log, timestamp);
  }
  // Only records a reader at this isolation level may see count.
  return found !== null && found.offset < lastFetchable ? found : null;
}

type PartitionResult = ListOffsetsResponse.ListOffsetsPartitionResponse;

function failed(partitionIndex: number, errorCode: number): PartitionResult {
  return { ...ListOffsetsResponse.structs.ListOffsetsPartitionResponse(), partitionIndex, errorCode };
}

async function answer(
  ctx: RequestContext,
  req: ListOffsetsRequest,
  topic: string,
  rp: ListOffsetsRequest.ListOffsetsPartition,
): Promise<PartitionResult> {
  const resolved = resolvePartition(
    ctx,
    topic,
    rp.partitionIndex,
    rp.currentLeaderEpoch,
    req.replicaId !== DEBUGGING_REPLICA_ID,
  );
  if ('error' in resolved) return failed(rp.partitionIndex, resolved.error);
  const p = resolved;
  const lastFetchable =
    req.replicaId !== CONSUMER_REPLICA_ID
      ? p.log.logEndOffset
      : ctx.apiVersion >= 2 && req.isolationLevel === READ_COMMITTED
        ? p.lastStableOffset
        : p.highWatermark;
  let found: Found | null;
  try {
    found = await lookup(p, Number(rp.timestamp), lastFetchable);
  } catch (e) {
    const { errorCode, errorMessage } = errorCodeOf(e);
    if (errorCode === ErrorCode.UNKNOWN_SERVER_ERROR)
      ctx.broker.log(`list offsets of ${topic}-${rp.partitionIndex} failed: ${errorMessage}`);
    return failed(rp.partitionIndex, errorCode);
  }
  const result = failed(rp.partitionIndex, ErrorCode.NONE);
  if (ctx.apiVersion === 0) {
    if (found !== null && rp.maxNumOffsets > 0) result.oldStyleOffsets = [BigInt(found.offset)];
    return result;
  }
  if (found === null) return result;
  result.offset = BigInt(found.offset);
  result.timestamp = BigInt(found.timestampMs);
  if (ctx.apiVersion >= 4) result.leaderEpoch = found.leaderEpoch;
  return result;
}

export const listOffsetsHandler = defineHandler<ListOffsetsRequest, ListOffsetsResponse>({
  api: apis.ListOffsets,
  minVersion: 0,
  maxVersion: 10,
  async handle(ctx, req) {
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const key = `${p.partitionIndex}:${t.name}`;
        if (seen.has(key)) duplicates.add(key);
        seen.add(key);
      }
    }
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p) =>
            duplicates.has(`${p.partitionIndex}:${t.name}`)
              ? failed(p.partitionIndex, ErrorCode.INVALID_REQUEST)
              : answer(ctx, req, t.name, p),
          ),
        ),
        unknownTaggedFields: undefined,
      })),
    );
    return { ...ListOffsetsResponse.create(), topics };
  },
});
