/** Reader and Writer: varints, lengths, strings, bytes, uuids, and the writer's size check. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { Reader } from '../../src/protocol/primitives/reader.js';
import {
  measure,
  recordsSize,
  uvarintSize,
  utf8Size,
  varintSize,
  varlongSize,
  Writer,
  ZERO_COPY_MIN_BYTES,
} from '../../src/protocol/primitives/writer.js';
import {
  bytesSize,
  nullableBytesSize,
  nullableStringSize,
  stringSize,
} from '../../src/protocol/primitives/sizes.js';
import { readArray, readNullableArray } from '../../src/protocol/primitives/codec.js';
import { DecodeError, EncodeError } from '../../src/protocol/primitives/errors.js';
import { uuidFromHex, uuidToHex, ZERO_UUID } from '../../src/protocol/primitives/uuid.js';

const FC_SEED = 20240601;
const fcParams = { seed: FC_SEED, numRuns: 500 };

/** Writes with a writer sized exactly `size` and returns the one buffer. */
function written(size: number, write: (w: Writer) => void): Buffer {
  const w = new Writer(size);
  write(w);
  return w.finishBuffer();
}

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function assertBad(r: Reader, what: string): void {
  assert.equal(r.bad, true, `${what}: reader not marked bad`);
  assert.equal(r.pos, r.end, `${what}: a bad reader is exhausted`);
  assert.ok(r.error('x') instanceof DecodeError, what);
}

void describe('unsigned varints (uvarint)', () => {
  const cases: [number, number, string][] = [
    [0, 1, '00'],
    [1, 1, '01'],
    [127, 1, '7f'],
    [128, 2, '8001'],
    [300, 2, 'ac02'],
    [16383, 2, 'ff7f'],
    [16384, 3, '808001'],
    [2 ** 21 - 1, 3, 'ffff7f'],
    [2 ** 21, 4, '80808001'],
    [2 ** 28 - 1, 4, 'ffffff7f'],
    [2 ** 28, 5, '8080808001'],
    [2 ** 31 - 1, 5, 'ffffffff07'],
    [2 ** 31, 5, '8080808008'],
    [2 ** 32 - 1, 5, 'ffffffff0f'],
  ];
  for (const [v, size, bytes] of cases) {
    void test(`${v}: ${size} byte(s), ${bytes}`, () => {
      assert.equal(uvarintSize(v), size);
      const b = written(size, (w) => w.uvarint(v));
      assert.equal(b.toString('hex'), bytes);
      const r = new Reader(b);
      assert.equal(r.uvarint(), v);
      assert.equal(r.bad, false);
      assert.equal(r.pos, b.length);
    });
  }

  void test('property: every uint32 round-trips in uvarintSize bytes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (v) => {
        const b = written(uvarintSize(v), (w) => w.uvarint(v));
        const r = new Reader(b);
        return r.uvarint() === v && !r.bad && r.pos === b.length;
      }),
      fcParams,
    );
  });

  const bad: [string, string][] = [
    ['empty input', ''],
    ['truncated after a continuation byte', '80'],
    ['truncated after four continuation bytes', 'ffffffff'],
    ['fifth byte above 0x0f (more than 32 bits)', 'ffffffff10'],
    ['fifth byte with the continuation bit', 'ffffffff8f01'],
    ['six bytes (over-long zero)', '808080808000'],
    ['ten bytes', 'ffffffffffffffffff01'],
  ];
  for (const [what, bytes] of bad) {
    void test(`marks the reader bad: ${what}`, () => {
      const r = new Reader(h(bytes + '00000000'), 0, bytes.length / 2);
      assert.equal(r.uvarint(), 0);
      assertBad(r, what);
      // Every later read returns a zero value and the first failure is kept.
      const reason = r.badReason;
      const badPos = r.badPos;
      assert.equal(r.int32(), 0);
      assert.equal(r.int64(), 0n);
      assert.equal(r.string(), '');
      assert.equal(r.uuid(), ZERO_UUID);
      assert.equal(r.uvarint(), 0);
      assert.equal(r.badReason, reason);
      assert.equal(r.badPos, badPos);
    });
  }

  void test('over-long: a 5-byte encoding of a small value is accepted, a 6-byte one is not', () => {
    // Kafka's ByteUtils reads at most 5 bytes for a varint; non-minimal 5-byte forms decode.
    const five = new Reader(h('8180808000'));
    assert.equal(five.uvarint(), 1);
    assert.equal(five.bad, false);
    const six = new Reader(h('818080808000'));
    six.uvarint();
    assert.equal(six.bad, true);
  });
});

