/**
 * The log cleaner's offset map: record key → offset of the latest record with that key in the
 * dirty part of a log (Kafka's SkimpyOffsetMap, simplified).
 *
 * Keys are stored compactly: a key of at most SHORT_KEY_BYTES bytes as itself (a one-byte-per-char
 * string), a longer one as the first 16 bytes of its SHA-256 digest, as Kafka stores an MD5 per
 * key. Two distinct long keys collide with probability ~2^-128, which Kafka accepts too. Short
 * and hashed keys carry different prefixes, so they never collide with each other.
 *
 * Memory is bounded by entries, not bytes: the cleaner maps only the prefix of the dirty part
 * that fits in `maxEntries` (about 80-100 bytes of heap per entry).
 */
import { createHash } from 'node:crypto';

/** Keys up to this many bytes are kept as they are; longer ones are hashed. */
export const SHORT_KEY_BYTES = 32;

/** The map key of a record key. */
export function offsetMapKey(key: Buffer): string {
  if (key.length <= SHORT_KEY_BYTES) return 's' + key.toString('latin1');
  return 'h' + createHash('sha256').update(key).digest().toString('latin1', 0, 16);
}

export class OffsetMap {
  readonly maxEntries: number;
  private readonly map = new Map<string, number>();
  /** Largest offset put so far, -1 when empty. */
  latestOffset = -1;

  constructor(maxEntries: number) {
    if (!(Number.isInteger(maxEntries) && maxEntries >= 1))
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.map.size;
  }

  /** Whether `more` keys surely fit (each could be new). */
  fits(more: number): boolean {
    return this.map.size + more <= this.maxEntries;
  }

  /** Records `offset` for `key`, keeping the largest offset seen for it. */
  put(key: Buffer, offset: number): void {
    const k = offsetMapKey(key);
    const current = this.map.get(k);
    if (current === undefined || offset > current) this.map.set(k, offset);
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  /** The latest offset of `key`, or -1 when the key is not in the map. */
  get(key: Buffer): number {
    return this.map.get(offsetMapKey(key)) ?? -1;
  }

  clear(): void {
    this.map.clear();
    this.latestOffset = -1;
  }
}
