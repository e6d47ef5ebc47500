/**
 * The consumer's readers — poll(), the async iterator and run(), of which one reads at a time —
 * and the consumed offsets they keep: what a commit stores, and where a reader that stops early
 * seeks back to so that nothing is skipped.
 */
import { illegalState } from './errors.js';
import type { ConsumerRecord, Fetcher, PartitionStates } from './fetcher.js';
import { keyOf, type TopicPartition } from './topic-partition.js';

export interface ConsumerBatch {
  topic: string;
  partition: number;
  /** In offset order, never empty. */
  records: ConsumerRecord[];
  /** The partition's high watermark when the records were fetched (-1 if unknown). */
  highWatermark: bigint;
}

export interface RunHandlers {
  /** Called with each partition's records of a poll; the batch counts as consumed once it resolves. */
  eachBatch?: (batch: ConsumerBatch) => Promise<void> | void;
  /** Called with each record; the record counts as consumed once it resolves. */
  eachRecord?: (record: ConsumerRecord) => Promise<void> | void;
}

/** Polls inside the iterator and run() wait this long at most before looking at close() again. */
const LOOP_POLL_MS = 1000;

/** What the readers need from their consumer. */
export interface ReaderHost {
  /** Throws once the consumer is closed. */
  checkOpen(): void;
  /** close() has begun: a reader ends after the record or batch in hand. */
  isClosing(): boolean;
  /** One poll: rebalance and positions as needed, then buffered records or a wait for some. */
  pollOnce(timeoutMs: number): Promise<ConsumerRecord[]>;
  readonly enableAutoCommit: boolean;
  commitConsumed(tps: readonly TopicPartition[]): Promise<void>;
  /** Wakes a poll waiting for records. */
  wake(): void;
  log(message: string): void;
}

/** Consumer's poll(), async iterator and run() are these (their contracts are documented there). */
export class ConsumerReaders {
  /** poll, the iterator or run(): whichever reads now. */
  private reader: 'poll' | 'iterator' | 'run' | null = null;
  /** The reader's operation in progress (a poll, an iterator step, run's loop): close() waits for it. */
  private active: Promise<unknown> | null = null;
  /** Records the iterator fetched but has not yielded yet. */
  private iteratorBuffer: ConsumerRecord[] = [];

  constructor(
    private readonly states: PartitionStates,
    private readonly fetcher: Fetcher,
    private readonly host: ReaderHost,
  ) {}

  /** The reader's operation in progress, if any: close() waits for it. */
  get inProgress(): Promise<unknown> | null {
    return this.active;
  }

