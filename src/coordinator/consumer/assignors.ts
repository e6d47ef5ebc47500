/**
 * Server-side partition assignors of the consumer group protocol (KIP-848), chosen by name
 * with `group.consumer.assignors` and the members' ServerAssignor field.
 *
 * - `uniform`: spreads all subscribed partitions so that member sizes differ by at most one
 *   (as far as heterogeneous subscriptions allow) and keeps every partition where it was in the
 *   previous target assignment unless balance requires a move. Balance first, stickiness second.
 * - `range`: per topic, the members subscribed to it (sorted by member id) get contiguous ranges
 *   of partitions, so co-partitioned topics (same partition count, same subscribers) give the
 *   same partition numbers to the same member; previous ranges are kept where the quota allows.
 *
 * Assignors are pure: they see the members' subscriptions (as topic ids) and their previous
 * target assignments, and return the new target assignment of every member. They are
 * deterministic (ties broken by member id, topic id, partition id) so tests and replays agree.
 */
import { type TopicPartitions, NO_PARTITIONS, partitionsFromSets } from './assignment.js';

export interface AssignmentMemberSpec {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  /** Ids of the existing topics the member subscribes to. */
  readonly subscribedTopicIds: ReadonlySet<string>;
  /** The member's previous target assignment. */
  readonly assignment: TopicPartitions;
}

export interface GroupSpec {
  readonly members: ReadonlyMap<string, AssignmentMemberSpec>;
  /** True when every member subscribes to the same topics. */
  readonly homogeneous: boolean;
}

/** Partition count of a subscribed topic, -1 when unknown. */
export interface SubscribedTopicDescriber {
  numPartitions(topicId: string): number;
}

export interface PartitionAssignor {
  readonly name: string;
  /** memberId → its new target assignment (every member of the spec appears). */
  assign(group: GroupSpec, topics: SubscribedTopicDescriber): Map<string, TopicPartitions>;
}

/** Bound on rebalancing moves of the heterogeneous uniform assignment, per partition. */
const MOVES_PER_PARTITION_MAX = 4;

function sortedIds(members: ReadonlyMap<string, AssignmentMemberSpec>): string[] {
  return [...members.keys()].sort();
}

/** Topic ids subscribed by at least one member, with a known partition count, sorted. */
function subscribedTopics(group: GroupSpec, topics: SubscribedTopicDescriber): string[] {
  const ids = new Set<string>();
  for (const m of group.members.values()) for (const t of m.subscribedTopicIds) ids.add(t);
  return [...ids].filter((t) => topics.numPartitions(t) > 0).sort();
}

function partitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

/** Mutable working assignment: member → topic → partitions. */
class Working {
  readonly byMember = new Map<string, Map<string, Set<number>>>();
  readonly counts = new Map<string, number>();
  /** partition key → member that holds it. */
  readonly owner = new Map<string, string>();

  constructor(memberIds: Iterable<string>) {
    for (const id of memberIds) {
      this.byMember.set(id, new Map());
      this.counts.set(id, 0);
    }
  }

  count(memberId: string): number {
    return this.counts.get(memberId) ?? 0;
  }

  add(memberId: string, topicId: string, partition: number): void {
    const topics = this.byMember.get(memberId);
    if (topics === undefined) return;
    let set = topics.get(topicId);
    if (set === undefined) {
      set = new Set();
      topics.set(topicId, set);
    }
    set.add(partition);
    this.counts.set(memberId, this.count(memberId) + 1);
    this.owner.set(partitionKey(topicId, partition), memberId);
  }

  remove(memberId: string, topicId: string, partition: number): void {
    const set = this.byMember.get(memberId)?.get(topicId);
    if (set === undefined || !set.delete(partition)) return;
    if (set.size === 0) this.byMember.get(memberId)?.delete(topicId);
    this.counts.set(memberId, this.count(memberId) - 1);
    this.owner.delete(partitionKey(topicId, partition));
  }

  result(): Map<string, TopicPartitions> {
    const out = new Map<string, TopicPartitions>();
    for (const [id, topics] of this.byMember)
      out.set(id, topics.size === 0 ? NO_PARTITIONS : partitionsFromSets(topics));
    return out;
  }
}

