/**
 * Disk faults under the partition log, injected through the FileSystem seam (FaultyFileSystem):
 * torn writes, ENOSPC and EIO during appends, a failed rollback, and failed fsyncs. Each must
 * reach the caller as a StorageError (KAFKA_STORAGE_ERROR naming the cause), fail the appends
 * queued behind it (appends written through the thread pool; see the log's header), leave a log whose reads return only whole valid batches and whose appends
 * continue at the right offsets, and reopen — clean or unclean — with every acknowledged append.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';

import { ErrorCode } from '../../src/protocol/error-codes.js';
import { FaultyFileSystem, type Fault } from '../../src/runtime/faulty-fs.js';
import { nodeFileSystem } from '../../src/runtime/fs.js';
import { StorageError } from '../../src/storage/errors.js';
import type { LogConfigValues } from '../../src/storage/log-config.js';
import { alwaysSyncWrites, neverSyncWrites } from '../../src/storage/sync-writes.js';
import type { PartitionLog } from '../../src/storage/log.js';
import {
  asyncWritesOnly,
  copy,
  logConfig,
  logFiles,
  makeBatch,
  openLog,
  readAll,
  rejectsStorage,
  splitBatches,
  TempRoot,
  type BatchSpec,
} from './support/log-fixtures.js';

const tmp = new TempRoot('samsa-faults-test-');
after(() => tmp.remove());

let serial = 0;
function nextBatch(spec: BatchSpec = {}): Buffer {
  return makeBatch({ records: 2, key: `f${String(serial++).padStart(6, '0')}`, ...spec });
}
const BATCH_BYTES = nextBatch().length;

interface Acked {
  firstOffset: number;
  lastOffset: number;
  /** The appended bytes as patched by the log. */
  bytes: Buffer;
}

async function append(log: PartitionLog, records: Buffer, epoch = 0): Promise<Acked> {
  const info = await log.appendAsLeader(records, epoch);
  return { firstOffset: info.firstOffset, lastOffset: info.lastOffset, bytes: copy(records) };
}

/** The log holds exactly the acknowledged appends, in offset order, byte for byte, from offset 0. */
async function assertLogIsAcked(log: PartitionLog, acked: Acked[]): Promise<void> {
  const sorted = [...acked].sort((a, b) => a.firstOffset - b.firstOffset);
  let next = 0;
  for (const a of sorted) {
    assert.equal(a.firstOffset, next, `acknowledged appends tile the log: a gap or overlap at ${next}`);
    next = a.lastOffset + 1;
  }
  assert.equal(log.logEndOffset, next, 'log end offset');
  const all = await readAll(log); // every batch whole and CRC-valid
  const expected = Buffer.concat(sorted.map((a) => a.bytes));
  assert.ok(
    Buffer.concat(all.map((b) => b.bytes)).equals(expected),
    'log content differs from the acknowledged appends',
  );
}

/** Waits until a rollback after a failed write (if any) is over. */
async function rolledBack(log: PartitionLog): Promise<void> {
  await log.runExclusive(() => Promise.resolve());
}

/** Bytes of the segment files on disk. */
function bytesOnDisk(dir: string): number {
  return logFiles(dir).reduce((n, f) => n + nodeFs.statSync(`${dir}/${f}`).size, 0);
}

async function reopenAndCheck(
  dir: string,
  config: LogConfigValues,
  acked: Acked[],
  cleanShutdown: boolean,
): Promise<void> {
  const { log } = await openLog({ dir, config, cleanShutdown, recoveryPoint: 0 });
  await assertLogIsAcked(log, acked);
  await log.close();
}

const writeFaults: [string, Fault, string][] = [
  ['a torn write (inside the first batch header)', { kind: 'tornWrite', bytes: 30 }, 'EIO'],
  ['a torn write (first batch whole, second torn)', { kind: 'tornWrite', bytes: BATCH_BYTES + 40 }, 'EIO'],
  ['a short write then ENOSPC', { kind: 'tornWrite', bytes: 50, code: 'ENOSPC' }, 'ENOSPC'],
  ['ENOSPC', { kind: 'error', code: 'ENOSPC' }, 'ENOSPC'],
  ['EIO', { kind: 'error', code: 'EIO' }, 'EIO'],
];