void describe('signed varints (zig-zag varint, int32)', () => {
  const cases: [number, number, string][] = [
    [0, 1, '00'],
    [-1, 1, '01'],
    [1, 1, '02'],
    [63, 1, '7e'],
    [-64, 1, '7f'],
    [64, 2, '8001'],
    [-65, 2, '8101'],
    [127, 2, 'fe01'],
    [128, 2, '8002'],
    [2 ** 31 - 1, 5, 'feffffff0f'],
    [-(2 ** 31), 5, 'ffffffff0f'],
  ];
  for (const [v, size, bytes] of cases) {
    void test(`${v}: ${size} byte(s), ${bytes}`, () => {
      assert.equal(varintSize(v), size);
      const b = written(size, (w) => w.varint(v));
      assert.equal(b.toString('hex'), bytes);
      const r = new Reader(b);
      assert.equal(r.varint(), v);
      assert.equal(r.bad, false);
    });
  }

  void test('property: every int32 round-trips in varintSize bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        const b = written(varintSize(v), (w) => w.varint(v));
        const r = new Reader(b);
        return r.varint() === v && !r.bad && r.pos === b.length;
      }),
      fcParams,
    );
  });
});

void describe('signed varlongs (zig-zag, int64)', () => {
  const cases: [bigint, number, string][] = [
    [0n, 1, '00'],
    [-1n, 1, '01'],
    [1n, 1, '02'],
    [127n, 2, 'fe01'],
    [128n, 2, '8002'],
    [2n ** 31n - 1n, 5, 'feffffff0f'],
    [-(2n ** 31n), 5, 'ffffffff0f'],
    [2n ** 32n - 1n, 5, 'feffffff1f'],
    [2n ** 63n - 1n, 10, 'feffffffffffffffff01'],
    [-(2n ** 63n), 10, 'ffffffffffffffffff01'],
  ];
  for (const [v, size, bytes] of cases) {
    void test(`${v}: ${size} byte(s), ${bytes}`, () => {
      assert.equal(varlongSize(v), size);
      const b = written(size, (w) => w.varlong(v));
      assert.equal(b.toString('hex'), bytes);
      const r = new Reader(b);
      assert.equal(r.varlong(), v);
      assert.equal(r.bad, false);
      assert.equal(r.pos, b.length);
    });
  }

  void test('property: every int64 round-trips in varlongSize bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const b = written(varlongSize(v), (w) => w.varlong(v));
        const r = new Reader(b);
        return r.varlong() === v && !r.bad && r.pos === b.length;
      }),
      fcParams,
    );
  });

  void test('eleven bytes and truncated varlongs mark the reader bad', () => {
    for (const bytes of [
      '8080808080808080808000',
      'ffffffffffffffffffff01',
      '',
      '80',
      'ffffffffffffffffff',
    ]) {
      const r = new Reader(h(bytes));
      assert.equal(r.varlong(), 0n, bytes);
      assertBad(r, bytes);
    }
  });

  void test('a 10-byte varlong carrying more than 64 bits marks the reader bad (never a value outside int64)', () => {
    // The tenth byte holds bit 63 only: anything above 0x01 there is not an int64.
    for (const last of ['02', '03', '7f']) {
      const r = new Reader(h('ffffffffffffffffff' + last));
      const v = r.varlong();
      assert.ok(v >= -(2n ** 63n) && v <= 2n ** 63n - 1n, `ff*9 ${last}: read ${v}, outside int64`);
      assert.equal(r.bad, true, `ff*9 ${last}: read ${v} without marking the reader bad`);
    }
  });
});

