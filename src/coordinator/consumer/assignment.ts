/**
 * Partition sets as the consumer group protocol handles them: topic id (Kafka's base64url
 * string) → partition ids. Values are treated as immutable: every operation returns a new map.
 * Partition lists are kept sorted and never empty, so two equal sets compare equal with
 * `samePartitions` and print the same in records and responses.
 */

/** topic id → sorted, non-empty list of partition ids. */
export type TopicPartitions = ReadonlyMap<string, readonly number[]>;

export const NO_PARTITIONS: TopicPartitions = new Map();

/** The wire/record shape: a list of topics with their partitions. */
export interface TopicPartitionsEntry {
  topicId: string;
  partitions: number[];
}

function sortedUnique(partitions: Iterable<number>): number[] {
  return [...new Set(partitions)].sort((a, b) => a - b);
}

/** Builds a set from (topic id, partitions) pairs; duplicates merge, empty topics are dropped. */
export function partitionsFrom(
  entries: Iterable<{ topicId: string; partitions: Iterable<number> }>,
): TopicPartitions {
  const merged = new Map<string, number[]>();
  for (const e of entries) {
    const list = merged.get(e.topicId);
    if (list === undefined) merged.set(e.topicId, [...e.partitions]);
    else list.push(...e.partitions);
  }
  const out = new Map<string, number[]>();
  for (const topicId of [...merged.keys()].sort()) {
    const ps = sortedUnique(merged.get(topicId) ?? []);
    if (ps.length > 0) out.set(topicId, ps);
  }
  return out;
}

/** From mutable per-topic sets (assignor output). */
export function partitionsFromSets(sets: ReadonlyMap<string, ReadonlySet<number>>): TopicPartitions {
  return partitionsFrom([...sets].map(([topicId, ps]) => ({ topicId, partitions: ps })));
}

/** The record/response list form, topics sorted by id. */
export function partitionsToEntries(tp: TopicPartitions): TopicPartitionsEntry[] {
  return [...tp.keys()].sort().map((topicId) => ({ topicId, partitions: [...(tp.get(topicId) ?? [])] }));
}

export function samePartitions(a: TopicPartitions, b: TopicPartitions): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [topicId, pa] of a) {
    const pb = b.get(topicId);
    if (pb === undefined || pb.length !== pa.length) return false;
    for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) return false;
  }
  return true;
}

export function containsPartition(tp: TopicPartitions, topicId: string, partition: number): boolean {
  return tp.get(topicId)?.includes(partition) ?? false;
}

export function countPartitions(tp: TopicPartitions): number {
  let n = 0;
  for (const ps of tp.values()) n += ps.length;
  return n;
}

/** Every (topic id, partition) pair of the set. */
export function* eachPartition(tp: TopicPartitions): Generator<[string, number]> {
  for (const [topicId, ps] of tp) for (const p of ps) yield [topicId, p];
}

/** Whether every partition of `owned` (a request's list; null = not sent) is in `tp`. Kafka's isSubset. */
export function ownedIsSubset(owned: readonly TopicPartitionsEntry[] | null, tp: TopicPartitions): boolean {
  if (owned === null) return false;
  for (const e of owned) {
    const ps = tp.get(e.topicId);
    if (ps === undefined) return false;
    for (const p of e.partitions) if (!ps.includes(p)) return false;
  }
  return true;
}
