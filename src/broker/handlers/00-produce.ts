/**
 * Produce (key 0), versions 0-11. Versions 0-2 are advertised because librdkafka before 2.8
 * enables gzip, snappy and lz4 only when a broker lists Produce v0 (Kafka 4 does the same for
 * that reason, KAFKA-18659); their batches are the old message formats (magic 0/1), which the
 * log refuses per partition with UNSUPPORTED_FOR_MESSAGE_FORMAT.
 *
 * Batches stay wire bytes: the log validates their headers and CRCs, patches offsets and the
 * leader epoch in place, and writes them — unless the topic's compression.type names a codec
 * other than the batch's, when the batch is rewritten in it first (recompress.ts). acks=0 gets
 * no response (and, as in Kafka, a closed connection when a partition failed, so the client
 * refreshes its metadata); acks=1 and acks=-1 answer once the batches are written — with one
 * replica the in-sync set is this broker alone.
 * Clients other than Kafka's admin client (`__admin_client`) may not write to the internal
 * topics (INVALID_TOPIC_EXCEPTION), whose records only the coordinators write.
 *
 * Transactions: a request holding a transactional batch must name its transactional id, or the
 * whole request is answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED (Kafka's KafkaApis looks at
 * each partition's first batch, as here). Control batches (markers) are the coordinator's to
 * write: from a client they are INVALID_RECORD; a non-transactional batch from a producer with a
 * transaction open is INVALID_TXN_STATE (both in the producer state). KIP-890 server-side
 * verification (transaction.partition.verification.enable): each transactional batch's partition
 * must be in its producer's ongoing transaction (txn-coordination.ts), else INVALID_TXN_STATE.
 * From v3 on, as in Kafka, a partition's records must be exactly one batch (INVALID_RECORD). */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  CURRENT_MAGIC,
  TRANSACTIONAL_BIT,
} from '../../protocol/records/batch-view.js';
import type { ProduceRequest } from '../../protocol/generated/message/ProduceRequest.js';
import { ProduceResponse } from '../../protocol/generated/message/ProduceResponse.js';
import { errorCodeOf, type Partition } from '../replica-manager.js';
import type { BrokerServices } from '../services.js';
import { verifyTxnPartition } from '../txn-coordination.js';
import { isInternalTopic } from './03-metadata.js';
import { defineHandler } from './types.js';

type PartitionResult = ProduceResponse.PartitionProduceResponse;

/** The client id with which Kafka's own admin tools may write to internal topics. */
const ADMIN_CLIENT_ID = '__admin_client';

const NO_LEADER = { leaderId: -1, leaderEpoch: -1, unknownTaggedFields: undefined };

function result(index: number, errorCode: number, errorMessage: string | null = null): PartitionResult {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage,
    currentLeader: NO_LEADER,
    unknownTaggedFields: undefined,
  };
}

function refuseAll(req: ProduceRequest, code: number, message: string): ProduceResponse['responses'] {
  return req.topicData.map((t) => ({
    name: t.name,
    partitionResponses: t.partitionData.map((p) => result(p.index, code, message)),
    unknownTaggedFields: undefined,
  }));
}

/**
 * The first batch of `records` is a transactional magic-2 batch (the old formats have no such
 * bit; the log refuses them). Only its header is read; the log validates the rest.
 */
function isTransactional(records: Buffer | null): boolean {
  return (
    records !== null &&
    records.length >= BATCH_HEADER_BYTES &&
    records[BatchField.magic] === CURRENT_MAGIC &&
    (records.readInt16BE(BatchField.attributes) & TRANSACTIONAL_BIT) !== 0
  );
}

/**
 * The records hold one batch (or are too short or malformed to tell: the log answers those). Magic
 * 0/1 message sets, which hold several messages, come only before v3.
 */
function isSingleBatch(records: Buffer): boolean {
  if (records.length < BatchField.batchLength + 4) return true;
  return records.readInt32BE(BatchField.batchLength) + 12 >= records.length;
}

/** Kafka's hasTransactionalRecords: any partition's first batch is transactional. */
function hasTransactionalRecords(req: ProduceRequest): boolean {
  for (const t of req.topicData) for (const p of t.partitionData) if (isTransactional(p.records)) return true;
  return false;
}

/**
 * KIP-890: asks the transaction coordinator whether the partition is in the producer's ongoing
 * transaction before appending; its error code answers the partition instead. Synchronous (the
 * coordinator is in this process), so appends still start in request order.
 */