void describe('lengths', () => {
  void test('arrayLength: -1 is null, other negatives and counts beyond the bytes left are bad', () => {
    assert.equal(new Reader(h('ffffffff')).arrayLength(), -1);
    assert.equal(new Reader(h('00000000')).arrayLength(), 0);
    assert.equal(new Reader(h('00000002 0102')).arrayLength(), 2);
    for (const bytes of ['fffffffe', '80000000', '7fffffff', '00000003 0102', '000000']) {
      const r = new Reader(h(bytes));
      assert.equal(r.arrayLength(), 0, bytes);
      assertBad(r, bytes);
    }
  });

  void test('compactArrayLength: 0 is null, N+1 is N, huge counts are bad', () => {
    assert.equal(new Reader(h('00')).compactArrayLength(), -1);
    assert.equal(new Reader(h('01')).compactArrayLength(), 0);
    assert.equal(new Reader(h('03 0102')).compactArrayLength(), 2);
    for (const bytes of ['ffffffff0f', 'ffffffff07', '04 0102']) {
      const r = new Reader(h(bytes));
      assert.equal(r.compactArrayLength(), 0, bytes);
      assertBad(r, bytes);
    }
    // A malformed varint: the reader is bad (what the length reads as does not matter then).
    const over = new Reader(h('8080808010 00'));
    assert.ok(over.compactArrayLength() <= 0);
    assertBad(over, 'over-long count');
  });

  void test('readArray: a hostile count reads no element; null in a non-nullable array is bad', () => {
    let calls = 0;
    const elem = (r: Reader): number => {
      calls++;
      return r.int8();
    };
    const r = new Reader(h('7fffffff 01020304'));
    assert.deepEqual(readArray(r, r.arrayLength(), 0, elem), []);
    assert.equal(calls, 0);
    assertBad(r, 'count 2^31-1');

    const n = new Reader(h('ffffffff'));
    assert.deepEqual(readArray(n, n.arrayLength(), 0, elem), []);
    assertBad(n, 'null array');

    const nn = new Reader(h('ffffffff'));
    assert.equal(readNullableArray(nn, nn.arrayLength(), 0, elem), null);
    assert.equal(nn.bad, false);

    // A count that fits but elements that do not: reading stops at the first failure.
    const short = new Reader(h('00000003 0000000100'));
    calls = 0;
    readArray(short, short.arrayLength(), 0, (rr) => {
      calls++;
      return rr.int32();
    });
    assert.equal(short.bad, true);
    assert.equal(calls, 2);
  });

  void test('negative and huge string/bytes lengths mark bad and return empty values without allocating', (t) => {
    const cases: [string, (r: Reader) => unknown, unknown][] = [
      ['ffff', (r) => r.string(), ''],
      ['fffe', (r) => r.nullableString(), null],
      ['8000', (r) => r.nullableString(), null],
      ['7fff 616263', (r) => r.string(), ''],
      ['0004 616263', (r) => r.nullableString(), ''],
      ['ffffffff', (r) => r.bytes(), Buffer.alloc(0)],
      ['fffffffe', (r) => r.nullableBytes(), null],
      ['80000000', (r) => r.nullableBytes(), null],
      ['7fffffff 010203', (r) => r.bytes(), Buffer.alloc(0)],
      ['7fffffff 010203', (r) => r.nullableBytes(), Buffer.alloc(0)],
      ['00', (r) => r.compactString(), ''],
      ['00', (r) => r.compactBytes(), Buffer.alloc(0)],
      ['ffffffff0f 0102', (r) => r.compactString(), ''],
      ['ffffffff0f 0102', (r) => r.compactNullableString(), ''],
      ['ffffffff0f 0102', (r) => r.compactBytes(), Buffer.alloc(0)],
      ['ffffffff0f 0102', (r) => r.compactNullableBytes(), Buffer.alloc(0)],
      ['05 0102', (r) => r.compactNullableBytes(), Buffer.alloc(0)],
    ];
    const inputs = cases.map(([bytes]) => h(bytes));
    const spies = (['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const).map((m) => t.mock.method(Buffer, m));
    // The spies see allocations (so the check below can fail).
    Buffer.allocUnsafe(3);
    assert.equal(spies[1]!.mock.callCount(), 1);
    spies[1]!.mock.resetCalls();
    cases.forEach(([bytes, read, expected], i) => {
      const r = new Reader(inputs[i]!);
      assert.deepStrictEqual(read(r), expected, bytes);
      assertBad(r, bytes);
    });
    const sizes = spies.flatMap((s) => s.mock.calls.map((c) => Number(c.arguments[0])));
    assert.ok(
      sizes.every((n) => n <= 16),
      `hostile lengths allocated ${sizes.join(', ')} bytes`,
    );
  });

  void test('null markers: nullable reads give null and stay good', () => {
    assert.equal(new Reader(h('ffff')).nullableString(), null);
    assert.equal(new Reader(h('ffffffff')).nullableBytes(), null);
    assert.equal(new Reader(h('00')).compactNullableString(), null);
    assert.equal(new Reader(h('00')).compactNullableBytes(), null);
    const r = new Reader(h('ffff ffffffff 00 00'));
    assert.deepStrictEqual(
      [r.nullableString(), r.nullableBytes(), r.compactNullableString(), r.compactNullableBytes()],
      [null, null, null, null],
    );
    assert.equal(r.bad, false);
    assert.equal(r.remaining(), 0);
  });

  void test('tagged fields: counts and sizes beyond the bytes left are bad; a wrong payload size is bad', () => {
    const count = new Reader(h('02 0001')); // two fields need at least four bytes
    assert.equal(count.taggedFieldCount(), 0);
    assertBad(count, 'count');
    const ok = new Reader(h('01 0000'));
    assert.equal(ok.taggedFieldCount(), 1);
    const size = new Reader(h('0102'));
    assert.equal(size.taggedFieldEnd(5), -1);
    assertBad(size, 'size');
    const exact = new Reader(h('0102'));
    assert.equal(exact.taggedFieldEnd(2), 2);
    assert.equal(exact.bad, false);
    const mismatch = new Reader(h('01020304'));
    const end = mismatch.taggedFieldEnd(3);
    mismatch.int8();
    mismatch.endTaggedField(end);
    assertBad(mismatch, 'payload size');
  });

  void test('a reader window: reads stop at `end`, not at the end of the buffer', () => {
    const r = new Reader(h('0000000a 0000000b'), 2, 6);
    assert.equal(r.int32(), 0x000a0000);
    assert.equal(r.int8(), 0);
    assertBad(r, 'past end');
    assert.equal(r.badPos, 6);
  });
});

/** Strings of any code point but lone surrogates (which UTF-8 cannot carry). */
const fullUnicodeString = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0x10ffff }),
    ),
    {
      maxLength: 60,
    },
  )
  .map((cps) => String.fromCodePoint(...cps));

