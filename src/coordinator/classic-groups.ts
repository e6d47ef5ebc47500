/**
 * The classic group protocol of one coordinator shard: JoinGroup, SyncGroup, Heartbeat and
 * LeaveGroup as Kafka's group coordinator runs them, so client-side assignors (range,
 * round-robin, cooperative-sticky) work unchanged.
 *
 * A rebalance: a join moves the group to PreparingRebalance; JoinGroup responses wait until
 * every known member has rejoined or the largest rebalance timeout passes (members that did
 * not rejoin are dropped; static ones stay). Then the generation is bumped, the protocol
 * voted, the leader receives the member list and the group waits in CompletingRebalance for
 * the leader's SyncGroup. Its assignment is written to `__consumer_offsets` (GroupMetadata
 * record) and the SyncGroup responses go out once that record is durable. A brand-new group's
 * first rebalance waits group.initial.rebalance.delay.ms for more members (extended per join,
 * up to the rebalance timeout), as Kafka's InitialDelayedJoin does.
 *
 * Sessions: join, sync and heartbeat restart a member's session timer; a member waiting for a
 * join or sync response is kept alive; an expired member is removed and triggers a rebalance.
 * Members that do not send SyncGroup within the rebalance timeout after a join phase are
 * removed too (Kafka's pending-sync timeout).
 *
 * Only the persisted parts (generation, protocol, leader, members and assignments) survive a
 * restart; a join phase in progress does not — clients rejoin, as with Kafka.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { GroupMetadataValue } from '../protocol/generated/coordinator-records/GroupMetadataValue.js';
import type { HeartbeatRequest } from '../protocol/generated/message/HeartbeatRequest.js';
import type { JoinGroupRequest } from '../protocol/generated/message/JoinGroupRequest.js';
import { JoinGroupResponse } from '../protocol/generated/message/JoinGroupResponse.js';
import type { SyncGroupRequest } from '../protocol/generated/message/SyncGroupRequest.js';
import { SyncGroupResponse } from '../protocol/generated/message/SyncGroupResponse.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { ClassicGroup, ClassicMember, type Protocol } from './classic-group.js';
import type { CoordinatorRecord } from './records.js';

export interface ClassicGroupsConfig {
  /** group.min.session.timeout.ms / group.max.session.timeout.ms */
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms */
  readonly initialRebalanceDelayMs: number;
  /** group.max.size */
  readonly maxSize: number;
}

export interface ClassicGroupsHost {
  readonly clock: Clock;
  readonly random: Random;
  readonly config: ClassicGroupsConfig;
  /** Appends records; resolves once durable, rejects when the write failed (the shard then reloads from the log). */
  write(records: CoordinatorRecord[]): Promise<void>;
  log(message: string): void;
}

export interface ClientInfo {
  readonly clientId: string;
  readonly clientHost: string;
}

export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

type JoinResponse = JoinGroupResponse;

function joinError(errorCode: number, memberId = ''): JoinResponse {
  return {
    ...JoinGroupResponse.create(),
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    members: [],
  };
}

function syncError(errorCode: number): SyncGroupResponse {
  return { ...SyncGroupResponse.create(), errorCode, protocolType: null, protocolName: null };
}

