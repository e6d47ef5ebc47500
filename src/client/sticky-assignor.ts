/**
 * The 'cooperative-sticky' assignor (CooperativeStickyAssignor): a balanced assignment that keeps
 * as many of each member's owned partitions as balance allows (AbstractStickyAssignor: the
 * constrained algorithm when every member subscribes to the same topics, the general one
 * otherwise), then removes every partition that changes owner from its new owner, so it is
 * revoked in this rebalance and assigned in the next (KIP-429).
 */
import { checkMembers, sortLists, type PartitionAssignor } from './assignor-support.js';
import { DEFAULT_GENERATION, type MemberSubscription, type Subscription } from './consumer-protocol.js';
import { compareStrings, keyOf, tpKey, type TopicPartition } from './topic-partition.js';

const GENERATION_USER_DATA_BYTES = 4;

/** Java's CooperativeStickyAssignor.memberData: the subscription's generation, else the userData's. */
export function stickyMemberGeneration(s: Subscription): number | undefined {
  if (s.generationId >= 0) return s.generationId;
  if (s.userData === null) return undefined;
  // Java reads an int32 schema from userData and treats anything unreadable as DEFAULT_GENERATION.
  return s.userData.length >= GENERATION_USER_DATA_BYTES ? s.userData.readInt32BE(0) : DEFAULT_GENERATION;
}

export const cooperativeStickyAssignor: PartitionAssignor = {
  name: 'cooperative-sticky',
  supportedProtocols: ['cooperative', 'eager'],
  subscriptionUserData(generationId) {
    // Also carried in userData (the COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0 schema) for
    // members that read subscriptions older than v2.
    const out = Buffer.allocUnsafe(GENERATION_USER_DATA_BYTES);
    out.writeInt32BE(generationId, 0);
    return out;
  },
  assign(partitionsPerTopic, members) {
    checkMembers(members);
    // The leader's metadata may cover topics nobody in the group subscribes to; the sticky
    // algorithms would hand those out too (Java builds partitionsPerTopic from subscriptions).
    const subscribed = new Set(members.flatMap((m) => m.topics));
    const relevant = new Map([...partitionsPerTopic].filter(([topic]) => subscribed.has(topic)));
    const { assignment, transferring } = stickyAssign(relevant, members);
    const moving = transferring ?? partitionsTransferringOwnership(members, assignment);
    // A partition still owned by another member is held back: that member revokes it in this
    // rebalance, rejoins, and the next rebalance hands it over.
    for (const [key, member] of moving) {
      const list = assignment.get(member);
      if (list === undefined) continue;
      const i = list.findIndex((tp) => keyOf(tp) === key);
      if (i >= 0) list.splice(i, 1);
    }
    return sortLists(assignment);
  },
};

/** Partitions a member is assigned that another member owned and now loses: key → new owner. */
function partitionsTransferringOwnership(
  members: readonly MemberSubscription[],
  assignment: ReadonlyMap<string, TopicPartition[]>,
): Map<string, string> {
  const added = new Map<string, string>();
  const revoked = new Set<string>();
  for (const m of members) {
    const assigned = new Set((assignment.get(m.memberId) ?? []).map(keyOf));
    const owned = new Set(m.ownedPartitions.map(keyOf));
    for (const key of assigned) if (!owned.has(key)) added.set(key, m.memberId);
    for (const key of owned) if (!assigned.has(key)) revoked.add(key);
  }
  for (const key of [...added.keys()]) if (!revoked.has(key)) added.delete(key);
  return added;
}

interface StickyResult {
  assignment: Map<string, TopicPartition[]>;
  /** Set by the constrained algorithm; null when the general one ran (the caller computes it). */
  transferring: Map<string, string> | null;
}

/** AbstractStickyAssignor.assignPartitions. */
function stickyAssign(
  partitionsPerTopic: ReadonlyMap<string, number>,
  members: readonly MemberSubscription[],
): StickyResult {
  const sorted = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId));
  if (sorted.length === 0) return { assignment: new Map(), transferring: null };
  const owned = validOwnedPartitions(partitionsPerTopic, sorted);
  if (owned.allSubscriptionsEqual) {
    return new ConstrainedAssignment(partitionsPerTopic, owned.byMember, owned.multiplyOwned).build();
  }
  const general = new GeneralAssignment(partitionsPerTopic, sorted, owned.byMember, owned.maxGeneration);
  return { assignment: general.build(), transferring: null };
}