void describe('strings and bytes', () => {
  const strings = ['', 'a', 'héllo', '€uro', '日本語', '😀 emoji', '\u0000nul'];

  void test('string and nullableString: int16 length then UTF-8', () => {
    assert.equal(
      written(8, (w) => w.string('héllo')).toString('hex'),
      '0006' + Buffer.from('héllo').toString('hex'),
    );
    assert.equal(written(2, (w) => w.nullableString(null)).toString('hex'), 'ffff');
    assert.equal(written(2, (w) => w.string('')).toString('hex'), '0000');
    for (const s of strings) {
      const len = utf8Size(s);
      assert.equal(stringSize(s, false), 2 + len);
      const b = written(2 + len, (w) => w.string(s));
      assert.equal(b.readInt16BE(0), len);
      assert.equal(new Reader(b).string(), s);
      assert.equal(new Reader(b).nullableString(), s);
    }
  });

  void test('compactString and compactNullableString: uvarint N+1 then UTF-8; null is 0', () => {
    assert.equal(written(1, (w) => w.compactNullableString(null)).toString('hex'), '00');
    assert.equal(written(1, (w) => w.compactString('')).toString('hex'), '01');
    assert.equal(written(4, (w) => w.compactString('abc')).toString('hex'), '04616263');
    for (const s of [...strings, 'x'.repeat(127), 'x'.repeat(128), '€'.repeat(20000)]) {
      const size = stringSize(s, true);
      assert.equal(size, uvarintSize(utf8Size(s) + 1) + utf8Size(s));
      const b = written(size, (w) => w.compactString(s));
      assert.equal(new Reader(b).compactString(), s);
      assert.equal(new Reader(b).compactNullableString(), s);
    }
    assert.equal(nullableStringSize(null, true), 1);
    assert.equal(nullableStringSize(null, false), 2);
  });

  void test('a non-compact string is at most 32767 UTF-8 bytes: longer is an EncodeError', () => {
    const max = 'x'.repeat(0x7fff);
    const b = written(2 + 0x7fff, (w) => w.string(max));
    assert.equal(new Reader(b).string(), max);
    assert.throws(() => written(2 + 0x8000, (w) => w.string('x'.repeat(0x8000))), EncodeError);
    // Characters are counted in UTF-8 bytes, not UTF-16 units: 10923 × 3 bytes = 32769.
    assert.throws(() => written(2 + 32769, (w) => w.string('€'.repeat(10923))), EncodeError);
    assert.throws(() => written(2 + 32769, (w) => w.nullableString('€'.repeat(10923))), EncodeError);
  });

  void test('bytes: int32 or uvarint length; reads are slices of the input (no copy)', () => {
    const data = Buffer.from([1, 2, 3, 0, 255]);
    for (const compact of [false, true]) {
      const size = bytesSize(data, compact);
      assert.equal(size, (compact ? 1 : 4) + data.length);
      const b = written(size, (w) => (compact ? w.compactBytes(data) : w.bytes(data)));
      const r = new Reader(b);
      const got = compact ? r.compactBytes() : r.bytes();
      assert.deepEqual(got, data);
      assert.equal(got.buffer, b.buffer, 'bytes are a view of the input');
      assert.equal(got.byteOffset, b.byteOffset + (compact ? 1 : 4));
      assert.equal(nullableBytesSize(null, compact), compact ? 1 : 4);
      const n = written(compact ? 1 : 4, (w) =>
        compact ? w.compactNullableBytes(null) : w.nullableBytes(null),
      );
      assert.equal(n.toString('hex'), compact ? '00' : 'ffffffff');
      const rn = new Reader(n);
      assert.equal(compact ? rn.compactNullableBytes() : rn.nullableBytes(), null);
    }
  });

  void test('property: arbitrary strings (full Unicode) and bytes round-trip, compact and not', () => {
    fc.assert(
      fc.property(fullUnicodeString, fc.uint8Array({ maxLength: 300 }), fc.boolean(), (s, u8, compact) => {
        const bytes = Buffer.from(u8);
        const size =
          stringSize(s, compact) + nullableBytesSize(bytes, compact) + nullableStringSize(null, compact);
        const w = new Writer(size);
        if (compact) {
          w.compactString(s);
          w.compactNullableBytes(bytes);
          w.compactNullableString(null);
        } else {
          w.string(s);
          w.nullableBytes(bytes);
          w.nullableString(null);
        }
        const b = w.finishBuffer();
        const r = new Reader(b);
        const s2 = compact ? r.compactString() : r.string();
        const b2 = compact ? r.compactNullableBytes() : r.nullableBytes();
        const n2 = compact ? r.compactNullableString() : r.nullableString();
        return s2 === s && b2 !== null && b2.equals(bytes) && n2 === null && !r.bad && r.pos === b.length;
      }),
      fcParams,
    );
  });
});

