/**
 * The messages of the client benchmark: the same keys and values, byte for byte, in every
 * worker. Keys are `k` and the index in decimal, zero-padded to `keyBytes` (distinct, so the
 * murmur2 partitioner every client uses spreads them over the partitions alike); values are
 * pseudo-random bytes (xorshift32, fixed seed), so nothing about them is easier for one client.
 */

export interface MessageShape {
  count: number;
  keyBytes: number;
  valueBytes: number;
}

export interface Messages {
  keys: Buffer[];
  values: Buffer[];
}

const cache = new Map<string, Messages>();

/**
 * Drops the cached messages: a worker that only consumes from now on must not carry hundreds of
 * thousands of live objects that the other clients' processes do not have (every full garbage
 * collection marks them).
 */
export function forgetMessages(): void {
  cache.clear();
}

/** The messages of `shape`, built once per process (views into one buffer of values). */
export function makeMessages(shape: MessageShape): Messages {
  const id = `${shape.count}/${shape.keyBytes}/${shape.valueBytes}`;
  const hit = cache.get(id);
  if (hit !== undefined) return hit;
  // One shape at a time: a worker changes shape between sections, and the old one is garbage then.
  cache.clear();
  const all = Buffer.allocUnsafe(shape.count * shape.valueBytes);
  let x = 0x9e3779b9;
  for (let i = 0; i + 4 <= all.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    all.writeUInt32LE(x >>> 0, i);
  }
  all.fill(0x61, all.length - (all.length % 4));
  const keys: Buffer[] = [];
  const values: Buffer[] = [];
  for (let i = 0; i < shape.count; i++) {
    keys.push(Buffer.from(`k${String(i).padStart(shape.keyBytes - 1, '0')}`, 'latin1'));
    values.push(all.subarray(i * shape.valueBytes, (i + 1) * shape.valueBytes));
  }
  const m = { keys, values };
  cache.set(id, m);
  return m;
}
