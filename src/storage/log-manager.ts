/**
 * The log manager: every partition log under `log.dirs`. It opens them all at start (recovering
 * those of a folder without a clean-shutdown marker), creates and deletes logs, and runs the
 * background work on timers: retention, time-based flushes, recovery-point checkpoints and the
 * log cleaner. `close()` stops the timers, waits for running work, flushes every log, writes the
 * checkpoints and the clean-shutdown markers.
 *
 * Each log folder holds Kafka's files: `<topic>-<partition>/` per partition, and at the top
 * `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`,
 * `cleaner-offset-checkpoint` and, after a clean shutdown, `.kafka_cleanshutdown`.
 */
import type { Clock } from '../runtime/clock.js';
import type { FileSystem } from '../runtime/fs.js';
import {
  CheckpointError,
  CLEANER_OFFSET_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT_FILE,
  topicPartitionKey,
  writeOffsetCheckpoint,
} from './checkpoint-file.js';
import { CLEAN_SHUTDOWN_FILE, parsePartitionDir, partitionDirName, type TopicPartition } from './files.js';
import type { LogConfigValues } from './log-config.js';
import { openPartitionLog } from './log-loader.js';
import type { PartitionLog } from './log.js';
import type { LogSegment } from './segment.js';

/** Folders of deleted partitions get this suffix (after a unique tag) before they are removed. */
const DELETE_DIR_SUFFIX = '-delete';
/** How many logs are opened (and recovered) at once. */
const OPEN_CONCURRENCY = 8;

export interface LogManagerSchedule {
  /** log.retention.check.interval.ms */
  retentionCheckIntervalMs: number;
  /** log.flush.scheduler.interval.ms: how often flush.ms is checked. */
  flushCheckIntervalMs: number;
  /** log.flush.offset.checkpoint.interval.ms */
  checkpointIntervalMs: number;
  /** log.cleaner.backoff.ms: pause between cleaner passes. */
  cleanerBackoffMs: number;
  /** producer.id.expiration.check.interval.ms */
  producerExpirationCheckIntervalMs: number;
  /** producer.id.expiration.ms: idle idempotent producers are forgotten after it. */
  producerIdExpirationMs: number;
}

export const DEFAULT_SCHEDULE: LogManagerSchedule = {
  retentionCheckIntervalMs: 300_000,
  flushCheckIntervalMs: 1_000,
  checkpointIntervalMs: 60_000,
  cleanerBackoffMs: 15_000,
  producerExpirationCheckIntervalMs: 600_000,
  producerIdExpirationMs: 86_400_000,
};

/** Compacts logs whose cleanup.policy includes compact (implemented in cleaner.ts). */
export interface Compactor {
  /** Cleans what is cleanable; returns the new first dirty offset, or null when nothing was done. */
  clean(log: PartitionLog, firstDirtyOffset: number): Promise<number | null>;
  /** Finishes delayed file deletions (at close). */
  close(): Promise<void>;
}

export interface LogManagerOptions {
  fs: FileSystem;
  clock: Clock;
  logDirs: string[];
  /** The config of a topic's logs (broker defaults with the topic's overrides). */
  configFor: (topic: string) => LogConfigValues;
  log: (message: string) => void;
  schedule?: Partial<LogManagerSchedule>;
  compactor?: Compactor;
  /** Topics whose folders this manager leaves alone (the metadata log has its own owner). */
  excludeTopics?: readonly string[];
}

interface DirState {
  recoveryPoints: Map<string, number>;
  logStartOffsets: Map<string, number>;
  cleanerOffsets: Map<string, number>;
}

export class LogManager {
  private readonly o: LogManagerOptions;
  private readonly schedule: LogManagerSchedule;
  private readonly logs = new Map<string, { log: PartitionLog; logDir: string }>();
  private readonly cleanerOffsets = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Background work in progress, awaited by close(). */
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;
  private nextDir = 0;
  private deletions = 0;

  private constructor(o: LogManagerOptions) {
    this.o = o;
    this.schedule = { ...DEFAULT_SCHEDULE, ...o.schedule };
  }

  /** Opens every partition log under the log folders, recovering where the last shutdown was unclean. */
  static async open(o: LogManagerOptions): Promise<LogManager> {
    if (o.logDirs.length === 0) throw new Error('log.dirs names no folder');
    const manager = new LogManager(o);
    for (const dir of o.logDirs) await manager.openDir(dir);
    return manager;
  }