void describe('fixed-width integers, floats and bools', () => {
  void test('boundaries round-trip', () => {
    const w = new Writer(1 + 1 + 2 + 2 + 2 + 2 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 8 + 1 + 1);
    w.int8(-128);
    w.int8(127);
    w.int16(-32768);
    w.int16(32767);
    w.uint16(0);
    w.uint16(65535);
    w.int32(-(2 ** 31));
    w.int32(2 ** 31 - 1);
    w.uint32(0);
    w.uint32(2 ** 32 - 1);
    w.int64(-(2n ** 63n));
    w.int64(2n ** 63n - 1n);
    w.float64(-0);
    w.float64(Number.NaN);
    w.float64(Number.NEGATIVE_INFINITY);
    w.float64(Number.MIN_VALUE);
    w.bool(true);
    w.bool(false);
    const r = new Reader(w.finishBuffer());
    assert.deepStrictEqual(
      [
        r.int8(),
        r.int8(),
        r.int16(),
        r.int16(),
        r.uint16(),
        r.uint16(),
        r.int32(),
        r.int32(),
        r.uint32(),
        r.uint32(),
      ],
      [-128, 127, -32768, 32767, 0, 65535, -(2 ** 31), 2 ** 31 - 1, 0, 2 ** 32 - 1],
    );
    assert.equal(r.int64(), -(2n ** 63n));
    assert.equal(r.int64(), 2n ** 63n - 1n);
    assert.ok(Object.is(r.float64(), -0));
    assert.ok(Number.isNaN(r.float64()));
    assert.equal(r.float64(), Number.NEGATIVE_INFINITY);
    assert.equal(r.float64(), Number.MIN_VALUE);
    assert.equal(r.bool(), true);
    assert.equal(r.bool(), false);
    assert.equal(r.bad, false);
    assert.equal(r.remaining(), 0);
  });

  void test('any non-zero byte reads as true', () => {
    for (const b of [1, 2, 0x80, 0xff]) assert.equal(new Reader(Buffer.from([b])).bool(), true);
  });

  void test('short input marks bad and returns zero values', () => {
    const reads: [string, (r: Reader) => unknown, unknown][] = [
      ['int16', (r) => r.int16(), 0],
      ['uint16', (r) => r.uint16(), 0],
      ['int32', (r) => r.int32(), 0],
      ['uint32', (r) => r.uint32(), 0],
      ['int64', (r) => r.int64(), 0n],
      ['float64', (r) => r.float64(), 0],
      ['uuid', (r) => r.uuid(), ZERO_UUID],
    ];
    for (const [name, read, zero] of reads) {
      const r = new Reader(Buffer.from([1]));
      assert.deepStrictEqual(read(r), zero, name);
      assertBad(r, name);
      assert.equal(r.badPos, 0, name);
    }
  });
});

