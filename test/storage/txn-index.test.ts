/**
 * The aborted-transaction index on its own: Kafka's 34-byte entry format, decoding of torn and
 * damaged files, appends in marker order, truncation, and the overlap search with its early stop.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ABORTED_TXN_BYTES,
  decodeAbortedTxns,
  encodeAbortedTxns,
  TransactionIndex,
  type AbortedTransaction,
  type AbortedTxn,
} from '../../src/storage/txn-index.js';

function entry(
  producerId: number | bigint,
  firstOffset: number,
  lastOffset: number,
  lastStableOffset: number,
): AbortedTxn {
  return { producerId: BigInt(producerId), firstOffset, lastOffset, lastStableOffset };
}

function collect(
  index: TransactionIndex,
  from: number,
  upper: number,
): { found: string[]; complete: boolean } {
  const out: AbortedTransaction[] = [];
  const complete = index.collect(from, upper, out);
  return { found: out.map((t) => `${t.producerId}@${t.firstOffset}`), complete };
}

void describe('txnindex format', () => {
  void test("an entry is Kafka's 34 bytes: version 0, producer id, first, last and last stable offsets", () => {
    assert.equal(ABORTED_TXN_BYTES, 34);
    const bytes = encodeAbortedTxns([entry(0x0102030405060708n, 0x10, 0x20, 0x21)]);
    const expected = Buffer.from(
      '0000' + '0102030405060708' + '0000000000000010' + '0000000000000020' + '0000000000000021',
      'hex',
    );
    assert.deepEqual(bytes, expected);
  });

  void test('encode from an entry on; decode gives the entries back', () => {
    const entries = [entry(1, 0, 5, 6), entry(2, 3, 9, 10), entry(-1, 11, 12, 13)];
    assert.equal(encodeAbortedTxns(entries, 1).length, 2 * ABORTED_TXN_BYTES);
    const decoded = decodeAbortedTxns(encodeAbortedTxns(entries));
    assert.equal(decoded.problem, null);
    assert.deepEqual(decoded.entries, entries);
  });

  void test('a torn last entry, an unknown version and offsets out of order end the entries read', () => {
    const whole = encodeAbortedTxns([entry(1, 0, 5, 6), entry(2, 3, 9, 10)]);
    const torn = decodeAbortedTxns(whole.subarray(0, whole.length - 7));
    assert.equal(torn.entries.length, 1, 'the whole entry before the tear');
    assert.match(torn.problem ?? '', /27 trailing bytes/);

    const badVersion = Buffer.from(whole);
    badVersion.writeInt16BE(1, ABORTED_TXN_BYTES);
    const v = decodeAbortedTxns(badVersion);
    assert.equal(v.entries.length, 1);
    assert.match(v.problem ?? '', /unknown version 1/);

    const backwards = encodeAbortedTxns([entry(1, 0, 9, 10), entry(2, 3, 5, 6)]);
    const b = decodeAbortedTxns(backwards);
    assert.equal(b.entries.length, 1);
    assert.match(b.problem ?? '', /out of order/);
  });
});

void describe('TransactionIndex', () => {
  void test('appends in marker order only', () => {
    const index = new TransactionIndex(true);
    index.append(entry(1, 0, 5, 6));
    assert.throws(() => index.append(entry(2, 1, 5, 6)), /appended after one at 5/);
    index.append(entry(2, 1, 7, 8));
    assert.equal(index.count, 2);
  });

  void test("entries appended before the file is read come after the file's", () => {
    const index = new TransactionIndex(false);
    index.append(entry(3, 20, 25, 26));
    index.load([entry(1, 0, 5, 6), entry(2, 3, 9, 10)]);
    assert.deepEqual(
      index.entries.map((e) => e.lastOffset),
      [5, 9, 25],
    );
    assert.equal(index.persistedCount, 2, 'the file holds the first two');
    index.load([entry(9, 0, 1, 2)]);
    assert.equal(index.count, 3, 'a second load changes nothing');
  });

  void test('truncation removes the entries whose marker is at or after the offset', () => {
    const index = new TransactionIndex(false);
    index.load([entry(1, 0, 5, 6), entry(2, 3, 9, 10), entry(3, 11, 15, 16)]);
    index.truncateTo(16);
    assert.equal(index.count, 3, 'nothing at or after 16');
    assert.equal(index.stale, false);
    index.truncateTo(9);
    assert.deepEqual(
      index.entries.map((e) => e.lastOffset),
      [5],
    );
    assert.equal(index.persistedCount, 1);
    assert.equal(index.stale, true, 'the file must be cut');
    index.reset();
    assert.equal(index.count, 0);
  });

  void test('collect: transactions overlapping [from, upper), stopping at an entry whose last stable offset reaches upper', () => {
    // p1 [0, 5] and p2 [3, 9] overlap: when p1 aborted, p2 was open from 3 (its LSO entry 3).
    // p3 [12, 14] alone (LSO entry 15); p4 [20, 30] (31).
    const index = new TransactionIndex(false);
    index.load([entry(1, 0, 5, 3), entry(2, 3, 9, 10), entry(3, 12, 14, 15), entry(4, 20, 30, 31)]);
    assert.deepEqual(
      collect(index, 0, 3),
      { found: ['1@0'], complete: true },
      'p1 overlaps, its LSO 3 ends it',
    );
    assert.deepEqual(collect(index, 0, 4), { found: ['1@0', '2@3'], complete: true });
    assert.deepEqual(collect(index, 6, 12), { found: ['2@3'], complete: true }, 'p1 ended before 6');
    assert.deepEqual(collect(index, 10, 12), { found: [], complete: true }, 'nothing open in [10, 12)');
    assert.deepEqual(collect(index, 13, 21), { found: ['3@12', '4@20'], complete: true });
    assert.deepEqual(
      collect(index, 25, 40),
      { found: ['4@20'], complete: false },
      'no entry here reaches 40: later segments may hold more',
    );
    assert.deepEqual(collect(new TransactionIndex(true), 0, 10), { found: [], complete: false });
  });
});
