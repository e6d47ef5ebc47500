/** Timers of the consumer group coordinator, on the injected Clock, keyed by group and member. */
import type { Clock } from '../../runtime/clock.js';

/** Per-member timers of one kind, cancellable by member, by group or all at once. */
export class MemberTimers {
  private readonly byGroup = new Map<string, Map<string, () => void>>();

  constructor(private readonly clock: Clock) {}

  schedule(groupId: string, memberId: string, delayMs: number, fn: () => void): void {
    this.cancel(groupId, memberId);
    let members = this.byGroup.get(groupId);
    if (members === undefined) {
      members = new Map();
      this.byGroup.set(groupId, members);
    }
    const cancel = this.clock.schedule(delayMs, () => {
      this.forget(groupId, memberId, cancel);
      fn();
    });
    members.set(memberId, cancel);
  }

  cancel(groupId: string, memberId: string): void {
    const members = this.byGroup.get(groupId);
    const cancel = members?.get(memberId);
    if (cancel === undefined) return;
    cancel();
    this.forget(groupId, memberId, cancel);
  }

  cancelGroup(groupId: string): void {
    for (const cancel of this.byGroup.get(groupId)?.values() ?? []) cancel();
    this.byGroup.delete(groupId);
  }

  cancelAll(): void {
    for (const groupId of [...this.byGroup.keys()]) this.cancelGroup(groupId);
  }

  private forget(groupId: string, memberId: string, cancel: () => void): void {
    const members = this.byGroup.get(groupId);
    if (members?.get(memberId) !== cancel) return;
    members.delete(memberId);
    if (members.size === 0) this.byGroup.delete(groupId);
  }
}
