/** Encoded sizes of variable-length fields, for the size pass of generated codecs. */
import { uvarintSize, utf8Size } from './writer.js';

export { recordsSize } from './writer.js';

/** Shared default for absent bytes fields; never written to. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

export function stringSize(v: string, compact: boolean): number {
  const len = utf8Size(v);
  return (compact ? uvarintSize(len + 1) : 2) + len;
}

export function nullableStringSize(v: string | null, compact: boolean): number {
  if (v === null) return compact ? 1 : 2;
  return stringSize(v, compact);
}

export function bytesSize(v: Buffer, compact: boolean): number {
  return (compact ? uvarintSize(v.length + 1) : 4) + v.length;
}

export function nullableBytesSize(v: Buffer | null, compact: boolean): number {
  if (v === null) return compact ? 1 : 4;
  return bytesSize(v, compact);
}