void describe('a write fault during an append', () => {
  // Written synchronously (appends up to the log's bound, with nothing in flight), the failed
  // append is alone: appends made after it wait for the rollback and then succeed. Written through
  // the thread pool, the appends made meanwhile queue behind the failed write and fail with it.
  for (const mode of ['sync', 'async'] as const) {
    for (const [what, fault, code] of writeFaults) {
      void test(`${what}, written ${mode === 'sync' ? 'synchronously' : 'asynchronously'}: the append${mode === 'sync' ? '' : ' and those queued behind it'} fail; the log stays consistent and reopens`, async () => {
        const dir = tmp.dir();
        const fs = new FaultyFileSystem({ inner: mode === 'sync' ? nodeFileSystem : asyncWritesOnly() });
        const config = logConfig({ segmentBytes: 8 * BATCH_BYTES, indexIntervalBytes: BATCH_BYTES });
        const syncWrites = mode === 'sync' ? alwaysSyncWrites : neverSyncWrites;
        const { log, lines } = await openLog({ dir, fs, config, syncWrites });
        const acked: Acked[] = [];
        for (let i = 0; i < 5; i++) acked.push(await append(log, nextBatch()));
        const sizeBefore = bytesOnDisk(dir);

        fs.inject({ op: 'writev', path: '.log', fault });
        // The first append is written alone; the next ones come while it is written or rolled
        // back. One of them brings a new epoch.
        const duringFailure: { read: Promise<Buffer> | null } = { read: null };
        const later = [nextBatch(), nextBatch({ records: 5 })];
        const doomed = [
          log.appendAsLeader(Buffer.concat([nextBatch(), nextBatch()]), 0).catch((e: unknown) => {
            // A read made while the log rolls back sees only whole, acknowledged batches.
            duringFailure.read = log.read(0, 1 << 20).then((r) => r.records);
            throw e;
          }),
          log.appendAsLeader(later[0]!, 7),
          log.appendAsLeader(later[1]!, 7),
        ];
        const settled = await Promise.allSettled(doomed);
        for (const [i, s] of settled.entries()) {
          if (mode === 'sync' && i > 0) {
            if (s.status !== 'fulfilled')
              assert.fail(`append ${i}, made after the failure: ${String(s.reason)}`);
            acked.push({
              firstOffset: s.value.firstOffset,
              lastOffset: s.value.lastOffset,
              bytes: copy(later[i - 1]!),
            });
            continue;
          }
          if (s.status !== 'rejected') assert.fail(`append ${i} was acknowledged`);
          const e: unknown = s.reason;
          assert.ok(e instanceof StorageError, `append ${i}: a StorageError, got ${String(e)}`);
          assert.equal(e.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
          assert.match(e.message, new RegExp(code), 'the message names the cause');
          assert.equal((e.cause as NodeJS.ErrnoException | undefined)?.code, code);
        }
        assert.ok(duringFailure.read !== null);
        const during = splitBatches(await duringFailure.read);
        assert.ok(
          Buffer.concat(during.map((b) => b.bytes)).equals(
            Buffer.concat(acked.slice(0, 5).map((a) => a.bytes)),
          ),
          'a read during the rollback returns the acknowledged batches only',
        );
        assert.ok(
          lines.some((l) => l.includes(code)),
          JSON.stringify(lines),
        );

        // The fault was transient: appends continue at the offset after the last acknowledged one.
        const next = await append(log, nextBatch(), mode === 'sync' ? 7 : 0);
        assert.equal(next.firstOffset, mode === 'sync' ? 17 : 10);
        acked.push(next);
        const epoch = mode === 'sync' ? 8 : 1;
        for (let i = 0; i < 6; i++) acked.push(await append(log, nextBatch(), epoch)); // rolls a segment
        await assertLogIsAcked(log, acked);
        assert.deepEqual(
          log.epochCache.entries(),
          mode === 'sync'
            ? [
                { epoch: 0, startOffset: 0 },
                { epoch: 7, startOffset: 10 },
                { epoch: 8, startOffset: 19 },
              ]
            : [
                { epoch: 0, startOffset: 0 },
                { epoch: 1, startOffset: 12 },
              ],
        );
        const batchesAfter =
          mode === 'sync' ? 7 * BATCH_BYTES + later[0]!.length + later[1]!.length : 7 * BATCH_BYTES;
        assert.equal(
          bytesOnDisk(dir),
          sizeBefore + batchesAfter,
          'no torn or failed bytes left in the files',
        );

        await log.close();
        await reopenAndCheck(dir, config, acked, true);
        await reopenAndCheck(dir, config, acked, false);
      });
    }
  }

  void test('a fault in a segment the append rolled: the new segment is rolled back too', async () => {
    const dir = tmp.dir();
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const config = logConfig({ segmentBytes: 2 * BATCH_BYTES });
    const { log } = await openLog({ dir, fs, config });
    const acked = [await append(log, nextBatch()), await append(log, nextBatch())];
    fs.inject({ op: 'writev', path: '.log', fault: { kind: 'tornWrite', bytes: 20 } });
    await rejectsStorage(log.appendAsLeader(nextBatch(), 0), ErrorCode.KAFKA_STORAGE_ERROR, /EIO/);
    const next = await append(log, nextBatch());
    assert.equal(next.firstOffset, 4);
    acked.push(next);
    await assertLogIsAcked(log, acked);
    await log.close();
    await reopenAndCheck(dir, config, acked, false);
  });

  void test('a disk that stays full: every append fails, and the log works again once space is back', async () => {
    const dir = tmp.dir();
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const config = logConfig();
    const { log } = await openLog({ dir, fs, config });
    const acked = [await append(log, nextBatch())];
    const rule = fs.inject({
      op: 'writev',
      path: '.log',
      persistent: true,
      fault: { kind: 'tornWrite', bytes: 10, code: 'ENOSPC' },
    });
    for (let i = 0; i < 4; i++) {
      await rejectsStorage(log.appendAsLeader(nextBatch(), 0), ErrorCode.KAFKA_STORAGE_ERROR, /ENOSPC/);
      await rolledBack(log);
      assert.equal(log.logEndOffset, 2);
    }
    await assertLogIsAcked(log, acked);
    rule.clear();
    acked.push(await append(log, nextBatch()));
    assert.equal(acked[1]!.firstOffset, 2);
    await assertLogIsAcked(log, acked);
    await log.close();
    await reopenAndCheck(dir, config, acked, false);
  });

  void test('a fault in the middle of a stream of concurrent appends: what was acknowledged is exactly the log', async () => {
    for (let nth = 1; nth <= 6; nth++) {
      const dir = tmp.dir();
      const fs = new FaultyFileSystem({ inner: nodeFileSystem });
      const config = logConfig({ segmentBytes: 5 * BATCH_BYTES, indexIntervalBytes: 0 });
      const { log } = await openLog({ dir, fs, config });
      fs.inject({
        op: 'writev',
        path: '.log',
        nth,
        fault: nth % 2 === 0 ? { kind: 'tornWrite' } : { kind: 'error', code: 'EIO' },
      });
      const acked: Acked[] = [];
      const pending: Promise<void>[] = [];
      let failed = 0;
      for (let i = 0; i < 40; i++) {
        const b = nextBatch({ records: 1 + (i % 3) });
        pending.push(
          log.appendAsLeader(b, 0).then(
            (info) =>
              void acked.push({ firstOffset: info.firstOffset, lastOffset: info.lastOffset, bytes: copy(b) }),
            (e: unknown) => {
              assert.ok(
                e instanceof StorageError && e.errorCode === ErrorCode.KAFKA_STORAGE_ERROR,
                String(e),
              );
              failed++;
            },
          ),
        );
        if (i % 4 === 3) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(pending);
      await rolledBack(log);
      assert.ok(failed > 0, `nth ${nth}: the fault fired`);
      assert.ok(acked.length > 0, `nth ${nth}: appends after the fault succeed`);
      await assertLogIsAcked(log, acked);
      await log.close();
      await reopenAndCheck(dir, config, acked, false);
    }
  });

  void test('when a failed append reaches its caller, the log end offset no longer counts it', async () => {
    // The rollback of the files is asynchronous (a slow truncate here). Were logEndOffset and
    // read() to count the failed offsets until it ends, a leader would report (and a high
    // watermark could reach) offsets that never get written.
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const { log } = await openLog({ dir: tmp.dir(), fs });
    await append(log, nextBatch());
    fs.inject({ op: 'truncate', path: '.log', fault: { kind: 'delay', ms: 30 } });
    fs.inject({ op: 'writev', path: '.log', fault: { kind: 'error', code: 'EIO' } });
    await rejectsStorage(log.appendAsLeader(nextBatch({ records: 5 }), 0), ErrorCode.KAFKA_STORAGE_ERROR);
    const leo = log.logEndOffset;
    const r = await log.read(2, 1000).then(
      (x) => x.logEndOffset,
      () => 'out of range',
    );
    await rolledBack(log);
    assert.equal(leo, 2, 'logEndOffset right after the rejection');
    assert.ok(r === 'out of range' || r === 2, `a read at the failed offsets said the log ends at ${r}`);
    await log.close();
  });

  void test('a failed rollback takes the log offline; reopening recovers every acknowledged append', async () => {
    const dir = tmp.dir();
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const config = logConfig();
    const { log, lines } = await openLog({ dir, fs, config });
    const acked: Acked[] = [];
    for (let i = 0; i < 3; i++) acked.push(await append(log, nextBatch()));
    fs.inject({ op: 'writev', path: '.log', fault: { kind: 'tornWrite', bytes: BATCH_BYTES / 2 } });
    fs.inject({ op: 'truncate', path: '.log', persistent: true, fault: { kind: 'error', code: 'EIO' } });
    await rejectsStorage(log.appendAsLeader(nextBatch(), 0), ErrorCode.KAFKA_STORAGE_ERROR, /EIO/);
    // Calls after the failed rollback fail with KAFKA_STORAGE_ERROR.
    await rejectsStorage(log.appendAsLeader(nextBatch(), 0), ErrorCode.KAFKA_STORAGE_ERROR, /offline/);
    await rejectsStorage(log.read(0, 100), ErrorCode.KAFKA_STORAGE_ERROR, /offline/);
    assert.ok(lines.some((l) => /offline/.test(l)));
    fs.clearFaults();
    await log.close();
    // The torn half batch is still in the file; recovery cuts it.
    const { log: recovered, lines: rlines } = await openLog({
      dir,
      config,
      cleanShutdown: false,
      recoveryPoint: 0,
    });
    assert.ok(
      rlines.some((l) => /truncat/i.test(l)),
      JSON.stringify(rlines),
    );
    await assertLogIsAcked(recovered, acked);
    acked.push(await append(recovered, nextBatch()));
    await assertLogIsAcked(recovered, acked);
    await recovered.close();
    await reopenAndCheck(dir, config, acked, true);
  });
});

void describe('a failing fsync', () => {
  void test('in fsync mode (flush.messages=1) fails that append; acknowledged appends survive', async () => {
    const dir = tmp.dir();
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const config = logConfig({ flushMessages: 1 });
    const { log } = await openLog({ dir, fs, config });
    const acked = [await append(log, nextBatch()), await append(log, nextBatch())];
    assert.equal(log.recoveryPoint, 4);
    fs.inject({ op: 'sync', path: '.log', fault: { kind: 'error', code: 'EIO' } });
    await assert.rejects(log.appendAsLeader(nextBatch(), 0), /EIO/);
    assert.equal(log.recoveryPoint, 4, 'the recovery point does not move past an fsync that failed');
    // Whatever the log does next (go offline, or carry on), reads return whole valid batches and
    // every acknowledged append is there after a reopen.
    const r = await log.read(0, 1 << 20).catch((e: unknown) => {
      assert.ok(e instanceof StorageError && e.errorCode === ErrorCode.KAFKA_STORAGE_ERROR, String(e));
      return null;
    });
    if (r !== null) {
      const got = splitBatches(r.records);
      assert.ok(
        Buffer.concat(got.slice(0, 2).map((b) => b.bytes)).equals(Buffer.concat(acked.map((a) => a.bytes))),
      );
    }
    fs.clearFaults();
    await log.close().catch(() => undefined);
    const { log: reopened } = await openLog({ dir, config, cleanShutdown: false, recoveryPoint: 0 });
    const all = await readAll(reopened);
    assert.ok(all.length >= 2);
    assert.ok(
      Buffer.concat(all.slice(0, 2).map((b) => b.bytes)).equals(Buffer.concat(acked.map((a) => a.bytes))),
    );
    await reopened.close();
  });

  void test('in fsync mode reaches the caller as a StorageError KAFKA_STORAGE_ERROR naming the cause', async () => {
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const { log } = await openLog({ dir: tmp.dir(), fs, config: logConfig({ flushMessages: 1 }) });
    await append(log, nextBatch());
    fs.inject({ op: 'sync', path: '.log', fault: { kind: 'error', code: 'EIO' } });
    await rejectsStorage(log.appendAsLeader(nextBatch(), 0), ErrorCode.KAFKA_STORAGE_ERROR, /EIO/);
    await log.close().catch(() => undefined);
  });

  void test('of the leader-epoch checkpoint for a new epoch reaches the caller as a StorageError KAFKA_STORAGE_ERROR', async () => {
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const { log } = await openLog({ dir: tmp.dir(), fs });
    await append(log, nextBatch(), 1);
    fs.inject({ op: 'writeFileAtomic', fault: { kind: 'error', code: 'ENOSPC' } });
    await rejectsStorage(log.appendAsLeader(nextBatch(), 2), ErrorCode.KAFKA_STORAGE_ERROR, /ENOSPC/);
    await log.close().catch(() => undefined);
  });

  void test('in fsync mode: an append whose fsync failed is not left readable while later appends are acknowledged', async () => {
    // Kafka takes the log directory offline on an IOException during flush. A log that carried
    // on would tell the producer "failed" for data that stays in the log (a retry duplicates it).
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const { log } = await openLog({ dir: tmp.dir(), fs, config: logConfig({ flushMessages: 1 }) });
    const acked = [await append(log, nextBatch())];
    fs.inject({ op: 'sync', path: '.log', fault: { kind: 'error', code: 'EIO' } });
    await assert.rejects(log.appendAsLeader(nextBatch(), 0));
    let later: Acked | null = null;
    try {
      later = await append(log, nextBatch());
    } catch (e) {
      assert.ok(e instanceof StorageError && e.errorCode === ErrorCode.KAFKA_STORAGE_ERROR, String(e));
    }
    if (later !== null) {
      acked.push(later);
      await assertLogIsAcked(log, acked);
    }
    await log.close().catch(() => undefined);
  });

  void test('in page-cache mode a failed explicit flush rejects and leaves the recovery point; acknowledged appends survive', async () => {
    const dir = tmp.dir();
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const config = logConfig();
    const { log } = await openLog({ dir, fs, config });
    const acked = [await append(log, nextBatch())];
    fs.inject({ op: 'sync', path: '.log', fault: { kind: 'error', code: 'EIO' } });
    await assert.rejects(log.flush(), /EIO/);
    assert.equal(log.recoveryPoint, 0);
    // Kafka takes the log offline here; a log that carries on must still hold what it acknowledged.
    const after = await append(log, nextBatch()).catch((e: unknown) => {
      assert.ok(e instanceof StorageError && e.errorCode === ErrorCode.KAFKA_STORAGE_ERROR, String(e));
      return null;
    });
    if (after !== null) acked.push(after);
    fs.clearFaults();
    await log.close().catch(() => undefined);
    await reopenAndCheck(dir, config, acked, false);
  });
});
