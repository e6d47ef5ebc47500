/** Element readers for arrays of primitives, passed to readArray by generated codecs. */
import type { Reader } from './reader.js';

export const readBool = (r: Reader): boolean => r.bool();
export const readInt8 = (r: Reader): number => r.int8();
export const readInt16 = (r: Reader): number => r.int16();
export const readUint16 = (r: Reader): number => r.uint16();
export const readInt32 = (r: Reader): number => r.int32();
export const readUint32 = (r: Reader): number => r.uint32();
export const readInt64 = (r: Reader): bigint => r.int64();
export const readFloat64 = (r: Reader): number => r.float64();
export const readUuid = (r: Reader): string => r.uuid();
export const readString = (r: Reader): string => r.string();
export const readCompactString = (r: Reader): string => r.compactString();
export const readBytes = (r: Reader): Buffer => r.bytes();
export const readCompactBytes = (r: Reader): Buffer => r.compactBytes();
