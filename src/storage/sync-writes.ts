/**
 * Whether an append is written synchronously on the event loop or through libuv's thread pool.
 *
 * A synchronous write holds the event loop for the copy into the page cache: about 0.3 ns per
 * byte (5 µs for 16 KiB) on pages the kernel has at hand, ten times that where every new page
 * costs a fault (a virtual machine whose memory is not backed yet) or the kernel throttles
 * writers. A write through the thread pool frees the loop (the copy runs on another core) but
 * costs tens of microseconds of latency, twice the copy itself at 16 KiB. So a write is made
 * synchronously while its estimated cost stays within SYNC_WRITE_BUDGET_NS: one producer
 * waiting on each append gets the low latency, and a busy broker writing into cold pages keeps
 * its loop for the network.
 *
 * The estimate is learned from the synchronous writes themselves: nanoseconds per byte, the
 * median of the last RECENT_SAMPLES writes of at least MEASURED_MIN_BYTES (where the per-byte
 * cost dominates the system call's). A median, because single writes stall now and then for a
 * millisecond or more (a journal commit): one must not send the next hundreds of writes to the
 * thread pool, a run of slow ones must. While the estimate is over budget, every
 * PROBE_EVERY-th write that would go to the thread pool is made synchronously anyway, so the
 * estimate follows the machine when writes get cheap again. One estimate per process: the page
 * cache is shared by every log.
 */

/** Longest a synchronous write should hold the event loop, by the estimate. */
export const SYNC_WRITE_BUDGET_NS = 20_000;
/** Largest write ever made synchronously, whatever the estimate says. */
export const SYNC_WRITE_MAX_BYTES = 64 * 1024;
/** Smaller writes are dominated by the system call's fixed cost: always synchronous, not measured. */
const MEASURED_MIN_BYTES = 4096;
/** While over budget, one write in this many is made synchronously to measure again. */
const PROBE_EVERY = 32;
/** Measurements the estimate is the median of. */
const RECENT_SAMPLES = 15;
/** The estimate before any measurement: a warm page cache. */
const INITIAL_NS_PER_BYTE = 0.3;

export interface SyncWritePolicy {
  /** Whether a write of `bytes` is made synchronously now (asked once per write). */
  allows(bytes: number): boolean;
  /** A synchronous write of `bytes` took `elapsedNs`. */
  observe(bytes: number, elapsedNs: number): void;
}

/** The adaptive policy described above. */
export class SyncWriteBudget implements SyncWritePolicy {
  private nsPerByte = INITIAL_NS_PER_BYTE;
  private overBudget = 0;
  /** The last measurements (ns per byte), a ring; `measured` of them are filled. */
  private readonly recent = new Float64Array(RECENT_SAMPLES);
  private readonly sorted = new Float64Array(RECENT_SAMPLES);
  private measured = 0;
  /** Writes allowed and refused so far (for benchmarks and diagnostics). */
  allowed = 0;
  refused = 0;

  allows(bytes: number): boolean {
    const yes = this.decide(bytes);
    if (yes) this.allowed++;
    else this.refused++;
    return yes;
  }

  private decide(bytes: number): boolean {
    if (bytes > SYNC_WRITE_MAX_BYTES) return false;
    if (bytes < MEASURED_MIN_BYTES || bytes * this.nsPerByte <= SYNC_WRITE_BUDGET_NS) return true;
    if (++this.overBudget < PROBE_EVERY) return false;
    this.overBudget = 0;
    return true;
  }

  observe(bytes: number, elapsedNs: number): void {
    if (bytes < MEASURED_MIN_BYTES) return;
    this.recent[this.measured % RECENT_SAMPLES] = elapsedNs / bytes;
    this.measured++;
    const n = Math.min(this.measured, RECENT_SAMPLES);
    const sorted = this.sorted.subarray(0, n);
    sorted.set(this.recent.subarray(0, n));
    sorted.sort();
    this.nsPerByte = sorted[n >> 1]!;
  }

  /** The current estimate of a synchronous write's cost, in nanoseconds per byte. */
  get estimateNsPerByte(): number {
    return this.nsPerByte;
  }
}

/** The process-wide policy every log uses unless given another. */
export const syncWriteBudget = new SyncWriteBudget();

/** Fixed policies, for tests that must know which path a write takes. */
export const alwaysSyncWrites: SyncWritePolicy = {
  allows: (bytes) => bytes <= SYNC_WRITE_MAX_BYTES,
  observe: () => undefined,
};
export const neverSyncWrites: SyncWritePolicy = { allows: () => false, observe: () => undefined };
