/**
 * Committed offsets of the groups of one coordinator shard: group → topic → partition →
 * offset, leader epoch, metadata and commit time. Offsets are `number`: the broker keeps every
 * offset below 2^53 (see DESIGN.md).
 */
export interface CommittedOffset {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  /** Set only by OffsetCommit v2-v4 requests with a retention time (value version 1). */
  readonly expireTimestampMs: number | null;
}

export class OffsetStore {
  private readonly byGroup = new Map<string, Map<string, Map<number, CommittedOffset>>>();

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(groupId)?.get(topic)?.get(partition);
  }

  set(groupId: string, topic: string, partition: number, offset: CommittedOffset): void {
    let topics = this.byGroup.get(groupId);
    if (topics === undefined)
      this.byGroup.set(groupId, (topics = new Map<string, Map<number, CommittedOffset>>()));
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = new Map<number, CommittedOffset>()));
    partitions.set(partition, offset);
  }

  delete(groupId: string, topic: string, partition: number): void {
    const topics = this.byGroup.get(groupId);
    const partitions = topics?.get(topic);
    if (topics === undefined || partitions === undefined) return;
    partitions.delete(partition);
    if (partitions.size === 0) topics.delete(topic);
    if (topics.size === 0) this.byGroup.delete(groupId);
  }

  hasOffsets(groupId: string): boolean {
    return this.byGroup.has(groupId);
  }

  groups(): IterableIterator<string> {
    return this.byGroup.keys();
  }

  /** Every committed offset of a group, sorted by topic then partition. */
  list(groupId: string): { topic: string; partition: number; offset: CommittedOffset }[] {
    const out: { topic: string; partition: number; offset: CommittedOffset }[] = [];
    const topics = this.byGroup.get(groupId);
    if (topics === undefined) return out;
    for (const topic of [...topics.keys()].sort()) {
      const partitions = topics.get(topic)!;
      for (const partition of [...partitions.keys()].sort((a, b) => a - b)) {
        out.push({ topic, partition, offset: partitions.get(partition)! });
      }
    }
    return out;
  }

  clear(): void {
    this.byGroup.clear();
  }
}