/** The partitions of the previous assignment a member may keep: subscribed, still existing, not taken. */
function keepable(
  member: AssignmentMemberSpec,
  topics: SubscribedTopicDescriber,
  taken: ReadonlySet<string>,
): [string, number][] {
  const out: [string, number][] = [];
  for (const topicId of [...member.assignment.keys()].sort()) {
    if (!member.subscribedTopicIds.has(topicId)) continue;
    const n = topics.numPartitions(topicId);
    for (const p of member.assignment.get(topicId) ?? []) {
      if (p < n && !taken.has(partitionKey(topicId, p))) out.push([topicId, p]);
    }
  }
  return out;
}

/**
 * Homogeneous uniform assignment: quotas of ⌊P/N⌋ or ⌈P/N⌉; the members keeping the most of
 * their previous partitions get the larger quotas, so as few partitions as possible move.
 */
function assignUniformHomogeneous(
  group: GroupSpec,
  topics: SubscribedTopicDescriber,
): Map<string, TopicPartitions> {
  const ids = sortedIds(group.members);
  const work = new Working(ids);
  const first = group.members.get(ids[0] ?? '');
  if (first === undefined) return work.result();
  const topicIds = [...first.subscribedTopicIds].filter((t) => topics.numPartitions(t) > 0).sort();
  let total = 0;
  for (const t of topicIds) total += topics.numPartitions(t);
  if (total === 0) return work.result();

  const taken = new Set<string>();
  const kept = new Map<string, [string, number][]>();
  for (const id of ids) {
    const member = group.members.get(id);
    if (member === undefined) continue;
    const k = keepable(member, topics, taken);
    for (const [t, p] of k) taken.add(partitionKey(t, p));
    kept.set(id, k);
  }

  const minQuota = Math.floor(total / ids.length);
  let extra = total % ids.length;
  const byKept = [...ids].sort(
    (a, b) => (kept.get(b)?.length ?? 0) - (kept.get(a)?.length ?? 0) || (a < b ? -1 : 1),
  );
  const quota = new Map<string, number>();
  for (const id of byKept) {
    quota.set(id, minQuota + (extra > 0 ? 1 : 0));
    if (extra > 0) extra--;
  }

  const assigned = new Set<string>();
  for (const id of ids) {
    const q = quota.get(id) ?? 0;
    for (const [t, p] of (kept.get(id) ?? []).slice(0, q)) {
      work.add(id, t, p);
      assigned.add(partitionKey(t, p));
    }
  }

  let cursor = 0;
  const pool: [string, number][] = [];
  for (const t of topicIds) {
    const n = topics.numPartitions(t);
    for (let p = 0; p < n; p++) if (!assigned.has(partitionKey(t, p))) pool.push([t, p]);
  }
  for (const id of ids) {
    const q = quota.get(id) ?? 0;
    while (work.count(id) < q && cursor < pool.length) {
      const next = pool[cursor++];
      if (next !== undefined) work.add(id, next[0], next[1]);
    }
  }
  return work.result();
}

/**
 * Heterogeneous uniform assignment: keep what is still valid, hand each free partition to the
 * least loaded member subscribed to its topic (most constrained topics first), then move
 * partitions from the most to the least loaded eligible members while that narrows the gap.
 */
function assignUniformHeterogeneous(
  group: GroupSpec,
  topics: SubscribedTopicDescriber,
): Map<string, TopicPartitions> {
  const ids = sortedIds(group.members);
  const work = new Working(ids);
  const topicIds = subscribedTopics(group, topics);
  const subscribers = new Map<string, string[]>();
  for (const t of topicIds)
    subscribers.set(
      t,
      ids.filter((id) => group.members.get(id)?.subscribedTopicIds.has(t)),
    );

  const taken = new Set<string>();
  for (const id of ids) {
    const member = group.members.get(id);
    if (member === undefined) continue;
    for (const [t, p] of keepable(member, topics, taken)) {
      taken.add(partitionKey(t, p));
      work.add(id, t, p);
    }
  }

  // Topics with the fewest subscribers first: their partitions have the fewest possible homes.
  const order = [...topicIds].sort(
    (a, b) => (subscribers.get(a)?.length ?? 0) - (subscribers.get(b)?.length ?? 0) || (a < b ? -1 : 1),
  );
  for (const t of order) {
    const eligible = subscribers.get(t) ?? [];
    const n = topics.numPartitions(t);
    for (let p = 0; p < n; p++) {
      if (taken.has(partitionKey(t, p))) continue;
      let best: string | undefined;
      for (const id of eligible) if (best === undefined || work.count(id) < work.count(best)) best = id;
      if (best !== undefined) work.add(best, t, p);
    }
  }

  let totalPartitions = 0;
  for (const t of topicIds) totalPartitions += topics.numPartitions(t);
  const movesMax = totalPartitions * MOVES_PER_PARTITION_MAX;
  for (let moves = 0; moves < movesMax; moves++) {
    if (!moveOne(ids, work, subscribers)) break;
  }
  return work.result();
}

