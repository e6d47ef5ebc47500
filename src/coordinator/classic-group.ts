/**
 * A classic consumer group (the JoinGroup/SyncGroup protocol): its members, generation,
 * chosen protocol and leader, and the state Kafka names Empty, PreparingRebalance,
 * CompletingRebalance, Stable or Dead. This file holds the data and the pure rules over it;
 * classic-groups.ts runs the protocol (timers, deferred responses, records).
 */
import type { GroupMetadataValue } from '../protocol/generated/coordinator-records/GroupMetadataValue.js';
import type { JoinGroupResponse } from '../protocol/generated/message/JoinGroupResponse.js';
import type { SyncGroupResponse } from '../protocol/generated/message/SyncGroupResponse.js';
import { ConsumerProtocolSubscription } from '../protocol/generated/message/ConsumerProtocolSubscription.js';
import { decodeMessage } from '../protocol/message.js';

export type ClassicGroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface Protocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export class ClassicMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: readonly Protocol[];
  assignment: Buffer = Buffer.alloc(0);
  /** The JoinGroup response this member waits for (set while the join phase runs). */
  awaitingJoin: ((response: JoinGroupResponse) => void) | null = null;
  /** The SyncGroup response this member waits for (set until the leader's assignment is stored). */
  awaitingSync: ((response: SyncGroupResponse) => void) | null = null;
  /** A member that joined during the current rebalance and has not completed a join yet. */
  isNew = false;
  /** Cancels the session-timeout timer. */
  cancelSession: (() => void) | null = null;

  constructor(o: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: readonly Protocol[];
  }) {
    this.memberId = o.memberId;
    this.groupInstanceId = o.groupInstanceId;
    this.clientId = o.clientId;
    this.clientHost = o.clientHost;
    this.rebalanceTimeoutMs = o.rebalanceTimeoutMs;
    this.sessionTimeoutMs = o.sessionTimeoutMs;
    this.protocolType = o.protocolType;
    this.protocols = o.protocols;
  }

  metadataFor(protocol: string): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? Buffer.alloc(0);
  }

  /** True when `protocols` are the same names and bytes, in the same order. */
  sameProtocols(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => {
      const mine = this.protocols[i]!;
      return mine.name === p.name && mine.metadata.equals(p.metadata);
    });
  }
}

export class ClassicGroup {
  readonly groupId: string;
  state: ClassicGroupState = 'Empty';
  /** When the group entered its current state (Kafka's currentStateTimestamp; offsets expire from when it became Empty). */
  stateSinceMs: number;
  generationId = 0;
  /** "" for a group that only stores offsets (standalone consumers); "consumer", "connect" … otherwise. */
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, ClassicMember>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, valid until they join or their session timeout passes. */
  readonly pendingMembers = new Map<string, () => void>();
  readonly staticMembers = new Map<string, string>();
  /** Cancels the timer ending the current join phase (rebalance timeout or initial delay). */
  cancelJoinTimer: (() => void) | null = null;
  /** Cancels the timer removing members that do not sync after a rebalance. */
  cancelSyncTimer: (() => void) | null = null;
  /** Remaining extension of the initial rebalance delay (group.initial.rebalance.delay.ms). */
  initialDelayRemainingMs = 0;

  constructor(groupId: string, nowMs: number) {
    this.groupId = groupId;
    this.stateSinceMs = nowMs;
  }

  transitionTo(state: ClassicGroupState, nowMs: number): void {
    this.state = state;
    this.stateSinceMs = nowMs;
  }

  get size(): number {
    return this.members.size;
  }

  /** Whether a member with `protocolType` and candidate `protocols` may join (shares one protocol with every member). */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    return protocols.some((p) =>
      [...this.members.values()].every((m) => m.protocols.some((q) => q.name === p.name)),
    );
  }

  /** The protocol every member supports that most members list first (ties: the first one counted), as Kafka votes. */
  selectProtocol(): string {
    const members = [...this.members.values()];
    const candidates = members[0]!.protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
    for (const m of members) {
      const vote = m.protocols.find((p) => votes.has(p.name))!.name;
      votes.set(vote, votes.get(vote)! + 1);
    }
    let best = candidates[0]!;
    for (const c of candidates) if (votes.get(c)! > votes.get(best)!) best = c;
    return best;
  }

  /** Largest rebalance timeout of the members: how long a join phase may wait for them. */
  rebalanceTimeoutMs(): number {
    let ms = 0;
    for (const m of this.members.values()) ms = Math.max(ms, m.rebalanceTimeoutMs);
    return ms;
  }

  /** Every member (and no pending one) has sent its JoinGroup for this rebalance. */
  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (m.awaitingJoin === null) return false;
    return true;
  }

  addMember(member: ClassicMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.leaderId ??= member.memberId;
  }

  removeMember(memberId: string): void {
    const member = this.members.get(memberId);
    if (member === undefined) return;
    member.cancelSession?.();
    member.cancelSession = null;
    this.members.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      // A member that already rejoined leads the next generation, as Kafka picks.
      const next =
        [...this.members.values()].find((m) => m.awaitingJoin !== null) ?? this.members.values().next().value;
      this.leaderId = next?.memberId ?? null;
    }
  }

  /** Topics the members subscribe to, when the group runs the consumer protocol (null: not known). */
  subscribedTopics(): Set<string> | null {
    if (this.protocolType !== 'consumer' || this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const metadata = m.metadataFor(this.protocolName);
      if (metadata.length < 2) return null;
      const decoded = decodeMessage(ConsumerProtocolSubscription, metadata, metadata.readInt16BE(0), 2);
      // Newer subscription versions than this broker knows start with the fields it does know.
      if (!decoded.ok && metadata.readInt16BE(0) <= ConsumerProtocolSubscription.maxVersion) return null;
      if (decoded.ok) for (const t of decoded.value.topics) topics.add(t);
    }
    return topics;
  }

  /** The record value persisting this group (GroupMetadataValue), with the members' assignments. */
  toRecordValue(nowMs: number): GroupMetadataValue {
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: BigInt(nowMs),
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: this.protocolName === null ? Buffer.alloc(0) : m.metadataFor(this.protocolName),
        assignment: m.assignment,
        unknownTaggedFields: undefined,
      })),
      unknownTaggedFields: undefined,
    };
  }

  /** Rebuilds a group from its stored record (loading `__consumer_offsets`). */
  static fromRecordValue(groupId: string, v: GroupMetadataValue, nowMs: number): ClassicGroup {
    const group = new ClassicGroup(groupId, nowMs);
    group.protocolType = v.protocolType;
    group.generationId = v.generation;
    group.protocolName = v.protocol;
    const stateSince = Number(v.currentStateTimestamp);
    for (const m of v.members) {
      const member = new ClassicMember({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeout,
        sessionTimeoutMs: m.sessionTimeout,
        protocolType: v.protocolType,
        protocols: v.protocol === null ? [] : [{ name: v.protocol, metadata: m.subscription }],
      });
      member.assignment = m.assignment;
      group.addMember(member);
    }
    group.leaderId = v.leader;
    group.transitionTo(group.members.size === 0 ? 'Empty' : 'Stable', stateSince >= 0 ? stateSince : nowMs);
    return group;
  }
}
