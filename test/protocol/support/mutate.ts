/**
 * Test support for fuzzing decoders: where a valid encoding keeps its length fields (found by
 * reading it with a Reader that records them), and mutations of valid encodings.
 */
import { Reader } from '../../../src/protocol/primitives/reader.js';
import type { AnyCodec, Rng } from './random-message.js';

export type LengthKind = 'int16' | 'int32' | 'uvarint';

export interface LengthField {
  pos: number;
  kind: LengthKind;
}

/** A Reader that notes the position of every length, count, tag and tagged-field size it reads. */
export class RecordingReader extends Reader {
  readonly lengths: LengthField[] = [];
  private readonly seen = new Set<number>();

  private note(kind: LengthKind): void {
    if (this.seen.has(this.pos)) return;
    this.seen.add(this.pos);
    this.lengths.push({ pos: this.pos, kind });
  }

  override uvarint(): number {
    this.note('uvarint');
    return super.uvarint();
  }
  override arrayLength(): number {
    this.note('int32');
    return super.arrayLength();
  }
  override string(): string {
    this.note('int16');
    return super.string();
  }
  override nullableString(): string | null {
    this.note('int16');
    return super.nullableString();
  }
  override bytes(): Buffer {
    this.note('int32');
    return super.bytes();
  }
  override nullableBytes(): Buffer | null {
    this.note('int32');
    return super.nullableBytes();
  }
}

/** Length fields of a valid encoding of `codec` at `version`. */
export function lengthFields(codec: AnyCodec, buf: Buffer, version: number, start = 0): LengthField[] {
  const r = new RecordingReader(buf, start);
  codec.read(r, version);
  if (r.bad)
    throw new Error(`${codec.name} v${version}: recording read of a valid encoding failed: ${r.badReason}`);
  return r.lengths;
}

/** Byte length of the uvarint at `pos` (at most 10, stopping at the end of the buffer). */
function uvarintLength(buf: Buffer, pos: number): number {
  let n = 0;
  while (pos + n < buf.length && n < 10) {
    if ((buf[pos + n]! & 0x80) === 0) return n + 1;
    n++;
  }
  return n;
}

function encodeUvarint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** Replacement values for a length field: null markers, negatives, and lengths far beyond the input. */
const INT16_LENGTHS = [-1, -2, -32768, 0x7fff, 0x7ffe, 0];
const INT32_LENGTHS = [-1, -2, -0x80000000, 0x7fffffff, 0x7ffffffe, 0x10000000, 0];
const UVARINT_LENGTHS: Buffer[] = [
  Buffer.from([0x00]), // compact null
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), // 2^32 - 1, the largest uint32
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]), // 2^31 - 1
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08]), // 2^31
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f]), // 33 bits
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 6 bytes
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), // over-long zero
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 2^64 - 1
  Buffer.from([0xff, 0xff, 0x03]), // 65535
  Buffer.from([0x80]), // truncated varint (continuation bit, nothing after in the field)
];

/** Sets one length field of `buf` to a hostile value; returns a new buffer. */
export function setLength(rng: Rng, buf: Buffer, f: LengthField): Buffer {
  const out = Buffer.from(buf);
  switch (f.kind) {
    case 'int16': {
      if (f.pos + 2 > out.length) return out;
      const cur = out.readInt16BE(f.pos);
      const v = rng.chance(0.2) ? Math.min(0x7fff, cur + rng.int(1, 3)) : rng.pick(INT16_LENGTHS);
      out.writeInt16BE(v, f.pos);
      return out;
    }
    case 'int32': {
      if (f.pos + 4 > out.length) return out;
      const cur = out.readInt32BE(f.pos);
      const v = rng.chance(0.2) ? Math.min(0x7fffffff, cur + rng.int(1, 3)) : rng.pick(INT32_LENGTHS);
      out.writeInt32BE(v, f.pos);
      return out;
    }
    case 'uvarint': {
      const len = uvarintLength(buf, f.pos);
      let cur = 0;
      for (let i = len - 1; i >= 0; i--) cur = cur * 128 + (buf[f.pos + i]! & 0x7f);
      const repl = rng.chance(0.2) ? encodeUvarint(cur + rng.int(1, 3)) : rng.pick(UVARINT_LENGTHS);
      return Buffer.concat([buf.subarray(0, f.pos), repl, buf.subarray(f.pos + len)]);
    }
  }
}