interface OwnedPartitions {
  allSubscriptionsEqual: boolean;
  /** Each member's still-valid owned partitions (every member has an entry). */
  byMember: Map<string, TopicPartition[]>;
  /** Keys of partitions claimed by two members of the same generation: owned by neither. */
  multiplyOwned: Set<string>;
  maxGeneration: number;
}

/**
 * AbstractStickyAssignor.allSubscriptionsEqual: whether every member subscribes to the same
 * topics, and which owned partitions each member keeps a claim to — a claim made by a member of
 * a newer generation wins, two claims in the same generation cancel out.
 */
function validOwnedPartitions(
  partitionsPerTopic: ReadonlyMap<string, number>,
  members: readonly MemberSubscription[],
): OwnedPartitions {
  let allSubscriptionsEqual = true;
  const firstTopics = new Set<string>();
  const owner = new Map<string, string>();
  const byMember = new Map<string, TopicPartition[]>();
  const generation = new Map<string, number>();
  const multiplyOwned = new Set<string>();
  let maxGeneration = DEFAULT_GENERATION;

  for (const m of members) {
    const topics = new Set(m.topics);
    if (firstTopics.size === 0) {
      for (const t of topics) firstTopics.add(t);
    } else if (allSubscriptionsEqual && !sameSet(firstTopics, topics)) {
      allSubscriptionsEqual = false;
    }
    const memberGeneration = stickyMemberGeneration(m) ?? DEFAULT_GENERATION;
    generation.set(m.memberId, memberGeneration);
    maxGeneration = Math.max(maxGeneration, memberGeneration);
    const list: TopicPartition[] = [];
    byMember.set(m.memberId, list);
    for (const tp of m.ownedPartitions) {
      const count = partitionsPerTopic.get(tp.topic);
      // Java checks the topic only; a partition past the count cannot be assigned either.
      if (count === undefined || tp.partition < 0 || tp.partition >= count) continue;
      const key = keyOf(tp);
      const other = owner.get(key);
      if (other === undefined) {
        list.push({ topic: tp.topic, partition: tp.partition });
        owner.set(key, m.memberId);
        continue;
      }
      const otherGeneration = generation.get(other)!;
      if (memberGeneration === otherGeneration) {
        multiplyOwned.add(key);
        removePartition(byMember.get(other)!, key);
        owner.set(key, m.memberId);
      } else if (memberGeneration > otherGeneration) {
        list.push({ topic: tp.topic, partition: tp.partition });
        removePartition(byMember.get(other)!, key);
        owner.set(key, m.memberId);
      }
    }
  }
  return { allSubscriptionsEqual, byMember, multiplyOwned, maxGeneration };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function removePartition(list: TopicPartition[], key: string): boolean {
  const i = list.findIndex((tp) => keyOf(tp) === key);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** All partitions of `topics`, in the topics' order then by partition. */
function partitionsOf(
  partitionsPerTopic: ReadonlyMap<string, number>,
  topics: readonly string[],
): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const topic of topics) {
    const count = partitionsPerTopic.get(topic) ?? 0;
    for (let partition = 0; partition < count; partition++) out.push({ topic, partition });
  }
  return out;
}

/**
 * Every member subscribes to the same topics: each keeps up to its quota of owned partitions
 * (minQuota, or maxQuota for as many members as the remainder allows), and the rest are dealt
 * round-robin to the members below quota.
 */
class ConstrainedAssignment {
  private readonly assignment = new Map<string, TopicPartition[]>();
  private readonly transferring = new Map<string, string>();
  private readonly revoked = new Set<string>();
  private readonly assigned = new Set<string>();
  private readonly underMinQuota: string[] = [];
  private exactlyMinQuota: string[] = [];
  private readonly minQuota: number;
  private readonly maxQuota: number;
  /** Members that get maxQuota: zero when the partitions divide evenly. */
  private readonly expectedOverMinQuota: number;
  private overMinQuota = 0;
  private readonly totalPartitions: number;

  constructor(
    private readonly partitionsPerTopic: ReadonlyMap<string, number>,
    private readonly owned: ReadonlyMap<string, TopicPartition[]>,
    private readonly multiplyOwned: ReadonlySet<string>,
  ) {
    let total = 0;
    for (const count of partitionsPerTopic.values()) total += count;
    this.totalPartitions = total;
    const memberCount = owned.size;
    this.minQuota = Math.floor(total / memberCount);
    this.maxQuota = Math.ceil(total / memberCount);
    this.expectedOverMinQuota = total % memberCount;
    for (const member of owned.keys()) this.assignment.set(member, []);
  }

