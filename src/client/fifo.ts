/**
 * A first-in first-out queue whose `shift` is O(1). `Array#shift` moves every remaining element
 * once an array is large (V8 trims the front in place only for small arrays), so draining a queue
 * of n items through it costs O(n²): 100,000 queued sends took seconds.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Consumed slots are dropped once they are at least this many and half the array. */
  private static readonly COMPACT_MIN = 1024;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in the queue; undefined when empty. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    // Let the item be collected now, not when the array is compacted.
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= Fifo.COMPACT_MIN && this.head * 2 >= this.items.length) {
      // Each compaction copies at most as many items as were shifted since the last: O(1) amortized.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Empties the queue, returning its items oldest first. */
  takeAll(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }
}