/** One balancing move from a most loaded member to a member with at least two fewer partitions. */
function moveOne(ids: string[], work: Working, subscribers: ReadonlyMap<string, string[]>): boolean {
  const byLoad = [...ids].sort((a, b) => work.count(b) - work.count(a) || (a < b ? -1 : 1));
  for (const from of byLoad) {
    const fromCount = work.count(from);
    const topicsOfFrom = work.byMember.get(from);
    if (topicsOfFrom === undefined) continue;
    let bestMove: { to: string; topicId: string; partition: number } | undefined;
    for (const topicId of [...topicsOfFrom.keys()].sort()) {
      let to: string | undefined;
      for (const id of subscribers.get(topicId) ?? []) {
        if (id !== from && (to === undefined || work.count(id) < work.count(to))) to = id;
      }
      if (to === undefined || work.count(to) > fromCount - 2) continue;
      if (bestMove !== undefined && work.count(bestMove.to) <= work.count(to)) continue;
      const partitions = [...(topicsOfFrom.get(topicId) ?? [])].sort((a, b) => b - a);
      const partition = partitions[0];
      if (partition !== undefined) bestMove = { to, topicId, partition };
    }
    if (bestMove !== undefined) {
      work.remove(from, bestMove.topicId, bestMove.partition);
      work.add(bestMove.to, bestMove.topicId, bestMove.partition);
      return true;
    }
  }
  return false;
}

export const uniformAssignor: PartitionAssignor = {
  name: 'uniform',
  assign(group, topics) {
    if (group.members.size === 0) return new Map();
    return group.homogeneous
      ? assignUniformHomogeneous(group, topics)
      : assignUniformHeterogeneous(group, topics);
  },
};

export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  assign(group, topics) {
    const ids = sortedIds(group.members);
    const work = new Working(ids);
    for (const topicId of subscribedTopics(group, topics)) {
      const members = ids.filter((id) => group.members.get(id)?.subscribedTopicIds.has(topicId));
      const n = topics.numPartitions(topicId);
      const minQuota = Math.floor(n / members.length);
      let extra = n % members.length;
      const taken = new Set<number>();
      const wants: [string, number][] = [];
      for (const id of members) {
        const previous = (group.members.get(id)?.assignment.get(topicId) ?? []).filter(
          (p) => p < n && !taken.has(p),
        );
        const keep = previous.slice(0, minQuota);
        if (previous.length > minQuota && extra > 0) {
          const extraPartition = previous[minQuota];
          if (extraPartition !== undefined) keep.push(extraPartition);
          extra--;
          for (const p of keep) taken.add(p);
          for (const p of keep) work.add(id, topicId, p);
          continue;
        }
        for (const p of keep) taken.add(p);
        for (const p of keep) work.add(id, topicId, p);
        wants.push([id, minQuota - keep.length]);
      }
      const free: number[] = [];
      for (let p = 0; p < n; p++) if (!taken.has(p)) free.push(p);
      let cursor = 0;
      for (const [id, want] of wants) {
        let remaining = want;
        if (extra > 0) {
          remaining++;
          extra--;
        }
        for (; remaining > 0 && cursor < free.length; remaining--) {
          const p = free[cursor++];
          if (p !== undefined) work.add(id, topicId, p);
        }
      }
    }
    return work.result();
  },
};

export const BUILTIN_ASSIGNORS: readonly PartitionAssignor[] = [uniformAssignor, rangeAssignor];
