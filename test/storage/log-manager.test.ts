/**
 * The log manager against real folders: opening what is on disk, retention by time, by size and
 * by log start offset, checkpoints, the clean-shutdown marker, deleting a partition.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { encodeRecordBatch, newRecordBatch } from '../../src/protocol/records/batch.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { nodeFileSystem } from '../../src/runtime/fs.js';
import {
  defaultLogConfig,
  parseLogConfig,
  isConfigError,
  type LogConfig,
} from '../../src/storage/log-config.js';
import { LogCleaner } from '../../src/storage/cleaner.js';
import { LogManager } from '../../src/storage/log-manager.js';

function batch(timestampMs: number, valueBytes = 200): Buffer {
  return encodeRecordBatch(
    newRecordBatch([{ key: Buffer.from('k'), value: Buffer.alloc(valueBytes, 7), timestamp: timestampMs }]),
    { compression: 0 },
  );
}

function config(overrides: Record<string, string>): LogConfig {
  const c = parseLogConfig(overrides, defaultLogConfig());
  if (isConfigError(c)) throw new Error(c.message);
  return c;
}

async function withManager(
  dir: string,
  clock: ManualClock,
  cfg: LogConfig,
  run: (m: LogManager) => Promise<void> | void,
): Promise<string[]> {
  const lines: string[] = [];
  const m = await LogManager.open({
    fs: nodeFileSystem,
    clock,
    logDirs: [dir],
    configFor: () => cfg,
    log: (l) => lines.push(l),
  });
  try {
    await run(m);
  } finally {
    await m.close();
  }
  return lines;
}

void describe('LogManager', () => {
  void test('reopens every partition after a clean shutdown, with checkpoints and the marker', async () => {
    const dir = mkdtempSync(`${tmpdir()}/samsa-lm-`);
    try {
      const clock = new ManualClock();
      const cfg = config({});
      await withManager(dir, clock, cfg, async (m) => {
        for (let p = 0; p < 3; p++) {
          const log = await m.getOrCreateLog({ topic: 'orders', partition: p });
          for (let i = 0; i <= p; i++) await log.appendAsLeader(batch(clock.nowMs()), 0);
        }
      });
      assert.ok(existsSync(`${dir}/.kafka_cleanshutdown`));
      const recovery = readFileSync(`${dir}/recovery-point-offset-checkpoint`, 'utf8').split('\n');
      assert.equal(recovery[0], '0');
      assert.equal(recovery[1], '3');
      assert.ok(recovery.includes('orders 2 3'));

      const lines = await withManager(dir, clock, cfg, (m) => {
        assert.ok(!existsSync(`${dir}/.kafka_cleanshutdown`), 'the marker goes while the manager runs');
        for (let p = 0; p < 3; p++)
          assert.equal(m.getLog({ topic: 'orders', partition: p })?.logEndOffset, p + 1);
      });
      assert.ok(lines.some((l) => /opened 3 partition log\(s\).*after a clean shutdown/.test(l)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('recovers after an unclean shutdown (no marker)', async () => {
    const dir = mkdtempSync(`${tmpdir()}/samsa-lm-`);
    try {
      const clock = new ManualClock();
      const cfg = config({});
      await withManager(dir, clock, cfg, async (m) => {
        const log = await m.getOrCreateLog({ topic: 't', partition: 0 });
        for (let i = 0; i < 5; i++) await log.appendAsLeader(batch(clock.nowMs()), 0);
      });
      rmSync(`${dir}/.kafka_cleanshutdown`);
      const lines = await withManager(dir, clock, cfg, (m) => {
        assert.equal(m.getLog({ topic: 't', partition: 0 })?.logEndOffset, 5);
      });
      assert.ok(lines.some((l) => /after an unclean shutdown: recovered/.test(l)));
      assert.ok(lines.some((l) => /recovered after an unclean shutdown/.test(l)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('retention by time deletes old segments, never the active one', async () => {
    const dir = mkdtempSync(`${tmpdir()}/samsa-lm-`);
    try {
      const clock = new ManualClock();
      const cfg = config({ 'segment.bytes': '600', 'retention.ms': '60000' });
      await withManager(dir, clock, cfg, async (m) => {
        const log = await m.getOrCreateLog({ topic: 't', partition: 0 });
        for (let i = 0; i < 10; i++) {
          await log.appendAsLeader(batch(clock.nowMs()), 0);
          clock.advance(10_000);
        }
        const segmentsBefore = log.segments.length;
        assert.ok(segmentsBefore >= 4);
        // Now the first records are 100 s old, the last 10 s: segments whose newest record is older than 60 s go.
        const deleted = await m.runRetention();
        assert.ok(deleted > 0);
        assert.ok(log.segments.length < segmentsBefore);
        assert.ok(log.logStartOffset > 0);
        assert.equal(log.logStartOffset, log.segments[0]!.baseOffset);
        for (const s of log.segments.slice(0, -1)) assert.ok(clock.nowMs() - s.maxTimestampMs <= 60_000);
        // Far in the future everything is expired, yet the active segment stays.
        clock.advance(10_000_000);
        await m.runRetention();
        assert.equal(log.segments.length, 1);
        assert.equal(log.logEndOffset, 10);
        const start = readFileSync(`${dir}/log-start-offset-checkpoint`, 'utf8');
        assert.match(start, new RegExp(`t 0 ${log.logStartOffset}`));
        await assert.rejects(log.read(0, 1000), /outside/);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('retention by size keeps the newest segments within retention.bytes', async () => {
    const dir = mkdtempSync(`${tmpdir()}/samsa-lm-`);
    try {
      const clock = new ManualClock();
      const cfg = config({ 'segment.bytes': '600', 'retention.bytes': '1500' });
      await withManager(dir, clock, cfg, async (m) => {
        const log = await m.getOrCreateLog({ topic: 't', partition: 0 });
        for (let i = 0; i < 20; i++) await log.appendAsLeader(batch(clock.nowMs()), 0);
        assert.ok(log.sizeBytes > 1500);
        const before = log.segments.length;
        assert.ok((await m.runRetention()) > 0);
        assert.ok(log.segments.length < before);
        // Deleting the oldest remaining segment would take the log below retention.bytes.
        assert.ok(log.sizeBytes - log.segments[0]!.sizeBytes < 1500);
        assert.ok(log.sizeBytes >= 1500 || log.segments.length === 1);
        assert.equal(log.logEndOffset, 20);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('compacted topics are not deleted by time; segments below the log start always are', async () => {
    const dir = mkdtempSync(`${tmpdir()}/samsa-lm-`);
    try {
      const clock = new ManualClock();
      const cfg = config({ 'segment.bytes': '600', 'retention.ms': '1000', 'cleanup.policy': 'compact' });
      await withManager(dir, clock, cfg, async (m) => {
        const log = await m.getOrCreateLog({ topic: 't', partition: 0 });
        for (let i = 0; i < 10; i++) await log.appendAsLeader(batch(clock.nowMs()), 0);
        clock.advance(1_000_000);
        const before = log.segments.length;
        assert.equal(await m.runRetention(), 0);
        await log.deleteRecordsBefore(6);
        await m.runRetention();
        assert.ok(log.segments.length < before);
        assert.ok(log.segments[0]!.baseOffset <= 6);
        assert.equal(log.logStartOffset, 6);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('deleteLog removes the partition folder and the log', async () => {
    const dir = mkdtempSync(`${tmpdir()}/samsa-lm-`);
    try {
      const clock = new ManualClock();
      await withManager(dir, clock, config({}), async (m) => {
        const log = await m.getOrCreateLog({ topic: 'gone', partition: 0 });
        await log.appendAsLeader(batch(clock.nowMs()), 0);
        await m.deleteLog({ topic: 'gone', partition: 0 });
        assert.equal(m.getLog({ topic: 'gone', partition: 0 }), undefined);
        assert.ok(!existsSync(`${dir}/gone-0`));
      });
      await withManager(dir, clock, config({}), (m) => {
        assert.equal(m.allLogs().length, 0);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('the cleaner compacts logs of compacted topics and its progress is checkpointed', async () => {
    const dir = mkdtempSync(`${tmpdir()}/samsa-lm-`);
    try {
      const clock = new ManualClock();
      const cfg = config({
        'segment.bytes': '2000',
        'cleanup.policy': 'compact',
        'min.cleanable.dirty.ratio': '0.01',
      });
      const cleaner = new LogCleaner({ clock });
      const m = await LogManager.open({
        fs: nodeFileSystem,
        clock,
        logDirs: [dir],
        configFor: () => cfg,
        log: () => undefined,
        compactor: {
          clean: async (log, first) => (await cleaner.clean(log, first))?.cleanedUpTo ?? null,
          close: () => cleaner.flushPendingDeletes(),
        },
      });
      try {
        const log = await m.getOrCreateLog({ topic: 'c', partition: 0 });
        for (let i = 0; i < 60; i++) {
          const b = encodeRecordBatch(
            newRecordBatch([
              { key: Buffer.from(`k${i % 3}`), value: Buffer.alloc(100, i), timestamp: clock.nowMs() },
            ]),
            { compression: 0 },
          );
          await log.appendAsLeader(b, 0);
        }
        const before = log.sizeBytes;
        await m.runCleaner();
        assert.ok(log.sizeBytes < before, `compaction shrank the log (${before} → ${log.sizeBytes})`);
        await m.writeCheckpoints();
        const checkpoint = readFileSync(`${dir}/cleaner-offset-checkpoint`, 'utf8');
        assert.match(checkpoint, /^0\n1\nc 0 \d+\n$/);
        assert.equal(log.logEndOffset, 60);
      } finally {
        await m.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
