/**
 * What every assignor shares: the names, the PartitionAssignor contract, and the helpers range,
 * roundrobin and cooperative-sticky all use (Java's MemberInfo order, assignments with an entry
 * per member, sorted lists, the duplicate-member check).
 */
import type { MemberSubscription } from './consumer-protocol.js';
import { compareStrings, compareTopicPartitions, type TopicPartition } from './topic-partition.js';

export const ASSIGNOR_NAMES = ['range', 'roundrobin', 'cooperative-sticky'] as const;
export type AssignorName = (typeof ASSIGNOR_NAMES)[number];

/** EAGER revokes everything before each rebalance; COOPERATIVE only what moves (KIP-429). */
export type RebalanceProtocol = 'eager' | 'cooperative';

export interface PartitionAssignor {
  readonly name: AssignorName;
  /** In Kafka's order of preference; a consumer uses the newest protocol all its assignors support. */
  readonly supportedProtocols: readonly RebalanceProtocol[];
  /** The subscription's userData for a member whose last completed generation is `generationId`. */
  subscriptionUserData(generationId: number): Buffer | null;
  /**
   * Member id → assigned partitions (sorted), with an entry for every member. Only topics in
   * `partitionsPerTopic` (topic → partition count) are assigned; others are ignored.
   */
  assign(
    partitionsPerTopic: ReadonlyMap<string, number>,
    members: readonly MemberSubscription[],
  ): Map<string, TopicPartition[]>;
}

/** Java's MemberInfo order: static members (by group.instance.id) before dynamic ones (by member id). */
export function compareMembers(
  a: { memberId: string; groupInstanceId: string | null },
  b: { memberId: string; groupInstanceId: string | null },
): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) {
    return compareStrings(a.groupInstanceId, b.groupInstanceId);
  }
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

export function emptyAssignment(members: readonly MemberSubscription[]): Map<string, TopicPartition[]> {
  const out = new Map<string, TopicPartition[]>();
  for (const m of members) out.set(m.memberId, []);
  return out;
}

export function sortLists(assignment: Map<string, TopicPartition[]>): Map<string, TopicPartition[]> {
  for (const list of assignment.values()) list.sort(compareTopicPartitions);
  return assignment;
}

export function checkMembers(members: readonly MemberSubscription[]): void {
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m.memberId)) throw new Error(`member ${m.memberId} appears twice in the group`);
    seen.add(m.memberId);
  }
}
