/**
 * Coordinator records: what the group coordinator writes to `__consumer_offsets`, with Kafka's
 * record schemas (generated from coordinator-records/). Each record is a log record whose key
 * is an int16 key version (which also names the record type) followed by the key struct, and
 * whose value is an int16 value version followed by the value struct — or null, a tombstone
 * that deletes the key (and lets compaction drop it).
 *
 * Key versions: 0 and 1 offset commit, 2 classic group metadata, 3–8 the consumer group
 * (KIP-848) records. Kafka's tools (kafka-dump-log --offsets-decoder) read these bytes.
 */
import { decodeMessage } from '../protocol/message.js';
import type { MessageCodec } from '../protocol/primitives/codec.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { ConsumerGroupCurrentMemberAssignmentKey } from '../protocol/generated/coordinator-records/ConsumerGroupCurrentMemberAssignmentKey.js';
import { ConsumerGroupCurrentMemberAssignmentValue } from '../protocol/generated/coordinator-records/ConsumerGroupCurrentMemberAssignmentValue.js';
import { ConsumerGroupMemberMetadataKey } from '../protocol/generated/coordinator-records/ConsumerGroupMemberMetadataKey.js';
import { ConsumerGroupMemberMetadataValue } from '../protocol/generated/coordinator-records/ConsumerGroupMemberMetadataValue.js';
import { ConsumerGroupMetadataKey } from '../protocol/generated/coordinator-records/ConsumerGroupMetadataKey.js';
import { ConsumerGroupMetadataValue } from '../protocol/generated/coordinator-records/ConsumerGroupMetadataValue.js';
import { ConsumerGroupPartitionMetadataKey } from '../protocol/generated/coordinator-records/ConsumerGroupPartitionMetadataKey.js';
import { ConsumerGroupPartitionMetadataValue } from '../protocol/generated/coordinator-records/ConsumerGroupPartitionMetadataValue.js';
import { ConsumerGroupTargetAssignmentMemberKey } from '../protocol/generated/coordinator-records/ConsumerGroupTargetAssignmentMemberKey.js';
import { ConsumerGroupTargetAssignmentMemberValue } from '../protocol/generated/coordinator-records/ConsumerGroupTargetAssignmentMemberValue.js';
import { ConsumerGroupTargetAssignmentMetadataKey } from '../protocol/generated/coordinator-records/ConsumerGroupTargetAssignmentMetadataKey.js';
import { ConsumerGroupTargetAssignmentMetadataValue } from '../protocol/generated/coordinator-records/ConsumerGroupTargetAssignmentMetadataValue.js';
import { GroupMetadataKey } from '../protocol/generated/coordinator-records/GroupMetadataKey.js';
import { GroupMetadataValue } from '../protocol/generated/coordinator-records/GroupMetadataValue.js';
import { OffsetCommitKey } from '../protocol/generated/coordinator-records/OffsetCommitKey.js';
import { OffsetCommitValue } from '../protocol/generated/coordinator-records/OffsetCommitValue.js';

export type CoordinatorRecord =
  | { type: 'offsetCommit'; key: OffsetCommitKey; value: OffsetCommitValue | null }
  | { type: 'groupMetadata'; key: GroupMetadataKey; value: GroupMetadataValue | null }
  | { type: 'consumerGroupMetadata'; key: ConsumerGroupMetadataKey; value: ConsumerGroupMetadataValue | null }
  | {
      type: 'consumerGroupPartitionMetadata';
      key: ConsumerGroupPartitionMetadataKey;
      value: ConsumerGroupPartitionMetadataValue | null;
    }
  | {
      type: 'consumerGroupMemberMetadata';
      key: ConsumerGroupMemberMetadataKey;
      value: ConsumerGroupMemberMetadataValue | null;
    }
  | {
      type: 'consumerGroupTargetAssignmentMetadata';
      key: ConsumerGroupTargetAssignmentMetadataKey;
      value: ConsumerGroupTargetAssignmentMetadataValue | null;
    }
  | {
      type: 'consumerGroupTargetAssignmentMember';
      key: ConsumerGroupTargetAssignmentMemberKey;
      value: ConsumerGroupTargetAssignmentMemberValue | null;
    }
  | {
      type: 'consumerGroupCurrentMemberAssignment';
      key: ConsumerGroupCurrentMemberAssignmentKey;
      value: ConsumerGroupCurrentMemberAssignmentValue | null;
    };