/** Java's UUID.toString() of 16 random bytes (version 4). */
function uuid(random: Random): string {
  const b = random.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class ClassicGroups {
  readonly groups = new Map<string, ClassicGroup>();
  private readonly host: ClassicGroupsHost;
  /** Groups whose first rebalance is in its initial delay, and whether a member joined during it. */
  private readonly initialDelay = new Map<ClassicGroup, { newMemberAdded: boolean }>();
  /** Members that have not sent SyncGroup since the last join phase completed. */
  private readonly pendingSync = new Map<ClassicGroup, Set<string>>();
  /** The write of each group's latest assignment, which Stable-state SyncGroups wait for. */
  private readonly assignmentWrites = new Map<ClassicGroup, Promise<void>>();

  constructor(host: ClassicGroupsHost) {
    this.host = host;
  }

  private now(): number {
    return this.host.clock.nowMs();
  }

  get(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  /** The group, created empty when absent (a first join, or offsets committed outside any membership). */
  getOrCreate(groupId: string): ClassicGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new ClassicGroup(groupId, this.now());
      this.groups.set(groupId, group);
    }
    return group;
  }

  // ---------------------------------------------------------------- JoinGroup

  join(req: JoinGroupRequest, apiVersion: number, client: ClientInfo): Promise<JoinResponse> | JoinResponse {
    const cfg = this.host.config;
    const rebalanceTimeoutMs = apiVersion === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs;
    if (req.groupId === '') return joinError(ErrorCode.INVALID_GROUP_ID, req.memberId);
    if (req.sessionTimeoutMs < cfg.minSessionTimeoutMs || req.sessionTimeoutMs > cfg.maxSessionTimeoutMs) {
      return joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId);
    }
    if (req.protocolType === '' || req.protocols.length === 0) {
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId);
    }
    const unknownMember = req.memberId === '';
    let group = this.groups.get(req.groupId);
    if (group === undefined) {
      if (!unknownMember) return joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId);
      group = this.getOrCreate(req.groupId);
    }
    if (group.state === 'Dead') return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, req.memberId);
    const isMember =
      group.members.has(req.memberId) ||
      (req.groupInstanceId !== null && group.staticMembers.has(req.groupInstanceId));
    // Reserved member ids (MEMBER_ID_REQUIRED) count too, so join attempts cannot pile up past the limit.
    if (
      !isMember &&
      !group.pendingMembers.has(req.memberId) &&
      group.size + group.pendingMembers.size >= cfg.maxSize
    ) {
      return joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, req.memberId);
    }
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId);
    }
    const join: JoinParams = {
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs,
      groupInstanceId: req.groupInstanceId,
      reason: req.reason ?? 'not provided',
      apiVersion,
      client,
    };
    return unknownMember ? this.joinUnknown(group, join) : this.joinKnown(group, req.memberId, join);
  }

  private joinUnknown(group: ClassicGroup, join: JoinParams): Promise<JoinResponse> | JoinResponse {
    const newMemberId = `${join.client.clientId}-${uuid(this.host.random)}`;
    if (join.groupInstanceId !== null) {
      const oldMemberId = group.staticMembers.get(join.groupInstanceId);
      if (oldMemberId !== undefined) return this.replaceStaticMember(group, oldMemberId, newMemberId, join);
      return this.addMemberAndRebalance(group, newMemberId, join);
    }
    if (join.apiVersion >= 4) {
      // KIP-394: a new member first learns its id, then joins with it; the id stays reserved for one session.
      const cancel = this.host.clock.schedule(join.sessionTimeoutMs, () => {
        if (!group.pendingMembers.delete(newMemberId)) return;
        this.host.log(`group ${group.groupId}: pending member ${newMemberId} did not join in time`);
        this.tryCompleteJoin(group);
      });
      group.pendingMembers.set(newMemberId, cancel);
      return joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId);
    }
    return this.addMemberAndRebalance(group, newMemberId, join);
  }

  private joinKnown(
    group: ClassicGroup,
    memberId: string,
    join: JoinParams,
  ): Promise<JoinResponse> | JoinResponse {
    if (group.pendingMembers.has(memberId)) return this.addMemberAndRebalance(group, memberId, join);
    const invalid = this.validateMember(group, memberId, join.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return joinError(invalid, memberId);
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, join);
      case 'CompletingRebalance':
        // Same metadata: the member probably lost the join response; give it the current generation again.
        if (member.sameProtocols(join.protocols)) return this.currentGeneration(group, member);
        return this.updateMemberAndRebalance(group, member, join);
      case 'Stable':
        // The leader's rejoin forces a rebalance: that is how it reacts to changes outside member metadata.
        if (memberId === group.leaderId || !member.sameProtocols(join.protocols)) {
          return this.updateMemberAndRebalance(group, member, join);
        }
        this.scheduleSession(group, member);
        return this.currentGeneration(group, member);
      case 'Empty':
      case 'Dead':
        return joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId);
    }
  }

  private currentGeneration(group: ClassicGroup, member: ClassicMember): JoinResponse {
    const isLeader = member.memberId === group.leaderId;
    return this.joinResponse(group, member.memberId, isLeader ? this.memberList(group) : []);
  }

  private joinResponse(
    group: ClassicGroup,
    memberId: string,
    members: JoinGroupResponse.JoinGroupResponseMember[],
    leader = group.leaderId ?? '',
    skipAssignment = false,
  ): JoinResponse {
    return {
      ...JoinGroupResponse.create(),
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      // Null only for an empty group; the JoinGroup handler writes '' before v7, where it is not nullable.
      protocolName: group.protocolName,
      leader,
      skipAssignment,
      memberId,
      members,
    };
  }

  private memberList(group: ClassicGroup): JoinGroupResponse.JoinGroupResponseMember[] {
    const protocol = group.protocolName ?? '';
    return [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(protocol),
      unknownTaggedFields: undefined,
    }));
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    memberId: string,
    join: JoinParams,
  ): Promise<JoinResponse> {
    const cancelPending = group.pendingMembers.get(memberId);
    if (cancelPending !== undefined) {
      cancelPending();
      group.pendingMembers.delete(memberId);
    }
    const member = new ClassicMember({
      memberId,
      groupInstanceId: join.groupInstanceId,
      clientId: join.client.clientId,
      clientHost: join.client.clientHost,
      rebalanceTimeoutMs: join.rebalanceTimeoutMs,
      sessionTimeoutMs: join.sessionTimeoutMs,
      protocolType: join.protocolType,
      protocols: join.protocols,
    });
    member.isNew = true;
    const response = new Promise<JoinResponse>((resolve) => (member.awaitingJoin = resolve));
    group.addMember(member);
    const delay = this.initialDelay.get(group);
    if (delay !== undefined) delay.newMemberAdded = true;
    this.maybePrepareRebalance(group, `member ${memberId} joined (reason: ${join.reason})`);
    this.tryCompleteJoin(group);
    return response;
  }

  private updateMemberAndRebalance(
    group: ClassicGroup,
    member: ClassicMember,
    join: JoinParams,
  ): Promise<JoinResponse> {
    member.protocols = join.protocols;
    member.rebalanceTimeoutMs = join.rebalanceTimeoutMs;
    member.sessionTimeoutMs = join.sessionTimeoutMs;
    member.clientId = join.client.clientId;
    member.clientHost = join.client.clientHost;
    // A second join while the first waits: the first is answered, the second waits in its place.
    member.awaitingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    const response = new Promise<JoinResponse>((resolve) => (member.awaitingJoin = resolve));
    this.maybePrepareRebalance(group, `member ${member.memberId} rejoined (reason: ${join.reason})`);
    this.tryCompleteJoin(group);
    return response;
  }

  /**
   * A static member restarted (same group.instance.id, no member id): it takes over its old
   * member's place. In a Stable group whose protocol choice stays the same, nothing is
   * rebalanced: the new id is persisted and the member keeps its assignment.
   */
  private replaceStaticMember(
    group: ClassicGroup,
    oldMemberId: string,
    newMemberId: string,
    join: JoinParams,
  ): Promise<JoinResponse> | JoinResponse {
    const member = group.members.get(oldMemberId)!;
    const wasLeader = group.leaderId === oldMemberId;
    const oldProtocols = member.protocols;
    const oldTimeouts = [member.rebalanceTimeoutMs, member.sessionTimeoutMs] as const;
    member.awaitingJoin?.(joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    member.awaitingJoin = null;
    member.awaitingSync?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    member.awaitingSync = null;
    this.renameMember(group, member, newMemberId);
    member.protocols = join.protocols;
    member.rebalanceTimeoutMs = join.rebalanceTimeoutMs;
    member.sessionTimeoutMs = join.sessionTimeoutMs;
    this.scheduleSession(group, member);
    this.host.log(`group ${group.groupId}: static member ${join.groupInstanceId} rejoined as ${newMemberId}`);
    switch (group.state) {
      case 'Stable': {
        if (group.selectProtocol() !== group.protocolName) {
          return this.updateMemberAndRebalance(group, member, join);
        }
        const generation = group.generationId;
        return this.host.write([this.groupRecord(group)]).then(
          () =>
            // v9+: the leader learns it still leads but need not assign again (skipAssignment);
            // older leaders are told the previous leader id, so they act as followers and sync.
            join.apiVersion >= 9 && wasLeader
              ? this.joinResponse(group, newMemberId, this.memberList(group), newMemberId, true)
              : this.joinResponse(group, newMemberId, [], wasLeader ? oldMemberId : (group.leaderId ?? '')),
          () => {
            if (group.generationId === generation && group.members.get(newMemberId) === member) {
              this.renameMember(group, member, oldMemberId);
              member.protocols = oldProtocols;
              [member.rebalanceTimeoutMs, member.sessionTimeoutMs] = oldTimeouts;
            }
            return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, newMemberId);
          },
        );
      }
      case 'CompletingRebalance':
        // The leader may be assigning to the old member id: rebalance so the new id gets partitions.
        return this.updateMemberAndRebalance(group, member, join);
      case 'PreparingRebalance':
      case 'Empty':
      case 'Dead':
        return this.updateMemberAndRebalance(group, member, join);
    }
  }

  private renameMember(group: ClassicGroup, member: ClassicMember, newMemberId: string): void {
    const oldMemberId = member.memberId;
    group.members.delete(oldMemberId);
    member.memberId = newMemberId;
    group.members.set(newMemberId, member);
    if (member.groupInstanceId !== null) group.staticMembers.set(member.groupInstanceId, newMemberId);
    if (group.leaderId === oldMemberId) group.leaderId = newMemberId;
    const pending = this.pendingSync.get(group);
    if (pending?.delete(oldMemberId) === true) pending.add(newMemberId);
  }

  // ---------------------------------------------------------------- rebalance phases

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.state === 'Stable' || group.state === 'CompletingRebalance' || group.state === 'Empty') {
      this.prepareRebalance(group, reason);
    }
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.state === 'CompletingRebalance') {
      // The leader's assignment for this generation will not come: members waiting for it retry.
      for (const m of group.members.values()) {
        m.assignment = Buffer.alloc(0);
        m.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        m.awaitingSync = null;
      }
    }
    this.clearSyncTimer(group);
    group.cancelJoinTimer?.();
    const wasEmpty = group.state === 'Empty';
    group.transitionTo('PreparingRebalance', this.now());
    const initialDelayMs = this.host.config.initialRebalanceDelayMs;
    if (wasEmpty && initialDelayMs > 0) {
      const state = { newMemberAdded: false };
      this.initialDelay.set(group, state);
      let remainingMs = Math.max(group.rebalanceTimeoutMs() - initialDelayMs, 0);
      const onDelay = (): void => {
        if (state.newMemberAdded && remainingMs > 0) {
          state.newMemberAdded = false;
          const delayMs = Math.min(initialDelayMs, remainingMs);
          remainingMs = Math.max(remainingMs - delayMs, 0);
          group.cancelJoinTimer = this.host.clock.schedule(delayMs, onDelay);
          return;
        }
        this.initialDelay.delete(group);
        this.completeJoin(group);
      };
      group.cancelJoinTimer = this.host.clock.schedule(initialDelayMs, onDelay);
    } else {
      this.initialDelay.delete(group);
      group.cancelJoinTimer = this.host.clock.schedule(group.rebalanceTimeoutMs(), () =>
        this.completeJoin(group),
      );
    }
    this.host.log(
      `group ${group.groupId}: preparing to rebalance (old generation ${group.generationId}; ${reason})`,
    );
  }

  private tryCompleteJoin(group: ClassicGroup): void {
    if (group.state !== 'PreparingRebalance' || this.initialDelay.has(group)) return;
    if (group.allMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: ClassicGroup): void {
    if (group.state !== 'PreparingRebalance') return;
    group.cancelJoinTimer?.();
    group.cancelJoinTimer = null;
    this.initialDelay.delete(group);
    // Dynamic members that did not rejoin in time leave; static ones may be restarting and stay.
    for (const m of [...group.members.values()]) {
      if (m.awaitingJoin === null && m.groupInstanceId === null) {
        this.host.log(`group ${group.groupId}: member ${m.memberId} did not rejoin in time, removed`);
        group.removeMember(m.memberId);
      }
    }
    group.generationId++;
    if (group.size === 0) {
      group.protocolName = null;
      group.leaderId = null;
      group.transitionTo('Empty', this.now());
      this.host.log(`group ${group.groupId}: generation ${group.generationId} is empty`);
      this.writeQuietly([this.groupRecord(group)]);
      return;
    }
    group.protocolName = group.selectProtocol();
    const leader = group.leaderId === null ? undefined : group.members.get(group.leaderId);
    if (leader === undefined || leader.awaitingJoin === null) {
      const joined = [...group.members.values()].find((m) => m.awaitingJoin !== null);
      if (joined !== undefined) group.leaderId = joined.memberId;
    }
    group.transitionTo('CompletingRebalance', this.now());
    const members = this.memberList(group);
    for (const m of group.members.values()) {
      const respond = m.awaitingJoin;
      m.awaitingJoin = null;
      m.isNew = false;
      this.scheduleSession(group, m);
      if (respond === null) continue;
      respond(this.joinResponse(group, m.memberId, m.memberId === group.leaderId ? members : []));
    }
    this.startSyncTimer(group);
    this.host.log(
      `group ${group.groupId}: generation ${group.generationId} formed (protocol ${group.protocolName}, ${group.size} member(s))`,
    );
  }

  /** After a join phase, members have one rebalance timeout to send SyncGroup, or they are removed. */
  private startSyncTimer(group: ClassicGroup): void {
    this.clearSyncTimer(group);
    this.pendingSync.set(group, new Set(group.members.keys()));
    const generation = group.generationId;
    group.cancelSyncTimer = this.host.clock.schedule(group.rebalanceTimeoutMs(), () => {
      group.cancelSyncTimer = null;
      const pending = this.pendingSync.get(group);
      this.pendingSync.delete(group);
      if (pending === undefined || pending.size === 0 || group.generationId !== generation) return;
      if (group.state !== 'CompletingRebalance' && group.state !== 'Stable') return;
      for (const memberId of pending) {
        const m = group.members.get(memberId);
        if (m === undefined) continue;
        this.host.log(`group ${group.groupId}: member ${memberId} did not sync in time, removed`);
        m.awaitingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
        m.awaitingSync = null;
        group.removeMember(memberId);
      }
      this.prepareRebalance(group, 'members did not sync in time');
    });
  }

  private clearSyncTimer(group: ClassicGroup): void {
    group.cancelSyncTimer?.();
    group.cancelSyncTimer = null;
    this.pendingSync.delete(group);
  }

  // ---------------------------------------------------------------- SyncGroup

  sync(req: SyncGroupRequest): Promise<SyncGroupResponse> | SyncGroupResponse {
    const group = this.groups.get(req.groupId);
    if (group === undefined) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.state === 'Dead') return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const invalid = this.validateMember(group, req.memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return syncError(invalid);
    if (req.generationId !== group.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocolName)
    ) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const member = group.members.get(req.memberId)!;
    switch (group.state) {
      case 'Empty':
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'CompletingRebalance': {
        this.pendingSync.get(group)?.delete(member.memberId);
        this.scheduleSession(group, member);
        member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        const response = new Promise<SyncGroupResponse>((resolve) => (member.awaitingSync = resolve));
        if (member.memberId === group.leaderId) this.storeAssignment(group, req.assignments);
        return response;
      }
      case 'Stable': {
        this.pendingSync.get(group)?.delete(member.memberId);
        this.scheduleSession(group, member);
        const write = this.assignmentWrites.get(group) ?? Promise.resolve();
        return write.then(
          () => this.syncResponse(group, member),
          () => syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE),
        );
      }
    }
  }

  private syncResponse(group: ClassicGroup, member: ClassicMember): SyncGroupResponse {
    return {
      ...SyncGroupResponse.create(),
      errorCode: ErrorCode.NONE,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment: member.assignment,
    };
  }

  /** The leader's assignment: applied, the group Stable, and every waiting member answered once it is durable. */
  private storeAssignment(
    group: ClassicGroup,
    assignments: SyncGroupRequest.SyncGroupRequestAssignment[],
  ): void {
    const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    for (const m of group.members.values()) m.assignment = byMember.get(m.memberId) ?? Buffer.alloc(0);
    group.transitionTo('Stable', this.now());
    const write = this.host.write([this.groupRecord(group)]);
    this.assignmentWrites.set(group, write);
    const generation = group.generationId;
    const answer = (failed: boolean): void => {
      if (this.assignmentWrites.get(group) === write) this.assignmentWrites.delete(group);
      for (const m of group.members.values()) {
        const respond = m.awaitingSync;
        if (respond === null) continue;
        m.awaitingSync = null;
        respond(
          failed || group.generationId !== generation
            ? syncError(failed ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.REBALANCE_IN_PROGRESS)
            : this.syncResponse(group, m),
        );
      }
    };
    write.then(
      () => answer(false),
      () => answer(true),
    );
    this.host.log(`group ${group.groupId}: generation ${generation} assignment received from the leader`);
  }

  // ---------------------------------------------------------------- Heartbeat and LeaveGroup

  heartbeat(req: HeartbeatRequest): number {
    const group = this.groups.get(req.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = this.validateMember(group, req.memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.members.get(req.memberId)!;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.scheduleSession(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleSession(group, member);
        return ErrorCode.NONE;
    }
  }

  leave(
    groupId: string,
    members: readonly { memberId: string; groupInstanceId: string | null; reason: string | null }[],
  ): LeaveResult {
    const group = this.groups.get(groupId);
    if (group === undefined) {
      return {
        errorCode: ErrorCode.NONE,
        members: members.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    }
    if (group.state === 'Dead') return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: this.leaveOne(group, m.memberId, m.groupInstanceId, m.reason ?? 'not provided'),
    }));
    return { errorCode: ErrorCode.NONE, members: results };
  }

  private leaveOne(
    group: ClassicGroup,
    memberId: string,
    groupInstanceId: string | null,
    reason: string,
  ): number {
    if (memberId === '' && groupInstanceId !== null) {
      // An admin removing a static member by its instance id (KIP-345).
      const id = group.staticMembers.get(groupInstanceId);
      if (id === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      this.removeMemberAndUpdateGroup(
        group,
        group.members.get(id)!,
        `removed by instance id (reason: ${reason})`,
      );
      return ErrorCode.NONE;
    }
    const cancelPending = group.pendingMembers.get(memberId);
    if (cancelPending !== undefined) {
      cancelPending();
      group.pendingMembers.delete(memberId);
      this.tryCompleteJoin(group);
      return ErrorCode.NONE;
    }
    const invalid = this.validateMember(group, memberId, groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    this.removeMemberAndUpdateGroup(
      group,
      group.members.get(memberId)!,
      `left the group (reason: ${reason})`,
    );
    return ErrorCode.NONE;
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: ClassicMember, why: string): void {
    this.host.log(`group ${group.groupId}: member ${member.memberId} ${why}`);
    member.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    member.awaitingJoin = null;
    member.awaitingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    member.awaitingSync = null;
    group.removeMember(member.memberId);
    this.pendingSync.get(group)?.delete(member.memberId);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(group, `member ${member.memberId} ${why}`);
        this.tryCompleteJoin(group);
        break;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        break;
      case 'Empty':
      case 'Dead':
        break;
    }
  }

  private validateMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const current = group.staticMembers.get(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      return ErrorCode.NONE;
    }
    return group.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** Offset commits from members are checked as Kafka checks them; a negative generation is a standalone commit. */
  validateOffsetCommit(
    group: ClassicGroup,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    isTransactional = false,
  ): number {
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (generationId < 0 && group.state === 'Empty') return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const invalid = this.validateMember(group, memberId, groupInstanceId);
      if (invalid !== ErrorCode.NONE) return invalid;
      if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!isTransactional && group.state !== 'Empty') {
      // As Kafka: TxnOffsetCommit before v3 carries no member, so it is taken from anyone.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (!isTransactional && group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------- sessions, records, loading

  private scheduleSession(group: ClassicGroup, member: ClassicMember): void {
    member.cancelSession?.();
    member.cancelSession = this.host.clock.schedule(member.sessionTimeoutMs, () => {
      member.cancelSession = null;
      if (group.members.get(member.memberId) !== member) return;
      if (member.awaitingJoin !== null || member.awaitingSync !== null) {
        // Waiting for the coordinator is not a lapse of the member's.
        this.scheduleSession(group, member);
        return;
      }
      this.removeMemberAndUpdateGroup(group, member, `session timed out after ${member.sessionTimeoutMs} ms`);
    });
  }

  groupRecord(group: ClassicGroup): CoordinatorRecord {
    return {
      type: 'groupMetadata',
      key: { group: group.groupId, unknownTaggedFields: undefined },
      value: group.toRecordValue(this.now()),
    };
  }

  private writeQuietly(records: CoordinatorRecord[]): void {
    this.host.write(records).catch(() => undefined);
  }

  /** Replays a GroupMetadata record while loading: the group as last stored, or gone for a tombstone. */
  replay(groupId: string, value: GroupMetadataValue | null, hasOffsets: boolean): void {
    this.groups.get(groupId)?.cancelJoinTimer?.();
    if (value === null) {
      if (hasOffsets) this.groups.set(groupId, new ClassicGroup(groupId, this.now()));
      else this.groups.delete(groupId);
      return;
    }
    this.groups.set(groupId, ClassicGroup.fromRecordValue(groupId, value, this.now()));
  }

  /** After loading: members get a full session to heartbeat (a restarted coordinator does not expire them at once). */
  onLoaded(): void {
    for (const group of this.groups.values()) {
      for (const m of group.members.values()) this.scheduleSession(group, m);
    }
  }

  /** Removes a group (DeleteGroups, or expiry of an empty group); its record is tombstoned by the caller. */
  delete(group: ClassicGroup): void {
    group.transitionTo('Dead', this.now());
    group.cancelJoinTimer?.();
    this.clearSyncTimer(group);
    this.groups.delete(group.groupId);
  }

  /** Cancels every timer and answers waiting requests (the shard is unloading or the broker stopping). */
  close(): void {
    for (const group of this.groups.values()) {
      group.cancelJoinTimer?.();
      this.clearSyncTimer(group);
      for (const cancel of group.pendingMembers.values()) cancel();
      for (const m of group.members.values()) {
        m.cancelSession?.();
        m.awaitingJoin?.(joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
        m.awaitingJoin = null;
        m.awaitingSync?.(syncError(ErrorCode.NOT_COORDINATOR));
        m.awaitingSync = null;
      }
    }
    this.groups.clear();
  }
}

interface JoinParams {
  protocolType: string;
  protocols: Protocol[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  groupInstanceId: string | null;
  reason: string;
  apiVersion: number;
  client: ClientInfo;
}