void describe('uuids', () => {
  void test('round trip: 16 random bytes as 22 base64url characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (u8) => {
        const raw = Buffer.from(u8);
        const s = raw.toString('base64url');
        const b = written(16, (w) => w.uuid(s));
        const r = new Reader(b);
        return b.equals(raw) && r.uuid() === s && s.length === 22;
      }),
      fcParams,
    );
    assert.deepEqual(
      written(16, (w) => w.uuid(ZERO_UUID)),
      Buffer.alloc(16),
    );
    assert.equal(new Reader(Buffer.alloc(16)).uuid(), ZERO_UUID);
  });

  void test('hex form converts both ways', () => {
    const hex = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const u = uuidFromHex(hex);
    assert.equal(u.length, 22);
    assert.equal(uuidToHex(u), hex.replace(/-/g, ''));
    assert.equal(uuidFromHex('00000000000000000000000000000000'), ZERO_UUID);
    assert.throws(() => uuidFromHex('not-a-uuid'), TypeError);
  });

  const malformed: [string, string][] = [
    ['empty', ''],
    ['21 characters', 'AAAAAAAAAAAAAAAAAAAAA'],
    ['23 characters', 'AAAAAAAAAAAAAAAAAAAAAAA'],
    ['padded base64', 'AAAAAAAAAAAAAAAAAAAAAA=='],
    ['standard base64 +', 'AAAAAAAAAAAAAAAAAAAA+A'],
    ['standard base64 /', 'AAAAAAAAAAAAAAAAAAAA/A'],
    ['whitespace', 'AAAAAAAAAAAAAAAAAAAA A'],
    ['non-zero padding bits in the last character', 'AAAAAAAAAAAAAAAAAAAAAB'],
    ['last character needs 18 bytes', 'AAAAAAAAAAAAAAAAAAAAA_'],
    ['hex form', '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'],
    ['32 hex digits', '0f1e2d3c4b5a69788796a5b4c3d2e1f0'],
    ['non-ASCII', 'AAAAAAAAAAAAAAAAAAAAAé'],
    ['trailing newline', 'AAAAAAAAAAAAAAAAAAAAAA\n'],
  ];
  for (const [what, s] of malformed) {
    void test(`writing a malformed uuid is an EncodeError: ${what}`, () => {
      const w = new Writer(16);
      assert.throws(() => w.uuid(s), EncodeError);
    });
  }
});