  build(): StickyResult {
    this.assignOwnedPartitions();
    const topics = [...this.partitionsPerTopic.keys()].sort(compareStrings);
    const unassigned = partitionsOf(this.partitionsPerTopic, topics).filter(
      (tp) => !this.assigned.has(keyOf(tp)),
    );
    this.underMinQuota.sort(compareStrings);
    this.exactlyMinQuota.sort(compareStrings);
    this.assignRoundRobin(unassigned);
    this.verifyUnfilledMembers();
    return { assignment: this.assignment, transferring: this.transferring };
  }

  private assignOwnedPartitions(): void {
    for (const [member, ownedList] of this.owned) {
      // Java keeps the owned partitions with the lowest partition numbers first.
      const owned = ownedList
        .filter((tp) => !this.multiplyOwned.has(keyOf(tp)))
        .sort((a, b) => a.partition - b.partition || compareStrings(a.topic, b.topic));
      const mine = this.assignment.get(member)!;
      let keep: number;
      if (owned.length < this.minQuota) {
        keep = owned.length;
        this.underMinQuota.push(member);
      } else if (owned.length >= this.maxQuota && this.overMinQuota < this.expectedOverMinQuota) {
        keep = this.maxQuota;
        this.overMinQuota++;
        if (this.overMinQuota === this.expectedOverMinQuota) this.exactlyMinQuota = [];
      } else {
        keep = this.minQuota;
        if (this.overMinQuota < this.expectedOverMinQuota) this.exactlyMinQuota.push(member);
      }
      for (let i = 0; i < owned.length; i++) {
        const tp = owned[i]!;
        if (i < keep) {
          mine.push(tp);
          this.assigned.add(keyOf(tp));
        } else {
          this.revoked.add(keyOf(tp));
        }
      }
    }
  }

  private assignRoundRobin(unassigned: readonly TopicPartition[]): void {
    // An iterator over underMinQuota that survives removing the member it last returned.
    let cursor = 0;
    for (const tp of unassigned) {
      let member: string;
      let fromUnder = false;
      if (cursor < this.underMinQuota.length) {
        member = this.underMinQuota[cursor++]!;
        fromUnder = true;
      } else if (this.underMinQuota.length === 0 && this.exactlyMinQuota.length === 0) {
        throw new Error('cooperative-sticky: no member left below its quota but partitions remain');
      } else if (this.underMinQuota.length === 0) {
        member = this.exactlyMinQuota.shift()!;
      } else {
        cursor = 0;
        member = this.underMinQuota[cursor++]!;
        fromUnder = true;
      }
      const count = this.assignNewPartition(tp, member);
      if (count === this.minQuota) {
        if (fromUnder) this.underMinQuota.splice(--cursor, 1);
        this.exactlyMinQuota.push(member);
      } else if (count === this.maxQuota) {
        this.overMinQuota++;
      }
    }
  }

  private assignNewPartition(tp: TopicPartition, member: string): number {
    const list = this.assignment.get(member)!;
    list.push(tp);
    const key = keyOf(tp);
    if (this.revoked.has(key) || this.multiplyOwned.has(key)) this.transferring.set(key, member);
    return list.length;
  }

  /** The quotas add up, so a member left below minQuota means the algorithm is wrong. */
  private verifyUnfilledMembers(): void {
    if (this.underMinQuota.length === 0) return;
    if (this.overMinQuota !== this.expectedOverMinQuota) {
      throw new Error(
        `cooperative-sticky: ${this.overMinQuota} members over minQuota, expected ${this.expectedOverMinQuota}`,
      );
    }
    for (const member of this.underMinQuota) {
      const count = this.assignment.get(member)!.length;
      if (count !== this.minQuota) {
        throw new Error(
          `cooperative-sticky: member ${member} has ${count} partitions, below minQuota ${this.minQuota} of ${this.totalPartitions}`,
        );
      }
    }
  }
}

/** Members sorted by (number of partitions assigned, member id): Java's TreeSet with SubscriptionComparator. */
class MembersBySize {
  private members: string[] = [];

  constructor(private readonly assignment: ReadonlyMap<string, TopicPartition[]>) {}

