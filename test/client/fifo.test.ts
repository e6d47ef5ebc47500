/** The producer's admission queue: order kept through pushes, shifts and compactions, and linear cost. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Fifo } from '../../src/client/fifo.js';

void test('items come out in the order they went in, across compactions and refills', () => {
  const q = new Fifo<number>();
  const out: number[] = [];
  let next = 0;
  // Interleaved pushes and shifts, enough of them to compact many times.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 3000; i++) q.push(next++);
    for (let i = 0; i < 2500; i++) out.push(q.shift()!);
  }
  assert.equal(q.length, next - out.length, 'length counts what is left');
  assert.equal(q.peek(), out.length, 'peek is the oldest left');
  out.push(...q.takeAll());
  assert.equal(q.length, 0, 'takeAll empties the queue');
  assert.equal(q.shift(), undefined, 'an empty queue shifts undefined');
  assert.equal(q.peek(), undefined, 'an empty queue peeks undefined');
  assert.deepEqual(
    out,
    Array.from({ length: next }, (_, i) => i),
    'every item once, in order',
  );
});

void test('draining 400,000 items takes linear time (Array#shift on such an array is quadratic)', () => {
  const n = 400_000;
  const q = new Fifo<{ i: number }>();
  for (let i = 0; i < n; i++) q.push({ i });
  const start = process.hrtime.bigint();
  let sum = 0;
  for (let item = q.shift(); item !== undefined; item = q.shift()) sum += item.i;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.equal(sum, (n * (n - 1)) / 2, 'every item shifted once');
  // Linear: a few ms; the quadratic Array#shift takes tens of seconds for this many.
  assert.ok(ms < 2000, `draining took ${ms.toFixed(0)} ms`);
});
