/**
 * Reader: sequential reads of Kafka's primitive types from a Buffer.
 *
 * Reads never throw. Short or malformed input marks the reader bad (franz-go's kbin style): every
 * later read returns a zero value, so a generated decoder runs to its end without branching on
 * each field, and the caller checks `bad` once. Lengths read from the input are checked against
 * the bytes that remain before anything is allocated, so hostile lengths cannot make us allocate
 * more than the input justifies.
 */
import { DecodeError } from './errors.js';
import { uuidFromBytes, ZERO_UUID } from './uuid.js';

export interface RawTaggedField {
  tag: number;
  data: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  /** Set on the first failure; position of that failure and why. */
  bad = false;
  private view: DataView | undefined = undefined;
  badPos = -1;
  badReason = '';

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  /** Marks the reader bad; later reads return zero values. */
  fail(reason: string): void {
    if (!this.bad) {
      this.bad = true;
      this.badPos = this.pos;
      this.badReason = reason;
    }
    this.pos = this.end;
  }

  /** The failure as an error, or null when every read succeeded. */
  error(what: string): DecodeError | null {
    return this.bad ? new DecodeError(`${what}: ${this.badReason}`, this.badPos) : null;
  }

  private need(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    this.fail(`needed ${n} bytes, ${this.end - this.pos} left`);
    return false;
  }

  int8(): number {
    if (!this.need(1)) return 0;
    return this.buf.readInt8(this.pos++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    if (!this.need(2)) return 0;
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    if (!this.need(2)) return 0;
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    if (!this.need(4)) return 0;
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    if (!this.need(4)) return 0;
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    if (!this.need(8)) return 0n;
    // DataView's bigint accessor is a V8 builtin, several times faster than Buffer's.
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  float64(): number {
    if (!this.need(8)) return 0;
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  uuid(): string {
    if (!this.need(16)) return ZERO_UUID;
    const v = uuidFromBytes(this.buf, this.pos);
    this.pos += 16;
    return v;
  }

  /** Unsigned LEB128 varint of at most 5 bytes (a uint32), as Kafka's compact lengths and tags use. */
  uvarint(): number {
    const buf = this.buf;
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) {
        this.fail('truncated varint');
        return 0;
      }
      const b = buf[this.pos++]!;
      if (i === 4 && b > 0x0f) {
        this.fail('varint longer than 32 bits');
        return 0;
      }
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    this.fail('varint longer than 5 bytes');
    return 0;
  }

  /** Zig-zag signed varint (int32), as record fields use. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag signed varlong (int64) of at most 10 bytes. */
  varlong(): bigint {
    const buf = this.buf;
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) {
        this.fail('truncated varlong');
        return 0n;
      }
      const b = buf[this.pos++]!;
      if (i === 9 && b > 0x01) {
        this.fail('varlong longer than 64 bits');
        return 0n;
      }
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return (value >> 1n) ^ -(value & 1n);
    }
    this.fail('varlong longer than 10 bytes');
    return 0n;
  }

  /** Length of a non-compact array (int32, -1 meaning null). Returns -1 for null, and 0 when bad. */
  arrayLength(): number {
    const n = this.int32();
    return this.checkCount(n);
  }

  /** Length of a compact array (uvarint N+1, 0 meaning null). Returns -1 for null. */
  compactArrayLength(): number {
    const n = this.uvarint() - 1;
    if (this.bad) return 0;
    return this.checkCount(n);
  }

  /** Every element takes at least one byte, so a count above the bytes left is hostile. */
  private checkCount(n: number): number {
    if (n < -1) {
      this.fail(`negative length ${n}`);
      return 0;
    }
    if (n > this.end - this.pos) {
      this.fail(`length ${n} exceeds the ${this.end - this.pos} bytes left`);
      return 0;
    }
    return n;
  }

  private utf8(len: number): string {
    if (!this.need(len)) return '';
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  private slice(len: number): Buffer {
    if (!this.need(len)) return EMPTY;
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  string(): string {
    const len = this.int16();
    if (len < 0) {
      this.fail(`null or negative string length ${len} in a non-nullable string`);
      return '';
    }
    return this.utf8(len);
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) {
      this.fail(`negative string length ${len}`);
      return null;
    }
    return this.utf8(len);
  }

  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0) {
      this.fail('null compact string in a non-nullable string');
      return '';
    }
    return this.utf8(len);
  }

  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    if (len < 0) return null;
    return this.utf8(len);
  }

  /** Bytes are returned as slices of the input (no copy); copy them if the input buffer is reused. */
  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) {
      this.fail(`null or negative bytes length ${len} in non-nullable bytes`);
      return EMPTY;
    }
    return this.slice(len);
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) {
      this.fail(`negative bytes length ${len}`);
      return null;
    }
    return this.slice(len);
  }

  compactBytes(): Buffer {
    const len = this.uvarint() - 1;
    if (len < 0) {
      this.fail('null compact bytes in non-nullable bytes');
      return EMPTY;
    }
    return this.slice(len);
  }

  compactNullableBytes(): Buffer | null {
    const len = this.uvarint() - 1;
    if (len < 0) return null;
    return this.slice(len);
  }

  /** Raw bytes of a known length (tagged field payloads). */
  raw(len: number): Buffer {
    return this.slice(len);
  }

  /**
   * Reads the header of a tagged-field section; returns the number of fields (0 when bad).
   * Every tagged field takes at least two bytes (tag and size).
   */
  taggedFieldCount(): number {
    const n = this.uvarint();
    if (n * 2 > this.end - this.pos) {
      this.fail(`tagged field count ${n} exceeds the bytes left`);
      return 0;
    }
    return n;
  }

  /** Reads one tagged field's tag and size; returns the end position of its payload, or -1 when bad. */
  taggedFieldEnd(size: number): number {
    if (size > this.end - this.pos) {
      this.fail(`tagged field size ${size} exceeds the bytes left`);
      return -1;
    }
    return this.pos + size;
  }

  /** After a known tagged field was read, checks it used exactly its declared size. */
  endTaggedField(end: number): void {
    if (this.bad) return;
    if (this.pos !== end) this.fail('tagged field payload does not match its declared size');
  }
}