  private compare(a: string, b: string): number {
    return this.assignment.get(a)!.length - this.assignment.get(b)!.length || compareStrings(a, b);
  }

  /** Adds or re-positions `member` (after its assignment size changed). */
  add(member: string): void {
    this.remove(member);
    let lo = 0;
    let hi = this.members.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.members[mid]!, member) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.members.splice(lo, 0, member);
  }

  remove(member: string): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
  }

  first(): string | undefined {
    return this.members[0];
  }

  last(): string | undefined {
    return this.members[this.members.length - 1];
  }

  /** A snapshot: callers reorder members while walking. */
  list(): string[] {
    return [...this.members];
  }
}

/** Moves made during one general assignment, so a partition moved back undoes a move (stickiness). */
class PartitionMovements {
  private readonly byTopic = new Map<string, Map<string, Map<string, TopicPartition>>>();
  private readonly moves = new Map<string, { src: string; dst: string }>();

  private static pairKey(src: string, dst: string): string {
    return JSON.stringify([src, dst]);
  }

  private removeRecord(key: string, topic: string): { src: string; dst: string } {
    const pair = this.moves.get(key)!;
    this.moves.delete(key);
    const topicMoves = this.byTopic.get(topic)!;
    const pk = PartitionMovements.pairKey(pair.src, pair.dst);
    const set = topicMoves.get(pk)!;
    set.delete(key);
    if (set.size === 0) topicMoves.delete(pk);
    if (topicMoves.size === 0) this.byTopic.delete(topic);
    return pair;
  }

  private addRecord(tp: TopicPartition, src: string, dst: string): void {
    const key = keyOf(tp);
    this.moves.set(key, { src, dst });
    let topicMoves = this.byTopic.get(tp.topic);
    if (topicMoves === undefined)
      this.byTopic.set(tp.topic, (topicMoves = new Map<string, Map<string, TopicPartition>>()));
    const pk = PartitionMovements.pairKey(src, dst);
    let set = topicMoves.get(pk);
    if (set === undefined) topicMoves.set(pk, (set = new Map<string, TopicPartition>()));
    set.set(key, tp);
  }

  movePartition(tp: TopicPartition, oldMember: string, newMember: string): void {
    const key = keyOf(tp);
    if (this.moves.has(key)) {
      const existing = this.removeRecord(key, tp.topic);
      if (existing.src !== newMember) this.addRecord(tp, existing.src, newMember);
    } else {
      this.addRecord(tp, oldMember, newMember);
    }
  }

  /**
   * Moving a partition of a topic from A to B when another partition of that topic already moved
   * from B to A in this assignment: move that one back instead, so no partitions swap owners.
   */
  actualPartitionToMove(tp: TopicPartition, oldMember: string, newMember: string): TopicPartition {
    const topicMoves = this.byTopic.get(tp.topic);
    if (topicMoves === undefined) return tp;
    const earlier = this.moves.get(keyOf(tp));
    const from = earlier === undefined ? oldMember : earlier.src;
    const reverse = topicMoves.get(PartitionMovements.pairKey(newMember, from));
    if (reverse === undefined) return tp;
    return reverse.values().next().value ?? tp;
  }
}

/** Members subscribe to different topics: keep owned partitions, fill the least loaded, then rebalance by moves. */
class GeneralAssignment {
  private readonly topicMembers = new Map<string, string[]>();
  private readonly memberTopics = new Map<string, string[]>();
  private readonly partitionOwner = new Map<string, string>();
  private readonly bySize: MembersBySize;
  private readonly movements = new PartitionMovements();
  private readonly previousOwner = new Map<string, { member: string; generation: number }>();
  private sortedPartitions: TopicPartition[];
  private revocationRequired = false;
  private readonly totalPartitions: number;

  constructor(
    private readonly partitionsPerTopic: ReadonlyMap<string, number>,
    private readonly members: readonly MemberSubscription[],
    private readonly current: Map<string, TopicPartition[]>,
    private readonly maxGeneration: number,
  ) {
    let total = 0;
    for (const count of partitionsPerTopic.values()) total += count;
    this.totalPartitions = total;
    for (const topic of partitionsPerTopic.keys()) this.topicMembers.set(topic, []);
    for (const m of members) {
      const topics = [...new Set(m.topics)].filter((t) => partitionsPerTopic.has(t));
      this.memberTopics.set(m.memberId, topics);
      for (const t of topics) this.topicMembers.get(t)!.push(m.memberId);
      if (!current.has(m.memberId)) current.set(m.memberId, []);
    }
    for (const [member, list] of current) for (const tp of list) this.partitionOwner.set(keyOf(tp), member);
    // Topics with the fewest potential members first: they have the least room to move.
    const topics = [...this.topicMembers.keys()].sort(
      (a, b) => this.topicMembers.get(a)!.length - this.topicMembers.get(b)!.length || compareStrings(a, b),
    );
    this.sortedPartitions = partitionsOf(partitionsPerTopic, topics);
    this.bySize = new MembersBySize(current);
  }

