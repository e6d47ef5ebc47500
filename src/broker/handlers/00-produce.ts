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
 * Deviation: transactional produce arrives with the transactions issue; until then a
 * transactional id is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED. */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { ProduceRequest } from '../../protocol/generated/message/ProduceRequest.js';
import { ProduceResponse } from '../../protocol/generated/message/ProduceResponse.js';
import { errorCodeOf } from '../replica-manager.js';
import { defineHandler } from './types.js';

type PartitionResult = ProduceResponse.PartitionProduceResponse;

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

export const produceHandler = defineHandler<ProduceRequest, ProduceResponse>({
  api: apis.Produce,
  minVersion: 0,
  maxVersion: 11,
  async handle(ctx, req) {
    const b = ctx.broker;
    const acks = req.acks;
    const refuseAll = (code: number, message: string): ProduceResponse['responses'] =>
      req.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((p) => result(p.index, code, message)),
        unknownTaggedFields: undefined,
      }));

    let responses: ProduceResponse['responses'];
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      responses = refuseAll(ErrorCode.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, not ${acks}`);
    } else if (req.transactionalId !== null) {
      responses = refuseAll(
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        'transactional produce is not supported by this broker yet',
      );
    } else {
      responses = await Promise.all(
        req.topicData.map(async (t) => ({
          name: t.name,
          partitionResponses: await Promise.all(
            t.partitionData.map(async (p): Promise<PartitionResult> => {
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
              try {
                const info = await partition.appendAsLeader(p.records);
                return {
                  ...result(p.index, ErrorCode.NONE),
                  baseOffset: BigInt(info.firstOffset),
                  logAppendTimeMs: BigInt(info.logAppendTimeMs),
                  logStartOffset: BigInt(info.logStartOffset),
                };
              } catch (e) {
                const { errorCode, errorMessage } = errorCodeOf(e);
                if (errorCode === ErrorCode.UNKNOWN_SERVER_ERROR)
                  b.log(`produce to ${t.name}-${p.index} failed: ${errorMessage}`);
                return {
                  ...result(p.index, errorCode, errorMessage),
                  logStartOffset: BigInt(partition.log.logStartOffset),
                };
              }
            }),
          ),
          unknownTaggedFields: undefined,
        })),
      );
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
