/**
 * The ConsumerProtocol wire format (ConsumerProtocol in Java): subscriptions and assignments
 * travel in JoinGroup/SyncGroup as ConsumerProtocolSubscription/Assignment bytes with an int16
 * version in front.
 */
import { ConsumerProtocolAssignment } from '../protocol/generated/message/ConsumerProtocolAssignment.js';
import { ConsumerProtocolSubscription } from '../protocol/generated/message/ConsumerProtocolSubscription.js';
import { decodeMessage, encodeMessage } from '../protocol/message.js';
import { compareTopicPartitions, type TopicPartition } from './topic-partition.js';

/** The protocol type consumer groups register under in JoinGroup. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** Java's AbstractStickyAssignor.DEFAULT_GENERATION: no generation known. */
export const DEFAULT_GENERATION = -1;

/** What a member sends in JoinGroup for one protocol (decoded ConsumerProtocolSubscription). */
export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  ownedPartitions: TopicPartition[];
  /** DEFAULT_GENERATION (-1) when absent (versions 0 and 1) or unknown. */
  generationId: number;
  rackId: string | null;
}

export interface MemberSubscription extends Subscription {
  memberId: string;
  groupInstanceId: string | null;
}

/** Decoded ConsumerProtocolAssignment. */
export interface MemberAssignment {
  partitions: TopicPartition[];
  userData: Buffer | null;
}

/** Versions this client writes: the highest, as Java's ConsumerProtocol does (v3 adds rackId). */
export const SUBSCRIPTION_VERSION = 3;
export const ASSIGNMENT_VERSION = 3;
const VERSION_BYTES = 2;

export function encodeSubscription(s: Subscription, version = SUBSCRIPTION_VERSION): Buffer {
  const body = encodeMessage(
    ConsumerProtocolSubscription,
    {
      topics: s.topics,
      userData: s.userData,
      ownedPartitions: groupByTopic(s.ownedPartitions),
      generationId: s.generationId,
      rackId: s.rackId,
    },
    version,
  );
  return withVersion(version, body);
}

/**
 * Decodes a member's subscription. A version newer than this client knows is read as the newest
 * it knows: later versions only append fields (as Java's ConsumerProtocol reads them).
 */
export function decodeSubscription(buf: Buffer): Subscription | Error {
  const version = readVersion(buf, 'subscription');
  if (version instanceof Error) return version;
  const decoded = decodeMessage(
    ConsumerProtocolSubscription,
    buf,
    Math.min(version, ConsumerProtocolSubscription.maxVersion),
    VERSION_BYTES,
  );
  if (!decoded.ok) return new Error(`consumer subscription v${version}: ${decoded.error.message}`);
  const v = decoded.value;
  return {
    topics: v.topics,
    userData: v.userData,
    ownedPartitions: flattenTopics(v.ownedPartitions),
    generationId: v.generationId < 0 ? DEFAULT_GENERATION : v.generationId,
    rackId: v.rackId,
  };
}

export function encodeAssignment(a: MemberAssignment, version = ASSIGNMENT_VERSION): Buffer {
  const body = encodeMessage(
    ConsumerProtocolAssignment,
    { assignedPartitions: groupByTopic(a.partitions), userData: a.userData },
    version,
  );
  return withVersion(version, body);
}

/** An empty buffer is an empty assignment (the coordinator sends one to members left out). */
export function decodeAssignment(buf: Buffer): MemberAssignment | Error {
  if (buf.length === 0) return { partitions: [], userData: null };
  const version = readVersion(buf, 'assignment');
  if (version instanceof Error) return version;
  const decoded = decodeMessage(
    ConsumerProtocolAssignment,
    buf,
    Math.min(version, ConsumerProtocolAssignment.maxVersion),
    VERSION_BYTES,
  );
  if (!decoded.ok) return new Error(`consumer assignment v${version}: ${decoded.error.message}`);
  return { partitions: flattenTopics(decoded.value.assignedPartitions), userData: decoded.value.userData };
}

function withVersion(version: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(VERSION_BYTES + body.length);
  out.writeInt16BE(version, 0);
  body.copy(out, VERSION_BYTES);
  return out;
}

function readVersion(buf: Buffer, what: string): number | Error {
  if (buf.length < VERSION_BYTES) return new Error(`consumer ${what} of ${buf.length} bytes has no version`);
  const version = buf.readInt16BE(0);
  if (version < 0) return new Error(`consumer ${what} has negative version ${version}`);
  return version;
}

/** Topic-partitions grouped per topic, topics and partitions in order. */
function groupByTopic(tps: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of [...tps].sort(compareTopicPartitions)) {
    let list = byTopic.get(tp.topic);
    if (list === undefined) byTopic.set(tp.topic, (list = []));
    list.push(tp.partition);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

function flattenTopics(topics: readonly { topic: string; partitions: number[] }[]): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const t of topics) for (const partition of t.partitions) out.push({ topic: t.topic, partition });
  return out;
}
