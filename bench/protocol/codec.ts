/**
 * Produce-request decode and Fetch-response encode of 1 MiB of record batches, against a
 * Buffer.copy of the same 1 MiB. Record sets must stay slices of the input (decode) and be
 * passed by reference (encode), so both should beat the copy.
 */
import { decodeMessage, encodeMessageChunks } from '../../src/protocol/message.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import { compare, report } from '../support.js';

const TOTAL_BYTES = 1024 * 1024;
const PARTITIONS = 16;

/** Opaque stand-ins for record batches: the codecs never look inside record sets. */
function recordSets(): Buffer[] {
  const each = TOTAL_BYTES / PARTITIONS;
  return Array.from({ length: PARTITIONS }, (_, i) => Buffer.alloc(each, i + 1));
}

export function benchCodec(): void {
  const sets = recordSets();
  const copyTarget = Buffer.allocUnsafe(TOTAL_BYTES);
  const source = Buffer.concat(sets);
  const copy = (): number => source.copy(copyTarget);

  for (const version of [3, 9, 11]) {
    const request: ProduceRequest = {
      ...ProduceRequest.create(),
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [
        {
          name: 'bench-topic',
          partitionData: sets.map((records, index) => ({ index, records, unknownTaggedFields: undefined })),
          unknownTaggedFields: undefined,
        },
      ],
    };
    const wire = Buffer.concat(encodeMessageChunks(ProduceRequest, request, version));
    const encode = (): Buffer[] => encodeMessageChunks(ProduceRequest, request, version);
    report(
      `encode Produce v${version} (1 MiB, ${PARTITIONS} partitions)`,
      TOTAL_BYTES,
      compare(encode, copy, { callsPerRound: 200 }),
      'Buffer.copy',
    );
    const decode = (): unknown => {
      const r = decodeMessage(ProduceRequest, wire, version);
      if (!r.ok) throw r.error;
      return r.value;
    };
    report(
      `decode Produce v${version} (1 MiB, ${PARTITIONS} partitions)`,
      TOTAL_BYTES,
      compare(decode, copy, { callsPerRound: 200 }),
      'Buffer.copy',
    );
  }

  for (const version of [4, 11, 12, 16]) {
    const response: FetchResponse = {
      ...FetchResponse.create(),
      responses: [
        {
          ...FetchResponse.structs.FetchableTopicResponse(),
          topic: 'bench-topic',
          partitions: sets.map((records, partitionIndex) => ({
            ...FetchResponse.structs.PartitionData(),
            partitionIndex,
            highWatermark: 1000n,
            lastStableOffset: 1000n,
            logStartOffset: 0n,
            abortedTransactions: null,
            records,
          })),
        },
      ],
    };
    const encode = (): Buffer[] => encodeMessageChunks(FetchResponse, response, version);
    report(
      `encode Fetch v${version} (1 MiB, ${PARTITIONS} partitions)`,
      TOTAL_BYTES,
      compare(encode, copy, { callsPerRound: 200 }),
      'Buffer.copy',
    );
    const wire = Buffer.concat(encode());
    const decode = (): unknown => {
      const r = decodeMessage(FetchResponse, wire, version);
      if (!r.ok) throw r.error;
      return r.value;
    };
    report(
      `decode Fetch v${version} (1 MiB, ${PARTITIONS} partitions)`,
      TOTAL_BYTES,
      compare(decode, copy, { callsPerRound: 200 }),
      'Buffer.copy',
    );
  }
}