  private async openDir(logDir: string): Promise<void> {
    const { fs } = this.o;
    await fs.mkdir(logDir);
    const cleanShutdown = (await fs.stat(`${logDir}/${CLEAN_SHUTDOWN_FILE}`)) !== null;
    const state = await this.readDirState(logDir);
    const names = await fs.readdir(logDir);
    for (const n of names.filter((x) => x.endsWith(DELETE_DIR_SUFFIX))) await fs.rmdir(`${logDir}/${n}`);
    const excluded = new Set(this.o.excludeTopics ?? []);
    const partitions = names
      .map((n) => ({ n, tp: parsePartitionDir(n) }))
      .filter((x) => x.tp !== null && !excluded.has(x.tp.topic));
    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < partitions.length) {
        const { n, tp } = partitions[next++]!;
        const stat = await fs.stat(`${logDir}/${n}`);
        if (stat === null || !stat.isDirectory) continue;
        const key = topicPartitionKey(tp!.topic, tp!.partition);
        const log = await openPartitionLog({
          fs,
          clock: this.o.clock,
          dir: `${logDir}/${n}`,
          topicPartition: tp!,
          config: this.o.configFor(tp!.topic),
          recoveryPoint: state.recoveryPoints.get(key) ?? 0,
          logStartOffset: state.logStartOffsets.get(key) ?? 0,
          cleanShutdown,
          log: this.o.log,
        });
        this.logs.set(key, { log, logDir });
        const cleaned = state.cleanerOffsets.get(key);
        if (cleaned !== undefined) this.cleanerOffsets.set(key, cleaned);
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, partitions.length) }, worker));
    // From now on a crash is an unclean shutdown: the marker goes until the next clean close.
    await fs.unlink(`${logDir}/${CLEAN_SHUTDOWN_FILE}`);
    await fs.syncDir(logDir);
    this.o.log(
      `opened ${partitions.length} partition log(s) in ${logDir} in ${Date.now() - started} ms (${cleanShutdown ? 'after a clean shutdown' : partitions.length === 0 ? 'no logs yet' : 'after an unclean shutdown: recovered'})`,
    );
  }

  private async readDirState(logDir: string): Promise<DirState> {
    const read = async (file: string): Promise<Map<string, number>> => {
      const m = await readOffsetCheckpoint(this.o.fs, `${logDir}/${file}`);
      if (m instanceof CheckpointError) {
        // A damaged checkpoint only costs a longer recovery (recovery points) or is re-derived.
        this.o.log(`ignoring ${logDir}/${file}: ${m.message}`);
        return new Map();
      }
      return m;
    };
    return {
      recoveryPoints: await read(RECOVERY_POINT_CHECKPOINT_FILE),
      logStartOffsets: await read(LOG_START_OFFSET_CHECKPOINT_FILE),
      cleanerOffsets: await read(CLEANER_OFFSET_CHECKPOINT_FILE),
    };
  }

  // ------------------------------------------------------------------ logs

  getLog(tp: TopicPartition): PartitionLog | undefined {
    return this.logs.get(topicPartitionKey(tp.topic, tp.partition))?.log;
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()].map((e) => e.log);
  }

  /** The log of a partition, created empty when it does not exist. */
  async getOrCreateLog(tp: TopicPartition): Promise<PartitionLog> {
    const existing = this.getLog(tp);
    if (existing !== undefined) return existing;
    const logDir = this.o.logDirs[this.nextDir++ % this.o.logDirs.length]!;
    const log = await openPartitionLog({
      fs: this.o.fs,
      clock: this.o.clock,
      dir: `${logDir}/${partitionDirName(tp)}`,
      topicPartition: tp,
      config: this.o.configFor(tp.topic),
      recoveryPoint: 0,
      logStartOffset: 0,
      cleanShutdown: true,
      log: this.o.log,
    });
    await this.o.fs.syncDir(logDir);
    const raced = this.getLog(tp);
    if (raced !== undefined) {
      await log.close();
      return raced;
    }
    this.logs.set(topicPartitionKey(tp.topic, tp.partition), { log, logDir });
    return log;
  }

  /** Deletes a partition's log: renamed out of the way at once, removed from disk after. */
  async deleteLog(tp: TopicPartition): Promise<void> {
    const key = topicPartitionKey(tp.topic, tp.partition);
    const entry = this.logs.get(key);
    if (entry === undefined) return;
    this.logs.delete(key);
    this.cleanerOffsets.delete(key);
    await entry.log.close();
    const tag = `${this.o.clock.nowMs().toString(36)}${(this.deletions++).toString(36)}`;
    const doomed = `${entry.log.dir}.${tag}${DELETE_DIR_SUFFIX}`;
    await this.o.fs.rename(entry.log.dir, doomed);
    await this.o.fs.syncDir(entry.logDir);
    await this.o.fs.rmdir(doomed);
  }

  /** Applies a changed topic config to its open logs. */
  updateConfig(topic: string): void {
    const config = this.o.configFor(topic);
    for (const { log } of this.logs.values()) if (log.topicPartition.topic === topic) log.config = config;
  }

  // ------------------------------------------------------------------ background work

  /** Starts the timers of retention, flushes, checkpoints and the cleaner. */
  startBackgroundTasks(): void {
    const every = (ms: number, task: () => Promise<unknown>, what: string): void => {
      let busy = false;
      const timer = setInterval(() => {
        if (busy || this.closed) return;
        busy = true;
        const run = task()
          .catch((e: unknown) => this.o.log(`${what} failed: ${String(e)}`))
          .finally(() => {
            busy = false;
            this.running.delete(run);
          });
        this.running.add(run);
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.schedule.retentionCheckIntervalMs, () => this.runRetention(), 'retention');
    every(this.schedule.flushCheckIntervalMs, () => this.flushDueLogs(), 'scheduled flush');
    every(this.schedule.checkpointIntervalMs, () => this.writeCheckpoints(), 'checkpoint');
    every(
      this.schedule.producerExpirationCheckIntervalMs,
      () => Promise.resolve(this.removeExpiredProducers()),
      'producer expiry',
    );
    if (this.o.compactor !== undefined) {
      every(this.schedule.cleanerBackoffMs, () => this.runCleaner(), 'log cleaner');
    }
  }

  /** Forgets, in every log, the idempotent producers idle longer than producer.id.expiration.ms. */
  removeExpiredProducers(): number {
    let removed = 0;
    for (const { log } of this.logs.values()) {
      removed += log.removeExpiredProducers(this.schedule.producerIdExpirationMs);
    }
    return removed;
  }

  /**
   * Retention for every log whose cleanup.policy includes delete: removes the oldest segments
   * older than retention.ms (by their largest timestamp) or beyond retention.bytes, and for every
   * log the segments wholly below the log start offset. Never the active segment.
   */
  async runRetention(): Promise<number> {
    let deleted = 0;
    for (const log of this.allLogs()) deleted += await this.applyRetention(log);
    if (deleted > 0) await this.writeCheckpoints();
    return deleted;
  }

  async applyRetention(log: PartitionLog): Promise<number> {
    const nowMs = this.o.clock.nowMs();
    const c = log.config;
    const byPolicy = c.cleanupPolicy.delete;
    const before = log.logStartOffset;
    const deleted = await log.deleteOldSegments((segment: LogSegment, sizeAfterBytes: number) => {
      const next = log.segments[log.segments.indexOf(segment) + 1];
      if (next !== undefined && next.baseOffset <= log.logStartOffset) return true;
      if (!byPolicy) return false;
      if (c.retentionMs >= 0 && segment.maxTimestampMs >= 0 && nowMs - segment.maxTimestampMs > c.retentionMs)
        return true;
      return c.retentionBytes >= 0 && sizeAfterBytes >= c.retentionBytes;
    });
    if (deleted > 0) {
      this.o.log(
        `${log.name}: retention deleted ${deleted} segment(s); log start offset ${before} → ${log.logStartOffset}`,
      );
    }
    return deleted;
  }

  /** Flushes the logs whose flush.ms has passed. */
  async flushDueLogs(): Promise<void> {
    for (const log of this.allLogs()) await log.flushIfDue();
  }

  /** Compacts the logs whose policy includes compact, one after the other. */
  async runCleaner(): Promise<void> {
    const compactor = this.o.compactor;
    if (compactor === undefined) return;
    for (const [key, { log }] of this.logs) {
      if (!log.config.cleanupPolicy.compact || this.closed) continue;
      const firstDirty = Math.max(this.cleanerOffsets.get(key) ?? 0, log.logStartOffset);
      const cleanedTo = await compactor.clean(log, firstDirty);
      if (cleanedTo !== null) this.cleanerOffsets.set(key, cleanedTo);
    }
  }

  /** Writes each folder's recovery points, log start offsets and cleaner offsets. */
  async writeCheckpoints(): Promise<void> {
    for (const logDir of this.o.logDirs) {
      const recovery = new Map<string, number>();
      const starts = new Map<string, number>();
      const cleaner = new Map<string, number>();
      for (const [key, e] of this.logs) {
        if (e.logDir !== logDir) continue;
        recovery.set(key, e.log.recoveryPoint);
        starts.set(key, e.log.logStartOffset);
        const c = this.cleanerOffsets.get(key);
        if (c !== undefined) cleaner.set(key, c);
      }
      await writeOffsetCheckpoint(this.o.fs, `${logDir}/${RECOVERY_POINT_CHECKPOINT_FILE}`, recovery);
      await writeOffsetCheckpoint(this.o.fs, `${logDir}/${LOG_START_OFFSET_CHECKPOINT_FILE}`, starts);
      await writeOffsetCheckpoint(this.o.fs, `${logDir}/${CLEANER_OFFSET_CHECKPOINT_FILE}`, cleaner);
    }
  }

  // ------------------------------------------------------------------ close

  /** Stops background work, flushes and closes every log, writes checkpoints and clean-shutdown markers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([...this.running]);
    let failed = false;
    for (const { log } of this.logs.values()) {
      try {
        await log.close();
      } catch (e) {
        failed = true;
        this.o.log(`${log.name}: close failed: ${String(e)}`);
      }
    }
    await this.o.compactor?.close();
    await this.writeCheckpoints();
    // Only a shutdown that flushed everything may say so: otherwise the next start recovers.
    if (!failed) {
      for (const logDir of this.o.logDirs) {
        await this.o.fs.writeFileAtomic(`${logDir}/${CLEAN_SHUTDOWN_FILE}`, '');
      }
    }
  }
}