function verifyThenAppend(
  b: BrokerServices,
  transactionalId: string,
  partition: Partition,
  records: Buffer,
  out: PartitionResult,
): Promise<void> {
  const errorCode = verifyTxnPartition(b, {
    transactionalId,
    producerId: records.readBigInt64BE(BatchField.producerId),
    producerEpoch: records.readInt16BE(BatchField.producerEpoch),
    topic: partition.topic,
    partition: partition.partition,
  });
  if (errorCode !== ErrorCode.NONE) {
    out.errorCode = errorCode;
    out.logStartOffset = BigInt(partition.log.logStartOffset);
    return Promise.resolve();
  }
  return append(b, partition, records, out);
}

/** Appends one partition's batches and fills in its answer `out` (errors included: it never rejects). */
async function append(
  b: BrokerServices,
  partition: Partition,
  records: Buffer,
  out: PartitionResult,
): Promise<void> {
  try {
    const info = await partition.appendAsLeader(records);
    out.baseOffset = BigInt(info.firstOffset);
    out.logAppendTimeMs = BigInt(info.logAppendTimeMs);
    out.logStartOffset = BigInt(info.logStartOffset);
  } catch (e) {
    const { errorCode, errorMessage } = errorCodeOf(e);
    if (errorCode === ErrorCode.UNKNOWN_SERVER_ERROR)
      b.log(`produce to ${partition.topic}-${partition.partition} failed: ${errorMessage}`);
    out.errorCode = errorCode;
    out.errorMessage = errorMessage;
    out.logStartOffset = BigInt(partition.log.logStartOffset);
  }
}

/**
 * Starts every partition's append (each log assigns offsets synchronously, in request order)
 * and returns the answers, filled in as the appends complete, with what to wait for.
 */
function appendAll(
  b: BrokerServices,
  req: ProduceRequest,
  version: number,
  internalTopicsAllowed: boolean,
): { responses: ProduceResponse['responses']; appends: Promise<void>[] } {
  const appends: Promise<void>[] = [];
  const verify = req.transactionalId !== null && b.config.transactionPartitionVerificationEnable;
  const responses = req.topicData.map((t) => ({
    name: t.name,
    partitionResponses: t.partitionData.map((p): PartitionResult => {
      if (!internalTopicsAllowed && isInternalTopic(t.name)) {
        // Coordinator state is written by the coordinators only, as in Kafka.
        return result(
          p.index,
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `Cannot append to internal topic ${t.name}`,
        );
      }
      const partition = b.replicaManager.getPartition(t.name, p.index);
      if (partition === undefined) {
        return result(
          p.index,
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          'This server does not host this topic-partition.',
        );
      }
      if (p.records === null || p.records.length === 0) {
        return result(p.index, ErrorCode.INVALID_RECORD, 'no record batches in the request');
      }
      if (version >= 3 && !isSingleBatch(p.records)) {
        return result(
          p.index,
          ErrorCode.INVALID_RECORD,
          `Produce requests with version ${version} are only allowed to contain exactly one record batch per partition`,
        );
      }
      const out = result(p.index, ErrorCode.NONE);
      appends.push(
        verify && req.transactionalId !== null && isTransactional(p.records)
          ? verifyThenAppend(b, req.transactionalId, partition, p.records, out)
          : append(b, partition, p.records, out),
      );
      return out;
    }),
    unknownTaggedFields: undefined,
  }));
  return { responses, appends };
}

export const produceHandler = defineHandler<ProduceRequest, ProduceResponse>({
  api: apis.Produce,
  minVersion: 0,
  maxVersion: 11,
  async handle(ctx, req) {
    const acks = req.acks;
    let responses: ProduceResponse['responses'];
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      responses = refuseAll(req, ErrorCode.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, not ${acks}`);
    } else if (req.transactionalId === null && hasTransactionalRecords(req)) {
      responses = refuseAll(
        req,
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        'transactional records need the transactional id in the request',
      );
    } else {
      const started = appendAll(ctx.broker, req, ctx.apiVersion, ctx.header.clientId === ADMIN_CLIENT_ID);
      responses = started.responses;
      // One partition (the usual request) is awaited alone: no Promise.all per request.
      if (started.appends.length === 1) await started.appends[0];
      else if (started.appends.length > 1) await Promise.all(started.appends);
    }
    if (acks === 0) {
      const failed = responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== ErrorCode.NONE));
      return failed
        ? { close: 'a produce with acks=0 failed; closing so the client refreshes its metadata' }
        : null;
    }
    return { ...ProduceResponse.create(), responses };
  },
});
