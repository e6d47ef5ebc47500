/**
 * Choosing a partition for a record, as Kafka's Java producer does, so that records with the same
 * key land on the same partition whichever client (Java, librdkafka's murmur2_random, kafkajs's
 * DefaultPartitioner, Samsa) wrote them:
 *
 * - an explicit partition wins;
 * - a keyed record goes to `toPositive(murmur2(keyBytes)) % numPartitions` over ALL partitions
 *   (available or not: moving a key while a leader is down would break per-key order);
 * - a keyless record goes to the topic's sticky partition (KIP-480): one partition, chosen at
 *   random among those with a leader, is used until its batch is full or has been sent, then
 *   another is chosen. Records without keys then form few, full batches instead of one small
 *   batch per partition.
 */

/** Kafka's `Utils.murmur2`: 32-bit MurmurHash2 with seed 0x9747b28c, as a signed Java int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  // Java's switch falls through from case 3 to case 1; the ifs do the same.
  if (rest !== 0) {
    if (rest === 3) h ^= data[tail + 2]! << 16;
    if (rest >= 2) h ^= data[tail + 1]! << 8;
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not Math.abs, which differs for negatives). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's producers give a keyed record. */
export function keyPartition(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

/** Whether a partition's open batch can take a record (the accumulator answers). */
export interface BatchRoom {
  hasRoom(topic: string, partition: number, payloadBytes: number, timestamp: number): boolean;
}

/**
 * The sticky choice for keyless records, per topic. The producer asks `partition(...)` for every
 * keyless record; `room` tells whether a partition has an open batch with room for the record.
 * While the sticky partition has such a batch it stays; once its batch is full or has been sent
 * (no open batch), another partition is picked, as Kafka's `onNewBatch` does.
 */
export class StickyPartitioner {
  private readonly sticky = new Map<string, number>();
  private readonly random: () => number;

  /** `random` returns a number in [0, 1); injectable so tests can make the choice deterministic. */
  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  /**
   * @param available partitions that have a leader (may be empty)
   * @param numPartitions the topic's partition count (> 0)
   */
  partition(
    topic: string,
    available: readonly number[],
    numPartitions: number,
    room: BatchRoom,
    payloadBytes: number,
    timestamp: number,
  ): number {
    const current = this.sticky.get(topic);
    if (current !== undefined && current < numPartitions) {
      if (room.hasRoom(topic, current, payloadBytes, timestamp)) return current;
      return this.choose(topic, available, numPartitions, current);
    }
    return this.choose(topic, available, numPartitions, -1);
  }

  /** Current sticky partition of a topic, if one was chosen. */
  current(topic: string): number | undefined {
    return this.sticky.get(topic);
  }

  /** A random partition other than `previous` when there is a choice, preferring ones with a leader. */
  private choose(
    topic: string,
    available: readonly number[],
    numPartitions: number,
    previous: number,
  ): number {
    let next: number;
    if (available.length === 0) {
      next = this.pickOther(numPartitions, previous, (i) => i);
    } else if (available.length === 1) {
      next = available[0]!;
    } else {
      next = this.pickOther(available.length, available.indexOf(previous), (i) => available[i]!);
    }
    this.sticky.set(topic, next);
    return next;
  }

  /** Index in [0, count) other than `avoidIndex` (when count > 1), mapped through `at`. */
  private pickOther(count: number, avoidIndex: number, at: (i: number) => number): number {
    if (count <= 1 || avoidIndex < 0) return at(Math.floor(this.random() * count) % count);
    // Choose among the count-1 others, then skip over the one to avoid: uniform, no retry loop.
    let i = Math.floor(this.random() * (count - 1)) % (count - 1);
    if (i >= avoidIndex) i++;
    return at(i);
  }
}