  build(): Map<string, TopicPartition[]> {
    this.prepopulatePreviousOwners();
    const assigned = this.keepOwnedPartitions();
    const unassigned = this.sortedPartitions.filter((tp) => !assigned.has(keyOf(tp)));
    for (const member of this.current.keys()) this.bySize.add(member);
    this.balance(unassigned);
    return sortLists(this.current);
  }

  /** Claims of members from older generations: where a partition goes back to, given the choice. */
  private prepopulatePreviousOwners(): void {
    for (const m of this.members) {
      const generation = stickyMemberGeneration(m);
      let claimGeneration: number;
      if (generation !== undefined && generation < this.maxGeneration) claimGeneration = generation;
      else if (generation === undefined && this.maxGeneration > DEFAULT_GENERATION)
        claimGeneration = DEFAULT_GENERATION;
      else continue;
      for (const tp of m.ownedPartitions) {
        const key = keyOf(tp);
        const prev = this.previousOwner.get(key);
        if (prev === undefined || claimGeneration > prev.generation) {
          this.previousOwner.set(key, { member: m.memberId, generation: claimGeneration });
        }
      }
    }
  }

  /** Drops owned partitions a member may no longer have; returns the keys of the ones kept. */
  private keepOwnedPartitions(): Set<string> {
    const assigned = new Set<string>();
    for (const [member, list] of this.current) {
      const topics = new Set(this.memberTopics.get(member));
      for (let i = list.length - 1; i >= 0; i--) {
        const tp = list[i]!;
        if (!this.topicMembers.has(tp.topic)) {
          list.splice(i, 1);
          this.partitionOwner.delete(keyOf(tp));
        } else if (!topics.has(tp.topic)) {
          list.splice(i, 1);
          this.revocationRequired = true;
        } else {
          assigned.add(keyOf(tp));
        }
      }
    }
    return assigned;
  }

  private size(member: string): number {
    return this.current.get(member)!.length;
  }

  private maxAssignmentSize(member: string): number {
    const topics = this.memberTopics.get(member)!;
    if (topics.length === this.partitionsPerTopic.size) return this.totalPartitions;
    let n = 0;
    for (const t of topics) n += this.partitionsPerTopic.get(t)!;
    return n;
  }

  private isBalanced(): boolean {
    const first = this.bySize.first();
    const last = this.bySize.last();
    if (first === undefined || last === undefined) return true;
    if (this.size(first) >= this.size(last) - 1) return true;
    const ownerOf = new Map<string, string>();
    for (const [member, list] of this.current) for (const tp of list) ownerOf.set(keyOf(tp), member);
    for (const member of this.bySize.list()) {
      const count = this.size(member);
      if (count === this.maxAssignmentSize(member)) continue;
      // Balanced unless a partition this member could take sits with a member two or more ahead.
      for (const topic of this.memberTopics.get(member)!) {
        const partitions = this.partitionsPerTopic.get(topic)!;
        for (let p = 0; p < partitions; p++) {
          const other = ownerOf.get(tpKey(topic, p));
          if (other === undefined || other === member || !this.current.has(other)) continue;
          if (count + 1 < this.size(other)) return false;
        }
      }
    }
    return true;
  }

  private balanceScore(assignment: ReadonlyMap<string, TopicPartition[]>): number {
    const sizes = [...assignment.values()].map((l) => l.length);
    let score = 0;
    for (let i = 0; i < sizes.length; i++) {
      for (let j = i + 1; j < sizes.length; j++) score += Math.abs(sizes[i]! - sizes[j]!);
    }
    return score;
  }

  private assignToLeastLoaded(tp: TopicPartition): void {
    for (const member of this.bySize.list()) {
      if (!this.memberTopics.get(member)!.includes(tp.topic)) continue;
      this.current.get(member)!.push(tp);
      this.partitionOwner.set(keyOf(tp), member);
      this.bySize.add(member);
      return;
    }
  }