export type CoordinatorRecordType = CoordinatorRecord['type'];

interface RecordSchema {
  keyVersion: number;
  key: MessageCodec<unknown>;
  value: MessageCodec<unknown>;
  /** The value version written (the newest Kafka 3.x writes for it). */
  valueVersion: number;
}

const SCHEMAS: { [K in CoordinatorRecordType]: RecordSchema } = {
  offsetCommit: { keyVersion: 1, key: OffsetCommitKey, value: OffsetCommitValue, valueVersion: 3 },
  groupMetadata: { keyVersion: 2, key: GroupMetadataKey, value: GroupMetadataValue, valueVersion: 3 },
  consumerGroupMetadata: {
    keyVersion: 3,
    key: ConsumerGroupMetadataKey,
    value: ConsumerGroupMetadataValue,
    valueVersion: 0,
  },
  consumerGroupPartitionMetadata: {
    keyVersion: 4,
    key: ConsumerGroupPartitionMetadataKey,
    value: ConsumerGroupPartitionMetadataValue,
    valueVersion: 0,
  },
  consumerGroupMemberMetadata: {
    keyVersion: 5,
    key: ConsumerGroupMemberMetadataKey,
    value: ConsumerGroupMemberMetadataValue,
    valueVersion: 0,
  },
  consumerGroupTargetAssignmentMetadata: {
    keyVersion: 6,
    key: ConsumerGroupTargetAssignmentMetadataKey,
    value: ConsumerGroupTargetAssignmentMetadataValue,
    valueVersion: 0,
  },
  consumerGroupTargetAssignmentMember: {
    keyVersion: 7,
    key: ConsumerGroupTargetAssignmentMemberKey,
    value: ConsumerGroupTargetAssignmentMemberValue,
    valueVersion: 0,
  },
  consumerGroupCurrentMemberAssignment: {
    keyVersion: 8,
    key: ConsumerGroupCurrentMemberAssignmentKey,
    value: ConsumerGroupCurrentMemberAssignmentValue,
    valueVersion: 0,
  },
};

const TYPE_BY_KEY_VERSION = new Map<number, CoordinatorRecordType>([[0, 'offsetCommit']]);
for (const [type, schema] of Object.entries(SCHEMAS)) {
  TYPE_BY_KEY_VERSION.set(schema.keyVersion, type as CoordinatorRecordType);
}

function versioned(codec: MessageCodec<unknown>, version: number, value: unknown): Buffer {
  const w = new Writer(2 + codec.size(value, version));
  w.int16(version);
  codec.write(w, value, version);
  return w.finishBuffer();
}

/** The log record key and value (null for a tombstone) of a coordinator record. */
export function encodeCoordinatorRecord(record: CoordinatorRecord): { key: Buffer; value: Buffer | null } {
  const schema = SCHEMAS[record.type];
  return {
    key: versioned(schema.key, schema.keyVersion, record.key),
    value: record.value === null ? null : versioned(schema.value, schema.valueVersion, record.value),
  };
}

/**
 * Decodes a log record of `__consumer_offsets`. Returns null for a key version this broker
 * does not know (Kafka skips those too: share-group and future records), a string when the
 * bytes are malformed.
 */
export function decodeCoordinatorRecord(
  key: Buffer,
  value: Buffer | null,
): CoordinatorRecord | null | string {
  if (key.length < 2) return 'coordinator record key shorter than its version';
  const keyVersion = key.readInt16BE(0);
  const type = TYPE_BY_KEY_VERSION.get(keyVersion);
  if (type === undefined) return null;
  const schema = SCHEMAS[type];
  const k = decodeMessage(schema.key, key, keyVersion, 2);
  if (!k.ok) return `${type} key: ${k.error.message}`;
  if (value === null) return { type, key: k.value, value: null } as CoordinatorRecord;
  if (value.length < 2) return `${type} value shorter than its version`;
  const valueVersion = new Reader(value).int16();
  const v = decodeMessage(schema.value, value, valueVersion, 2);
  if (!v.ok) return `${type} value: ${v.error.message}`;
  return { type, key: k.value, value: v.value } as CoordinatorRecord;
}