  async poll(timeoutMs: number): Promise<ConsumerRecord[]> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(`poll: timeoutMs must be an integer >= 0, got ${String(timeoutMs)}`);
    }
    this.host.checkOpen();
    this.checkNoReader('poll');
    this.reader = 'poll';
    try {
      const records = await this.track(this.host.pollOnce(timeoutMs));
      this.markAllConsumed();
      return records;
    } finally {
      this.reader = null;
    }
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    const settled = operation.then(
      () => undefined,
      () => undefined,
    );
    this.active = settled;
    void settled.then(() => {
      if (this.active === settled) this.active = null;
    });
    return operation;
  }

  iterator(): AsyncIterator<ConsumerRecord> {
    this.host.checkOpen();
    this.checkNoReader('the async iterator');
    this.reader = 'iterator';
    let finished = false;
    const finish = (): IteratorReturnResult<undefined> => {
      if (!finished) {
        finished = true;
        this.rewindIterator();
        if (this.reader === 'iterator') this.reader = null;
      }
      return { value: undefined, done: true };
    };
    const step = async (): Promise<IteratorResult<ConsumerRecord>> => {
      try {
        for (;;) {
          const record = this.iteratorBuffer.shift();
          if (record !== undefined) {
            this.markConsumed(record);
            return { value: record, done: false };
          }
          if (this.host.isClosing()) return finish();
          this.markAllConsumed();
          this.iteratorBuffer = await this.host.pollOnce(LOOP_POLL_MS);
        }
      } catch (e) {
        finish();
        throw e;
      }
    };
    return {
      next: (): Promise<IteratorResult<ConsumerRecord>> =>
        finished ? Promise.resolve({ value: undefined, done: true }) : this.track(step()),
      return: (): Promise<IteratorResult<ConsumerRecord>> => Promise.resolve(finish()),
    };
  }

  async run(handlers: RunHandlers): Promise<void> {
    const eachBatch = handlers?.eachBatch;
    const eachRecord = handlers?.eachRecord;
    if ((eachBatch === undefined) === (eachRecord === undefined)) {
      throw new TypeError('run: give exactly one of eachBatch and eachRecord');
    }
    if (typeof (eachBatch ?? eachRecord) !== 'function')
      throw new TypeError('run: the handler must be a function');
    this.host.checkOpen();
    this.checkNoReader('run');
    this.reader = 'run';
    try {
      await this.track(this.runLoop(eachBatch, eachRecord));
    } finally {
      this.reader = null;
    }
  }

  private async runLoop(
    eachBatch: RunHandlers['eachBatch'],
    eachRecord: RunHandlers['eachRecord'],
  ): Promise<void> {
    let pending: ConsumerRecord[] = [];
    try {
      while (!this.host.isClosing()) {
        pending = await this.host.pollOnce(LOOP_POLL_MS);
        if (pending.length === 0) {
          this.markAllConsumed();
          continue;
        }
        for (const batch of groupByPartition(pending)) {
          if (this.host.isClosing()) break;
          const state = this.states.get(batch[0]!);
          if (eachBatch !== undefined) {
            await eachBatch({
              topic: batch[0]!.topic,
              partition: batch[0]!.partition,
              records: batch,
              highWatermark: state?.highWatermark ?? -1n,
            });
            this.markConsumed(batch[batch.length - 1]!);
          } else {
            for (const record of batch) {
              await eachRecord!(record);
              this.markConsumed(record);
            }
          }
          if (this.host.enableAutoCommit) {
            await this.host
              .commitConsumed([batch[0]!])
              .catch((e: unknown) => this.host.log(`auto-commit after a batch failed: ${String(e)}`));
          }
        }
        pending = [];
        this.markAllConsumed();
      }
    } finally {
      // Whatever was not handled (a handler threw, close() came) is read again later.
      this.rewindTo(pending);
    }
  }

  checkNoReader(what: string): void {
    if (this.reader !== null) {
      throw illegalState(
        `${what}: the consumer is already being read by ${this.reader === 'poll' ? 'poll()' : this.reader === 'run' ? 'run()' : 'an async iterator'}; one reader at a time`,
      );
    }
  }

  private markConsumed(record: ConsumerRecord): void {
    const state = this.states.get(record);
    if (state === undefined) return;
    state.consumed = record.offset + 1n;
    state.consumedEpoch = record.leaderEpoch;
  }

  /** Everything returned so far is consumed: positions are what a commit stores. */
  private markAllConsumed(): void {
    for (const [, s] of this.states.entries()) {
      if (s.position === null) continue;
      s.consumed = s.position;
      s.consumedEpoch = s.positionEpoch;
    }
  }

  rewindIterator(): void {
    const left = this.iteratorBuffer;
    this.iteratorBuffer = [];
    this.rewindTo(left);
  }

  /**
   * Seeks each partition of `unhandled` back to its first record not consumed yet (records below
   * the consumed offset were handled), so it is read again.
   */
  private rewindTo(unhandled: readonly ConsumerRecord[]): void {
    const first = new Map<string, ConsumerRecord>();
    for (const r of unhandled) {
      const consumed = this.states.get(r)?.consumed;
      if (consumed !== null && consumed !== undefined && r.offset < consumed) continue;
      if (!first.has(keyOf(r))) first.set(keyOf(r), r);
    }
    for (const r of first.values()) {
      const state = this.states.get(r);
      if (state === undefined) continue;
      state.position = r.offset;
      state.positionEpoch = state.consumedEpoch;
      state.consumed = r.offset;
      this.fetcher.clearBuffered([r]);
    }
  }

  // ------------------------------------------------------------------ positions

  /** Drops the iterator's records of partitions the consumer no longer owns. */
  forget(tps: readonly TopicPartition[]): void {
    const keys = new Set(tps.map(keyOf));
    this.iteratorBuffer = this.iteratorBuffer.filter((r) => !keys.has(keyOf(r)));
  }

  /**
   * Forgets fetched records of `tps` not handed out yet (the iterator's included). With
   * `rewind` (pause) the position goes back to the first of them, so they are fetched again;
   * a seek or reset has just set a position of its own.
   */
  dropUnread(tps: readonly TopicPartition[], rewind: boolean): void {
    const keys = new Set(tps.map(keyOf));
    const kept: ConsumerRecord[] = [];
    const dropped: ConsumerRecord[] = [];
    for (const r of this.iteratorBuffer) (keys.has(keyOf(r)) ? dropped : kept).push(r);
    this.iteratorBuffer = kept;
    if (rewind) this.rewindTo(dropped);
    this.fetcher.clearBuffered(tps);
    this.host.wake();
  }
}

/** Records grouped per partition, in the order partitions first appear; offsets stay in order. */
function groupByPartition(records: readonly ConsumerRecord[]): ConsumerRecord[][] {
  const groups = new Map<string, ConsumerRecord[]>();
  for (const r of records) {
    const key = keyOf(r);
    let list = groups.get(key);
    if (list === undefined) groups.set(key, (list = []));
    list.push(r);
  }
  return [...groups.values()];
}
