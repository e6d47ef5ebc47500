/**
 * What generated message codecs share: the codec and schema shapes, and the array and
 * tagged-field helpers their read/write/size functions call.
 */
import { EncodeError } from './errors.js';
import type { Reader, RawTaggedField } from './reader.js';
import { uvarintSize, type Writer } from './writer.js';

export type FieldTypeName =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'uuid'
  | 'bytes'
  | 'records'
  | 'struct'
  | 'array';

/** A field as the spec declares it: version ranges are [min, max], max 32767 meaning open-ended. */
export interface FieldSchema {
  /** Property name in the TypeScript type. */
  name: string;
  /** Name as in Kafka's spec. */
  specName: string;
  type: FieldTypeName;
  /** Element type of an array. */
  element?: Exclude<FieldTypeName, 'array'>;
  /** Struct name (for struct fields and arrays of structs), a key of MessageSchema.structs. */
  struct?: string;
  versions: [number, number];
  nullableVersions?: [number, number];
  tag?: number;
  taggedVersions?: [number, number];
  flexibleVersions?: [number, number];
  default?: string;
  ignorable?: boolean;
  mapKey?: boolean;
}

export interface StructSchema {
  versions: [number, number];
  fields: FieldSchema[];
}

export interface MessageSchema {
  name: string;
  type: string;
  apiKey: number | null;
  validVersions: [number, number];
  flexibleVersions: [number, number] | null;
  root: string;
  structs: Record<string, StructSchema>;
}

/** A generated message: one type for all versions, read/write/size gated by version. */
export interface MessageCodec<T> {
  readonly name: string;
  readonly apiKey: number | null;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible version (compact encodings, tagged fields), or null when none is. */
  readonly flexibleMinVersion: number | null;
  /** Reads the message; on bad input the reader is marked bad and the result is partial. */
  read(r: Reader, version: number): T;
  write(w: Writer, v: T, version: number): void;
  size(v: T, version: number): number;
  /** A message with every field at its default. */
  create(): T;
  /** Default constructors of the message's structs, by struct name. */
  readonly structs: Record<string, () => unknown>;
  /** Key functions of structs with mapKey fields (a composite key joins its parts with U+0000). */
  readonly mapKeys: Record<string, (v: never) => unknown>;
  readonly schema: MessageSchema;
}

export function readArray<T>(
  r: Reader,
  length: number,
  version: number,
  readElement: (r: Reader, version: number) => T,
): T[] {
  if (length < 0) {
    r.fail('null array in a non-nullable field');
    return [];
  }
  const out: T[] = [];
  for (let i = 0; i < length && !r.bad; i++) out.push(readElement(r, version));
  return out;
}

export function readNullableArray<T>(
  r: Reader,
  length: number,
  version: number,
  readElement: (r: Reader, version: number) => T,
): T[] | null {
  if (length < 0) return null;
  return readArray(r, length, version, readElement);
}

export function writeArrayLength(w: Writer, length: number, flexible: boolean): void {
  if (flexible) w.uvarint(length + 1);
  else w.int32(length);
}

export function writeNullArrayLength(
  w: Writer,
  flexible: boolean,
  nullableNow: boolean,
  where: string,
  version: number,
): void {
  if (!nullableNow) throw new EncodeError(`${where} is null but is not nullable in version ${version}`);
  if (flexible) w.uvarint(0);
  else w.int32(-1);
}

export function arrayLengthSize(length: number, flexible: boolean): number {
  return flexible ? uvarintSize(length + 1) : 4;
}

export function notNull<T>(v: T | null, where: string, version: number): T {
  if (v === null) throw new EncodeError(`${where} is null but is not nullable in version ${version}`);
  return v;
}

export function fieldNotInVersion(message: string, field: string, version: number): EncodeError {
  return new EncodeError(
    `${message}.${field} is set to a non-default value but version ${version} cannot carry it`,
  );
}

/**
 * Writes unknown tagged fields from index `from` whose tag is below `belowTag`; returns the
 * next index. Tagged fields go out in ascending tag order, known and unknown interleaved.
 */
export function writeUnknownTaggedBelow(
  w: Writer,
  unknown: RawTaggedField[],
  from: number,
  belowTag: number,
): number {
  let i = from;
  while (i < unknown.length && unknown[i]!.tag < belowTag) {
    w.rawTaggedField(unknown[i]!);
    i++;
  }
  return i;
}

/**
 * Indexes array elements by their mapKey (as Kafka's generated collections do with find(key)).
 * Later duplicates do not replace earlier ones; callers that must reject duplicates compare sizes.
 */
export function indexByKey<T, K>(items: readonly T[], keyOf: (v: T) => K): Map<K, T> {
  const map = new Map<K, T>();
  for (const item of items) {
    const key = keyOf(item);
    if (!map.has(key)) map.set(key, item);
  }
  return map;
}
