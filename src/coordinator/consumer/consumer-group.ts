/**
 * One consumer group of the KIP-848 protocol, as rebuilt from its records: the group epoch, the
 * subscription metadata, the members (subscription + current assignment), the target assignment
 * and its epoch. Everything here is hard state written by ConsumerGroup* records, except the
 * indexes derived from it (static members, partition owners) and the metadata refresh deadline.
 *
 * Mutation happens only through replay (ConsumerGroups.replay); heartbeats read this state to
 * compute the records that express a change.
 */
import type { ConsumerGroupMemberMetadataValue } from '../../protocol/generated/coordinator-records/ConsumerGroupMemberMetadataValue.js';
import type { TopicsView } from '../topics.js';
import { type TopicPartitions, NO_PARTITIONS, eachPartition } from './assignment.js';

/** Kafka's MemberState values, as written in ConsumerGroupCurrentMemberAssignmentValue.State. */
export const MemberState = {
  STABLE: 0,
  UNREVOKED_PARTITIONS: 1,
  UNRELEASED_PARTITIONS: 2,
  UNKNOWN: 127,
} as const;
export type MemberStateValue = (typeof MemberState)[keyof typeof MemberState];

export function memberStateFromValue(v: number): MemberStateValue {
  return v === 0 || v === 1 || v === 2 ? v : MemberState.UNKNOWN;
}

export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** Kafka's group state names (ListGroups, DescribeGroups, ConsumerGroupDescribe). */
export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

export interface ConsumerGroupMember {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberStateValue;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly clientId: string;
  readonly clientHost: string;
  /** Sorted, without duplicates. */
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly serverAssignor: string | null;
  readonly assignedPartitions: TopicPartitions;
  readonly partitionsPendingRevocation: TopicPartitions;
  /** Set only for members using the classic protocol (kept as replayed; never written by this module). */
  readonly classicMemberMetadata: ConsumerGroupMemberMetadataValue.ClassicMemberMetadata | null;
}

/** A member as it exists before any record: Kafka's ConsumerGroupMember.Builder defaults. */
export function newMember(memberId: string): ConsumerGroupMember {
  return {
    memberId,
    memberEpoch: 0,
    previousMemberEpoch: -1,
    state: MemberState.STABLE,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: -1,
    clientId: '',
    clientHost: '',
    subscribedTopicNames: [],
    subscribedTopicRegex: null,
    serverAssignor: null,
    assignedPartitions: NO_PARTITIONS,
    partitionsPendingRevocation: NO_PARTITIONS,
    classicMemberMetadata: null,
  };
}

export function normalizeTopicNames(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}

export function isReconciledTo(m: ConsumerGroupMember, targetAssignmentEpoch: number): boolean {
  return m.state === MemberState.STABLE && m.memberEpoch === targetAssignmentEpoch;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function sameTopicNames(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return sameList(a.subscribedTopicNames, b.subscribedTopicNames);
}

/** Whether the fields of ConsumerGroupMemberMetadataValue are equal. */
export function sameMemberMetadata(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.rackId === b.rackId &&
    a.clientId === b.clientId &&
    a.clientHost === b.clientHost &&
    sameTopicNames(a, b) &&
    a.subscribedTopicRegex === b.subscribedTopicRegex &&
    a.rebalanceTimeoutMs === b.rebalanceTimeoutMs &&
    a.serverAssignor === b.serverAssignor &&
    a.classicMemberMetadata === b.classicMemberMetadata
  );
}

/** A regex subscription is in force when the regex is set and not empty ("" clears it). */
export function hasRegex(
  m: ConsumerGroupMember,
): m is ConsumerGroupMember & { subscribedTopicRegex: string } {
  return m.subscribedTopicRegex !== null && m.subscribedTopicRegex !== '';
}

/** What the group knows of a subscribed topic (ConsumerGroupPartitionMetadataValue.TopicMetadata). */
export interface TopicMetadata {
  readonly topicId: string;
  readonly topicName: string;
  readonly numPartitions: number;
}

/** Subscribed topic name → its metadata, for the subscribed topics that exist. */
export type SubscriptionMetadata = ReadonlyMap<string, TopicMetadata>;

