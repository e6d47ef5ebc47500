/**
 * Topic-partition identity for the consumer: the public types, a string key for maps, and the
 * order Kafka's Java client sorts them in (topic by UTF-16 code units, then partition), which
 * the assignors depend on to give every member of a group the same answer.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint;
}

/**
 * A map key for a topic-partition. The partition comes last and is digits only, so the key is
 * unambiguous even for (invalid) topic names that contain the separator.
 */
export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function keyOf(tp: TopicPartition): string {
  return tpKey(tp.topic, tp.partition);
}

/** Java's String.compareTo: UTF-16 code units, which is what `<` on JS strings compares. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Topic, then partition: TopicPartition order in Kafka's assignors. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

export function sortTopicPartitions<T extends TopicPartition>(tps: readonly T[]): T[] {
  return [...tps].sort(compareTopicPartitions);
}

/** `a:0, a:1, b:3` — for log lines and error messages. */
export function formatTopicPartitions(tps: Iterable<TopicPartition>): string {
  const parts: string[] = [];
  for (const tp of tps) parts.push(tpKey(tp.topic, tp.partition));
  return parts.length === 0 ? '(none)' : parts.join(', ');
}

/** Checks a caller-supplied topic-partition; the message names where it came from. */
export function checkTopicPartition(tp: TopicPartition, what: string): void {
  if (typeof tp !== 'object' || tp === null) throw new TypeError(`${what}: expected { topic, partition }`);
  if (typeof tp.topic !== 'string' || tp.topic.length === 0) {
    throw new TypeError(`${what}: topic must be a non-empty string, got ${String(tp.topic)}`);
  }
  if (!Number.isInteger(tp.partition) || tp.partition < 0 || tp.partition > 0x7fffffff) {
    throw new TypeError(`${what}: partition must be an int32 >= 0, got ${String(tp.partition)}`);
  }
}

/** A Map keyed by topic-partition that keeps the topic-partition itself alongside each value. */
export class TopicPartitionMap<V> {
  private readonly entries = new Map<string, { tp: TopicPartition; value: V }>();

  get size(): number {
    return this.entries.size;
  }

  get(tp: TopicPartition): V | undefined {
    return this.entries.get(keyOf(tp))?.value;
  }

  has(tp: TopicPartition): boolean {
    return this.entries.has(keyOf(tp));
  }

  set(tp: TopicPartition, value: V): this {
    this.entries.set(keyOf(tp), { tp: { topic: tp.topic, partition: tp.partition }, value });
    return this;
  }

  delete(tp: TopicPartition): boolean {
    return this.entries.delete(keyOf(tp));
  }

  clear(): void {
    this.entries.clear();
  }

  keys(): TopicPartition[] {
    return [...this.entries.values()].map((e) => e.tp);
  }

  values(): V[] {
    return [...this.entries.values()].map((e) => e.value);
  }

  *[Symbol.iterator](): IterableIterator<[TopicPartition, V]> {
    for (const e of this.entries.values()) yield [e.tp, e.value];
  }
}