export type MutationName =
  'bitflip' | 'overwrite' | 'insert' | 'delete' | 'length' | 'append' | 'splice' | 'int-edge';

/** Applies one random mutation; `lengths` are the length fields of the (unmutated) input. */
export function mutateOnce(
  rng: Rng,
  buf: Buffer,
  lengths: readonly LengthField[],
  donor: Buffer,
): { out: Buffer; how: string } {
  const kinds: MutationName[] = ['bitflip', 'overwrite', 'insert', 'delete', 'append', 'splice', 'int-edge'];
  if (lengths.length > 0) kinds.push('length', 'length', 'length');
  const kind = rng.pick(kinds);
  const pos = buf.length === 0 ? 0 : rng.int(0, buf.length - 1);
  switch (kind) {
    case 'bitflip': {
      const out = Buffer.from(buf);
      if (out.length === 0) return { out: Buffer.from([1 << rng.int(0, 7)]), how: 'bitflip(empty)' };
      const flips = rng.int(1, 4);
      for (let i = 0; i < flips; i++) out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
      return { out, how: `bitflip x${flips}` };
    }
    case 'overwrite': {
      const out = Buffer.from(buf);
      const n = rng.int(1, 8);
      for (let i = 0; i < n && pos + i < out.length; i++)
        out[pos + i] = rng.chance(0.5) ? rng.pick([0x00, 0xff, 0x7f, 0x80]) : rng.int(0, 255);
      return { out, how: `overwrite ${n}@${pos}` };
    }
    case 'insert': {
      const ins = rng.bytes(rng.int(1, 8));
      return {
        out: Buffer.concat([buf.subarray(0, pos), ins, buf.subarray(pos)]),
        how: `insert ${ins.length}@${pos}`,
      };
    }
    case 'delete': {
      const n = rng.int(1, 8);
      return { out: Buffer.concat([buf.subarray(0, pos), buf.subarray(pos + n)]), how: `delete ${n}@${pos}` };
    }
    case 'append':
      return { out: Buffer.concat([buf, rng.bytes(rng.int(1, 16))]), how: 'append' };
    case 'splice': {
      const from = donor.length === 0 ? 0 : rng.int(0, donor.length - 1);
      const piece = donor.subarray(from, from + rng.int(1, 32));
      return {
        out: Buffer.concat([buf.subarray(0, pos), piece, buf.subarray(pos + rng.int(0, 32))]),
        how: `splice@${pos}`,
      };
    }
    case 'int-edge': {
      const out = Buffer.from(buf);
      if (pos + 4 <= out.length) out.writeInt32BE(rng.pick([-1, -2, 0x7fffffff, -0x80000000]), pos);
      return { out, how: `int-edge@${pos}` };
    }
    case 'length': {
      const f = rng.pick(lengths);
      return { out: setLength(rng, buf, f), how: `length ${f.kind}@${f.pos}` };
    }
  }
}

/** One to three stacked mutations. */
export function mutate(
  rng: Rng,
  buf: Buffer,
  lengths: readonly LengthField[],
  donor: Buffer,
): { out: Buffer; how: string } {
  let out = buf;
  const hows: string[] = [];
  const n = rng.chance(0.6) ? 1 : rng.int(2, 3);
  for (let i = 0; i < n; i++) {
    // Length positions are only valid for the unmutated input.
    const m = mutateOnce(rng, out, i === 0 ? lengths : [], donor);
    out = m.out;
    hows.push(m.how);
  }
  return { out, how: hows.join(', ') };
}

/** Random bytes biased toward the values decoders branch on (0, 1, -1, small counts). */
export function randomBuffer(rng: Rng, maxLen: number): Buffer {
  const n = rng.int(0, maxLen);
  const out = Buffer.allocUnsafe(n);
  const biased = rng.chance(0.5);
  for (let i = 0; i < n; i++)
    out[i] =
      biased && rng.chance(0.7) ? rng.pick([0x00, 0x00, 0x01, 0x02, 0xff, 0x7f, 0x80]) : rng.int(0, 255);
  return out;
}
