/**
 * The policy that decides whether an append is written synchronously (src/storage/sync-writes.ts):
 * synchronous while the learned cost of a write (a median of recent ones) stays within the
 * budget, never over 64 KiB, and probing now and then while over budget so that the estimate can
 * come down again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  SYNC_WRITE_BUDGET_NS,
  SYNC_WRITE_MAX_BYTES,
  SyncWriteBudget,
} from '../../src/storage/sync-writes.js';

const KiB = 1024;

/** How many of `n` writes of `bytes` the policy lets go synchronously. */
function allowedOf(policy: SyncWriteBudget, bytes: number, n: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (policy.allows(bytes)) allowed++;
  return allowed;
}

void test('a fresh budget writes 16 KiB synchronously (a warm page cache) and never more than 64 KiB', () => {
  const policy = new SyncWriteBudget();
  assert.equal(allowedOf(policy, 16 * KiB, 100), 100);
  assert.equal(allowedOf(policy, SYNC_WRITE_MAX_BYTES + 1, 100), 0);
});

void test('slow synchronous writes send the larger ones to the thread pool, probing one in 32; small ones stay synchronous', () => {
  const policy = new SyncWriteBudget();
  // 3 ns per byte: a 16 KiB write holds the loop ~50 µs, over the 20 µs budget.
  for (let i = 0; i < 50; i++) policy.observe(16 * KiB, 3 * 16 * KiB);
  assert.ok(policy.estimateNsPerByte > 2.5, `estimate ${policy.estimateNsPerByte}`);
  assert.ok(16 * KiB * policy.estimateNsPerByte > SYNC_WRITE_BUDGET_NS);
  assert.equal(allowedOf(policy, 16 * KiB, 320), 10, 'one probe in 32');
  assert.equal(allowedOf(policy, 4 * KiB, 10), 10, '4 KiB at 3 ns/B is 12 µs: within budget');
  assert.equal(allowedOf(policy, 2 * KiB, 10), 10, 'below 4 KiB: always synchronous');
  // Measurements of small writes (system-call bound) do not move the estimate.
  const before = policy.estimateNsPerByte;
  policy.observe(100, 1_000_000);
  assert.equal(policy.estimateNsPerByte, before);
});

void test('a single stalled write does not move the estimate; a run of slow ones does', () => {
  const policy = new SyncWriteBudget();
  for (let i = 0; i < 20; i++) policy.observe(16 * KiB, 0.3 * 16 * KiB);
  policy.observe(16 * KiB, 100 * 16 * KiB); // 1.6 ms: a journal commit
  assert.ok(policy.estimateNsPerByte < 0.5, `estimate ${policy.estimateNsPerByte}`);
  assert.equal(allowedOf(policy, 16 * KiB, 10), 10);
  for (let i = 0; i < 8; i++) policy.observe(16 * KiB, 3 * 16 * KiB);
  assert.ok(policy.estimateNsPerByte >= 3, `estimate ${policy.estimateNsPerByte}`);
  assert.equal(allowedOf(policy, 16 * KiB, 31), 0);
});

void test('once the probes measure cheap writes again, the estimate comes down and writes go synchronous again', () => {
  const policy = new SyncWriteBudget();
  for (let i = 0; i < 50; i++) policy.observe(32 * KiB, 3 * 32 * KiB);
  assert.equal(allowedOf(policy, 32 * KiB, 31), 0);
  for (let i = 0; i < 8; i++) policy.observe(32 * KiB, 0.25 * 32 * KiB);
  assert.ok(policy.estimateNsPerByte < 0.3, `estimate ${policy.estimateNsPerByte}`);
  assert.equal(allowedOf(policy, 32 * KiB, 50), 50);
});