void describe('Writer', () => {
  void test('finish detects a size pass that disagrees with the write', () => {
    const under = new Writer(8);
    under.int32(1);
    assert.throws(() => under.finish(), EncodeError);
    assert.throws(() => new Writer(1).finishBuffer(), /size pass and write disagree/);
    const exact = new Writer(4);
    exact.int32(1);
    assert.deepEqual(exact.finish(), [h('00000001')]);
  });

  void test('writing past the size pass throws instead of growing the buffer', () => {
    const w = new Writer(2);
    assert.throws(() => w.int32(1));
  });

  void test('an empty message finishes as one empty chunk', () => {
    const chunks = new Writer(0).finish();
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]!.length, 0);
  });

  void test(`record sets of ${ZERO_COPY_MIN_BYTES}+ bytes are chunks by reference; smaller ones are copied`, () => {
    const big = Buffer.alloc(ZERO_COPY_MIN_BYTES, 9);
    const small = Buffer.alloc(ZERO_COPY_MIN_BYTES - 1, 8);
    const size = measure(
      () => 4 + recordsSize(big, false) + recordsSize(small, true) + recordsSize(null, false) + 2,
    );
    assert.deepEqual(size, {
      totalBytes: 4 + 4 + big.length + 2 + small.length + 4 + 2,
      zeroCopyBytes: big.length,
    });
    const w = Writer.forSize(size);
    w.int32(7);
    w.records(big);
    w.compactRecords(small);
    w.records(null);
    w.int16(-1);
    const chunks = w.finish();
    assert.equal(chunks.length, 3);
    assert.equal(chunks[1], big, 'the record set itself is a chunk');
    assert.ok(chunks[0]!.equals(h('00000007 00000400')));
    const whole = Buffer.concat(chunks);
    assert.equal(whole.length, size.totalBytes);
    const r = new Reader(whole);
    assert.equal(r.int32(), 7);
    assert.ok(r.nullableBytes()!.equals(big));
    assert.ok(r.compactNullableBytes()!.equals(small));
    assert.equal(r.nullableBytes(), null);
    assert.equal(r.int16(), -1);
    assert.equal(r.remaining(), 0);
  });

  void test('a zero-copy record set at the very end adds no empty chunk', () => {
    const big = Buffer.alloc(2000, 1);
    const w = Writer.forSize(measure(() => recordsSize(big, true)));
    w.compactRecords(big);
    const chunks = w.finish();
    assert.equal(chunks.length, 2);
    assert.ok(chunks.every((c) => c.length > 0));
    assert.equal(chunks[1], big);
  });

  void test('raw tagged fields: tag, size, data', () => {
    const data = Buffer.from('abc');
    const b = written(1 + 1 + 3, (w) => w.rawTaggedField({ tag: 5, data }));
    assert.equal(b.toString('hex'), '0503616263');
    const big = written(5 + 1, (w) => w.rawTaggedField({ tag: 2 ** 31 - 1, data: Buffer.alloc(0) }));
    const r = new Reader(big);
    assert.equal(r.uvarint(), 2 ** 31 - 1);
    assert.equal(r.uvarint(), 0);
  });
});
