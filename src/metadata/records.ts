/**
 * Metadata records: the cluster's state as a sequence of Kafka's metadata records (TopicRecord,
 * PartitionRecord, ConfigRecord …, generated from metadata-records/). Each record travels as
 * Kafka frames it in `__cluster_metadata`: the value of a log record holding an unsigned-varint
 * frame version (1), the record's api key, its version, then the record's bytes.
 */
import { decodeMessage } from '../protocol/message.js';
import type { MessageCodec } from '../protocol/primitives/codec.js';
import { Reader } from '../protocol/primitives/reader.js';
import { uvarintSize, Writer } from '../protocol/primitives/writer.js';
import { ConfigRecord } from '../protocol/generated/metadata-records/ConfigRecord.js';
import { FeatureLevelRecord } from '../protocol/generated/metadata-records/FeatureLevelRecord.js';
import { NoOpRecord } from '../protocol/generated/metadata-records/NoOpRecord.js';
import { PartitionChangeRecord } from '../protocol/generated/metadata-records/PartitionChangeRecord.js';
import { PartitionRecord } from '../protocol/generated/metadata-records/PartitionRecord.js';
import { ProducerIdsRecord } from '../protocol/generated/metadata-records/ProducerIdsRecord.js';
import { RegisterBrokerRecord } from '../protocol/generated/metadata-records/RegisterBrokerRecord.js';
import { RemoveTopicRecord } from '../protocol/generated/metadata-records/RemoveTopicRecord.js';
import { TopicRecord } from '../protocol/generated/metadata-records/TopicRecord.js';

export type MetadataRecord =
  | { type: 'topic'; value: TopicRecord }
  | { type: 'partition'; value: PartitionRecord }
  | { type: 'partitionChange'; value: PartitionChangeRecord }
  | { type: 'config'; value: ConfigRecord }
  | { type: 'removeTopic'; value: RemoveTopicRecord }
  | { type: 'featureLevel'; value: FeatureLevelRecord }
  | { type: 'registerBroker'; value: RegisterBrokerRecord }
  | { type: 'producerIds'; value: ProducerIdsRecord }
  | { type: 'noOp'; value: NoOpRecord };

type RecordType = MetadataRecord['type'];

/** The codec of each record type; records are written at the codec's latest version. */
const CODECS: { [K in RecordType]: MessageCodec<Extract<MetadataRecord, { type: K }>['value']> } = {
  topic: TopicRecord,
  partition: PartitionRecord,
  partitionChange: PartitionChangeRecord,
  config: ConfigRecord,
  removeTopic: RemoveTopicRecord,
  featureLevel: FeatureLevelRecord,
  registerBroker: RegisterBrokerRecord,
  producerIds: ProducerIdsRecord,
  noOp: NoOpRecord,
};

const TYPE_BY_API_KEY = new Map<number, RecordType>(
  (Object.keys(CODECS) as RecordType[]).map((t) => [CODECS[t].apiKey!, t]),
);

const FRAME_VERSION = 1;

/** Kafka's framing of a metadata record (ApiMessageAndVersion) as a log record value. */
export function encodeMetadataRecord(record: MetadataRecord): Buffer {
  const codec = CODECS[record.type] as MessageCodec<MetadataRecord['value']>;
  const apiKey = codec.apiKey!;
  const version = codec.maxVersion;
  const w = new Writer(
    uvarintSize(FRAME_VERSION) +
      uvarintSize(apiKey) +
      uvarintSize(version) +
      codec.size(record.value, version),
  );
  w.uvarint(FRAME_VERSION);
  w.uvarint(apiKey);
  w.uvarint(version);
  codec.write(w, record.value, version);
  return w.finishBuffer();
}

/** Decodes a framed metadata record; a string says why it could not be. */
export function decodeMetadataRecord(value: Buffer): MetadataRecord | string {
  const r = new Reader(value);
  const frameVersion = r.uvarint();
  const apiKey = r.uvarint();
  const version = r.uvarint();
  if (r.bad) return 'truncated metadata record frame';
  if (frameVersion !== FRAME_VERSION) return `unknown metadata frame version ${frameVersion}`;
  const type = TYPE_BY_API_KEY.get(apiKey);
  if (type === undefined) return `unknown metadata record type ${apiKey}`;
  const codec = CODECS[type] as MessageCodec<MetadataRecord['value']>;
  const decoded = decodeMessage(codec, value, version, r.pos);
  if (!decoded.ok) return decoded.error.message;
  return { type, value: decoded.value } as MetadataRecord;
}
