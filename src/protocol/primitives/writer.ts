/**
 * Writer: writes Kafka's primitive types into a buffer allocated once from a size computed
 * beforehand. Record sets of ZERO_COPY_MIN_BYTES or more are not copied: the writer ends the
 * current chunk and emits the record buffer itself as the next chunk, so a Fetch response or a
 * Produce request goes to the socket as a list of buffers (writev) that reference the log's bytes.
 */
import { EncodeError } from './errors.js';
import { uuidToBytes } from './uuid.js';
import type { RawTaggedField } from './reader.js';

/** Record sets at least this large are sent by reference instead of being copied. */
export const ZERO_COPY_MIN_BYTES = 1024;

/**
 * Bytes of record sets counted by the current size pass that the writer will not copy. A size
 * pass is synchronous, so a module-level tally is safe; `measure` resets and reads it.
 */
const tally = { zeroCopyBytes: 0 };

export function countZeroCopy(len: number): void {
  if (len >= ZERO_COPY_MIN_BYTES) tally.zeroCopyBytes += len;
}

/** Runs a size pass and returns the total size and the part of it that will not be copied. */
export function measure(sizeFn: () => number): { totalBytes: number; zeroCopyBytes: number } {
  tally.zeroCopyBytes = 0;
  const totalBytes = sizeFn();
  const zeroCopyBytes = tally.zeroCopyBytes;
  tally.zeroCopyBytes = 0;
  return { totalBytes, zeroCopyBytes };
}

export function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

export function varintSize(v: number): number {
  return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0);
}

export function varlongSize(v: bigint): number {
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

export function utf8Size(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export class Writer {
  private readonly buf: Buffer;
  /** For int64: DataView's bigint accessors are V8 builtins, several times faster than Buffer's. */
  private readonly view: DataView;
  private pos = 0;
  private chunkStart = 0;
  private readonly chunks: Buffer[] = [];

  /** `copiedBytes`: the bytes this writer copies, i.e. the total size less the zero-copy record bytes. */
  constructor(copiedBytes: number) {
    this.buf = Buffer.allocUnsafe(copiedBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** A writer for a message whose size pass already ran under `measure`. */
  static forSize(size: { totalBytes: number; zeroCopyBytes: number }): Writer {
    return new Writer(size.totalBytes - size.zeroCopyBytes);
  }

  /** The written bytes as chunks (one unless record sets were passed by reference). */
  finish(): Buffer[] {
    if (this.pos !== this.buf.length) {
      throw new EncodeError(`size pass and write disagree: wrote ${this.pos} of ${this.buf.length} bytes`);
    }
    if (this.pos > this.chunkStart || this.chunks.length === 0) {
      this.chunks.push(this.buf.subarray(this.chunkStart, this.pos));
    }
    return this.chunks;
  }

  /** The written bytes as one buffer (copies when there is more than one chunk). */
  finishBuffer(): Buffer {
    const chunks = this.finish();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  int8(v: number): void {
    this.pos = this.buf.writeInt8(v, this.pos);
  }

  bool(v: boolean): void {
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    this.pos = this.buf.writeInt16BE(v, this.pos);
  }

  uint16(v: number): void {
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }

  int32(v: number): void {
    this.pos = this.buf.writeInt32BE(v, this.pos);
  }

  uint32(v: number): void {
    this.pos = this.buf.writeUInt32BE(v, this.pos);
  }

  int64(v: bigint): void {
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }

  float64(v: number): void {
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  uuid(v: string): void {
    if (!uuidToBytes(v, this.buf, this.pos))
      throw new EncodeError(`not a Kafka uuid (22 base64url characters): ${v}`);
    this.pos += 16;
  }

  uvarint(v: number): void {
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  varlong(v: bigint): void {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const buf = this.buf;
    while (u >= 0x80n) {
      buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    buf[this.pos++] = Number(u);
  }

  private utf8(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  string(v: string): void {
    const len = utf8Size(v);
    if (len > 0x7fff) throw new EncodeError(`string of ${len} bytes is longer than an int16 length allows`);
    this.int16(len);
    this.utf8(v);
  }

  nullableString(v: string | null): void {
    if (v === null) this.int16(-1);
    else this.string(v);
  }

  compactString(v: string): void {
    this.uvarint(utf8Size(v) + 1);
    this.utf8(v);
  }

  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0);
    else this.compactString(v);
  }

  /** Copies bytes into the output. */
  raw(v: Buffer): void {
    this.pos += v.copy(this.buf, this.pos);
  }

  bytes(v: Buffer): void {
    this.int32(v.length);
    this.raw(v);
  }

  nullableBytes(v: Buffer | null): void {
    if (v === null) this.int32(-1);
    else this.bytes(v);
  }

  compactBytes(v: Buffer): void {
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  compactNullableBytes(v: Buffer | null): void {
    if (v === null) this.uvarint(0);
    else this.compactBytes(v);
  }

  /** Record-set payload: passed by reference when large (see ZERO_COPY_MIN_BYTES), copied otherwise. */
  recordsPayload(v: Buffer): void {
    if (v.length < ZERO_COPY_MIN_BYTES) {
      this.raw(v);
      return;
    }
    if (this.pos > this.chunkStart) this.chunks.push(this.buf.subarray(this.chunkStart, this.pos));
    this.chunks.push(v);
    this.chunkStart = this.pos;
  }

  records(v: Buffer | null): void {
    if (v === null) {
      this.int32(-1);
      return;
    }
    this.int32(v.length);
    this.recordsPayload(v);
  }

  compactRecords(v: Buffer | null): void {
    if (v === null) {
      this.uvarint(0);
      return;
    }
    this.uvarint(v.length + 1);
    this.recordsPayload(v);
  }

  /** An unknown tagged field kept from a read, written back unchanged. */
  rawTaggedField(f: RawTaggedField): void {
    this.uvarint(f.tag);
    this.uvarint(f.data.length);
    this.raw(f.data);
  }
}

/** Size of a record-set field (length prefix and payload); counts the payload for zero-copy. */
export function recordsSize(v: Buffer | null, compact: boolean): number {
  if (v === null) return compact ? 1 : 4;
  countZeroCopy(v.length);
  return (compact ? uvarintSize(v.length + 1) : 4) + v.length;
}
