/**
 * The event trace: the last lines of a schedule, kept cheaply (a line is formatted only when
 * printed) in a ring, or written out as they happen when replaying a seed.
 */

/** A line, or what formats it when needed. */
export type TraceItem = string | (() => string);

export class Trace {
  private readonly times: number[];
  private readonly items: TraceItem[];
  private next = 0;
  private count = 0;

  /** @param capacity lines kept; @param live when given, each line is also written out at once. */
  constructor(
    readonly capacity: number,
    private readonly live?: (line: string) => void,
  ) {
    this.times = new Array<number>(capacity);
    this.items = new Array<TraceItem>(capacity);
  }

  add(atMs: number, item: TraceItem): void {
    if (this.live !== undefined) {
      this.live(format(atMs, item));
      return;
    }
    this.times[this.next] = atMs;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The kept lines, oldest first. */
  lines(): string[] {
    const out: string[] = [];
    const first = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const j = (first + i) % this.capacity;
      out.push(format(this.times[j]!, this.items[j]!));
    }
    return out;
  }
}

function format(atMs: number, item: TraceItem): string {
  return `${atMs.toFixed(3).padStart(10)} ${typeof item === 'string' ? item : item()}`;
}