export function sameSubscriptionMetadata(a: SubscriptionMetadata, b: SubscriptionMetadata): boolean {
  if (a.size !== b.size) return false;
  for (const [name, ta] of a) {
    const tb = b.get(name);
    if (tb === undefined || tb.topicId !== ta.topicId || tb.numPartitions !== ta.numPartitions) return false;
  }
  return true;
}

/**
 * Compiles a subscription regex with full-match semantics (Kafka matches whole topic names).
 * Returns null when the pattern is not valid. Kafka compiles RE2/J patterns; JavaScript's
 * syntax accepts the common subset (classes, alternation, quantifiers, anchors).
 */
export function compileTopicRegex(regex: string): RegExp | null {
  try {
    return new RegExp(`^(?:${regex})$`);
  } catch {
    return null;
  }
}

/** Caches compiled regexes; a shard sees few distinct ones. */
export class RegexCache {
  private readonly compiled = new Map<string, RegExp | null>();
  private static readonly SIZE_MAX = 1024;

  get(regex: string): RegExp | null {
    let r = this.compiled.get(regex);
    if (r === undefined) {
      r = compileTopicRegex(regex);
      if (this.compiled.size >= RegexCache.SIZE_MAX) this.compiled.clear();
      this.compiled.set(regex, r);
    }
    return r;
  }
}

/**
 * The subscription metadata of a set of members against the cluster's topics: every topic a
 * member names or its regex matches, if it exists.
 */
export function computeSubscriptionMetadata(
  members: Iterable<ConsumerGroupMember>,
  topics: TopicsView,
  regexes: RegexCache,
): Map<string, TopicMetadata> {
  const names = new Set<string>();
  const patterns = new Set<RegExp>();
  for (const m of members) {
    for (const n of m.subscribedTopicNames) names.add(n);
    if (hasRegex(m)) {
      const r = regexes.get(m.subscribedTopicRegex);
      if (r !== null) patterns.add(r);
    }
  }
  if (patterns.size > 0) {
    for (const t of topics.all()) {
      for (const r of patterns) {
        if (r.test(t.name)) {
          names.add(t.name);
          break;
        }
      }
    }
  }
  const out = new Map<string, TopicMetadata>();
  for (const name of [...names].sort()) {
    const t = topics.byName(name);
    if (t !== undefined)
      out.set(name, { topicId: t.topicId, topicName: t.name, numPartitions: t.numPartitions });
  }
  return out;
}

/** The topic ids, among the subscription metadata, that a member subscribes to (by name or regex). */
export function memberTopicIds(
  m: ConsumerGroupMember,
  metadata: SubscriptionMetadata,
  regexes: RegexCache,
): Set<string> {
  const ids = new Set<string>();
  for (const n of m.subscribedTopicNames) {
    const t = metadata.get(n);
    if (t !== undefined) ids.add(t.topicId);
  }
  if (hasRegex(m)) {
    const r = regexes.get(m.subscribedTopicRegex);
    if (r !== null) for (const t of metadata.values()) if (r.test(t.topicName)) ids.add(t.topicId);
  }
  return ids;
}

interface PartitionOwner {
  memberId: string;
  epoch: number;
}

export class ConsumerGroup {
  groupEpoch = 0;
  /** The epoch of the target assignment; -1 once its record was deleted. */
  assignmentEpoch = 0;
  subscriptionMetadata: SubscriptionMetadata = new Map();
  readonly members = new Map<string, ConsumerGroupMember>();
  readonly targetAssignment = new Map<string, TopicPartitions>();
  /** instance id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** topic id → partition → the member owning it (assigned or pending revocation) and its epoch. */
  private readonly owners = new Map<string, Map<number, PartitionOwner>>();
  /**
   * Soft state (not in any record): when the subscription metadata must be recomputed on the
   * next heartbeat. Zero for a group just created or loaded, so the first heartbeat catches
   * topic changes that happened while this broker did not own the group.
   */
  metadataRefreshDeadlineMs = 0;
  metadataRefreshDeadlineEpoch = 0;