  private balance(unassigned: TopicPartition[]): void {
    const last = this.bySize.last();
    const initializing = last === undefined || this.size(last) === 0;

    for (const tp of unassigned) {
      if (this.topicMembers.get(tp.topic)!.length === 0) continue;
      this.assignToLeastLoaded(tp);
    }

    // Only partitions of topics with two or more potential members can move.
    const movable = (tp: TopicPartition): boolean => this.topicMembers.get(tp.topic)!.length >= 2;
    this.sortedPartitions = this.sortedPartitions.filter(movable);
    const reassignableUnassigned = unassigned.filter(movable);

    // Members that hold all they can get, none of it movable, take no part in the moves.
    const fixed = new Map<string, TopicPartition[]>();
    for (const member of this.memberTopics.keys()) {
      if (!this.canMemberParticipate(member)) {
        this.bySize.remove(member);
        fixed.set(member, this.current.get(member)!);
        this.current.delete(member);
      }
    }

    const before = copyAssignment(this.current);
    const ownersBefore = new Map(this.partitionOwner);

    // Without revocations forced by subscription changes, first try moving only new partitions.
    if (!this.revocationRequired) this.performReassignments(reassignableUnassigned);
    const reassigned = this.performReassignments(this.sortedPartitions);

    // Keep the moves only if they made the assignment more balanced.
    if (!initializing && reassigned && this.balanceScore(this.current) >= this.balanceScore(before)) {
      this.current.clear();
      for (const [member, list] of before) this.current.set(member, list);
      this.partitionOwner.clear();
      for (const [k, v] of ownersBefore) this.partitionOwner.set(k, v);
    }

    for (const [member, list] of fixed) {
      this.current.set(member, list);
      this.bySize.add(member);
    }
  }

  private canMemberParticipate(member: string): boolean {
    const count = this.size(member);
    if (count < this.maxAssignmentSize(member)) return true;
    return this.current.get(member)!.some((tp) => this.topicMembers.get(tp.topic)!.length >= 2);
  }

  /** Bounded: each pass either moves a partition toward balance or ends the loop. */
  private performReassignments(partitions: readonly TopicPartition[]): boolean {
    let performed = false;
    const maxPasses = partitions.length * Math.max(1, this.current.size) + 1;
    for (let pass = 0; pass < maxPasses; pass++) {
      let modified = false;
      for (const tp of partitions) {
        if (this.isBalanced()) break;
        const owner = this.partitionOwner.get(keyOf(tp));
        if (owner === undefined || !this.current.has(owner)) continue;
        const prev = this.previousOwner.get(keyOf(tp));
        if (
          prev !== undefined &&
          this.current.has(prev.member) &&
          this.memberTopics.get(prev.member)!.includes(tp.topic) &&
          this.size(owner) > this.size(prev.member) + 1
        ) {
          this.reassign(tp, prev.member);
          performed = modified = true;
          continue;
        }
        for (const other of this.topicMembers.get(tp.topic)!) {
          if (!this.current.has(other)) continue;
          if (this.size(owner) > this.size(other) + 1) {
            const target = this.bySize.list().find((m) => this.memberTopics.get(m)!.includes(tp.topic));
            if (target !== undefined) {
              this.reassign(tp, target);
              performed = modified = true;
            }
            break;
          }
        }
      }
      if (!modified) break;
    }
    return performed;
  }

  private reassign(tp: TopicPartition, newMember: string): void {
    const owner = this.partitionOwner.get(keyOf(tp))!;
    const moved = this.movements.actualPartitionToMove(tp, owner, newMember);
    const from = this.partitionOwner.get(keyOf(moved))!;
    this.bySize.remove(from);
    this.bySize.remove(newMember);
    this.movements.movePartition(moved, from, newMember);
    removePartition(this.current.get(from)!, keyOf(moved));
    this.current.get(newMember)!.push(moved);
    this.partitionOwner.set(keyOf(moved), newMember);
    this.bySize.add(newMember);
    this.bySize.add(from);
  }
}

function copyAssignment(a: ReadonlyMap<string, TopicPartition[]>): Map<string, TopicPartition[]> {
  const out = new Map<string, TopicPartition[]>();
  for (const [member, list] of a) out.set(member, [...list]);
  return out;
}