  constructor(readonly groupId: string) {}

  state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) if (!isReconciledTo(m, this.assignmentEpoch)) return 'Reconciling';
    return 'Stable';
  }

  hasMetadataExpired(nowMs: number): boolean {
    return nowMs >= this.metadataRefreshDeadlineMs || this.groupEpoch < this.metadataRefreshDeadlineEpoch;
  }

  staticMember(instanceId: string): ConsumerGroupMember | undefined {
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  /** The member's target assignment; a static member replacing another inherits the other's. */
  targetAssignmentOf(memberId: string, instanceId: string | null): TopicPartitions {
    const own = this.targetAssignment.get(memberId);
    if (own !== undefined) return own;
    if (instanceId !== null) {
      const previous = this.staticMembers.get(instanceId);
      if (previous !== undefined) return this.targetAssignment.get(previous) ?? NO_PARTITIONS;
    }
    return NO_PARTITIONS;
  }

  /** The epoch of the member owning the partition (assigned or pending revocation), -1 if free. */
  currentPartitionEpoch(topicId: string, partition: number): number {
    return this.owners.get(topicId)?.get(partition)?.epoch ?? -1;
  }

  /** The member owning the partition, if any (for invariant checks). */
  partitionOwner(topicId: string, partition: number): string | undefined {
    return this.owners.get(topicId)?.get(partition)?.memberId;
  }

  updateMember(m: ConsumerGroupMember): void {
    const old = this.members.get(m.memberId);
    if (old !== undefined) this.removeOwnership(old);
    this.members.set(m.memberId, m);
    this.addOwnership(m);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
  }

  removeMember(memberId: string): void {
    const old = this.members.get(memberId);
    if (old === undefined) return;
    this.removeOwnership(old);
    this.members.delete(memberId);
    if (old.instanceId !== null && this.staticMembers.get(old.instanceId) === memberId) {
      this.staticMembers.delete(old.instanceId);
    }
  }

  private addOwnership(m: ConsumerGroupMember): void {
    for (const tp of [m.assignedPartitions, m.partitionsPendingRevocation]) {
      for (const [topicId, p] of eachPartition(tp)) {
        let byPartition = this.owners.get(topicId);
        if (byPartition === undefined) {
          byPartition = new Map();
          this.owners.set(topicId, byPartition);
        }
        byPartition.set(p, { memberId: m.memberId, epoch: m.memberEpoch });
      }
    }
  }

  private removeOwnership(m: ConsumerGroupMember): void {
    for (const tp of [m.assignedPartitions, m.partitionsPendingRevocation]) {
      for (const [topicId, p] of eachPartition(tp)) {
        const byPartition = this.owners.get(topicId);
        if (byPartition?.get(p)?.memberId !== m.memberId) continue;
        byPartition.delete(p);
        if (byPartition.size === 0) this.owners.delete(topicId);
      }
    }
  }

  /**
   * The assignor the members prefer (most votes among their ServerAssignor), with `oldMember`
   * replaced by `newMember`; ties go to the assignor listed first in the configuration.
   */
  preferredServerAssignor(
    configured: readonly string[],
    oldMember?: ConsumerGroupMember,
    newMember?: ConsumerGroupMember,
  ): string | undefined {
    const counts = new Map<string, number>();
    const count = (m: ConsumerGroupMember, delta: number): void => {
      if (m.serverAssignor !== null)
        counts.set(m.serverAssignor, (counts.get(m.serverAssignor) ?? 0) + delta);
    };
    for (const m of this.members.values()) count(m, 1);
    if (oldMember !== undefined && this.members.has(oldMember.memberId)) count(oldMember, -1);
    if (newMember !== undefined) count(newMember, 1);
    let best: string | undefined;
    let bestCount = 0;
    const rank = (name: string): number => {
      const i = configured.indexOf(name);
      return i < 0 ? configured.length : i;
    };
    for (const [name, n] of counts) {
      if (n <= 0) continue;
      if (best === undefined || n > bestCount || (n === bestCount && rank(name) < rank(best))) {
        best = name;
        bestCount = n;
      }
    }
    return best;
  }
}
