/**
 * Test support: a seeded PRNG, the list of every generated codec, the schema's defaults computed
 * independently of the generated code, and random message values built from a codec's schema for
 * one version (fields absent in that version hold their default).
 */
import * as generated from '../../../src/protocol/generated/index.js';
import type { FieldSchema, MessageCodec, StructSchema } from '../../../src/protocol/primitives/codec.js';
import type { RawTaggedField } from '../../../src/protocol/primitives/reader.js';
import { ZERO_UUID } from '../../../src/protocol/primitives/uuid.js';

export type AnyCodec = MessageCodec<unknown>;
export type Obj = Record<string, unknown>;

// ------------------------------------------------------------------ PRNG

/** sfc32: small, fast, seedable; good enough to drive test generators. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** A uniformly random uint32. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 0x100000000;
  }

  /** An integer in [min, max] (inclusive); exact for ranges up to 2^53. */
  int(min: number, max: number): number {
    const span = max - min + 1;
    if (span <= 0x100000000) return min + Math.floor(this.float() * span);
    return min + Math.floor((this.u32() * 0x100000000 + this.u32()) % span);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** A random int64 as a bigint. */
  int64(): bigint {
    return BigInt.asIntN(64, (BigInt(this.u32()) << 32n) | BigInt(this.u32()));
  }
}

/** A base seed: from env `name` when set (to reproduce a failure), else the fixed default. */
export function seedFromEnv(name: string, fallback: number): number {
  const s = process.env[name];
  if (s === undefined || s === '') return fallback;
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got ${s}`);
  return n >>> 0;
}

/** A per-case seed derived from a base seed and a label (stable across runs and platforms). */
export function caseSeed(base: number, label: string): number {
  let h = (base ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// ------------------------------------------------------------------ codecs

export function isCodec(x: unknown): x is AnyCodec {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Partial<AnyCodec>;
  return (
    typeof c.name === 'string' &&
    typeof c.read === 'function' &&
    typeof c.write === 'function' &&
    typeof c.size === 'function' &&
    typeof c.create === 'function' &&
    typeof c.minVersion === 'number' &&
    typeof c.maxVersion === 'number' &&
    typeof c.schema === 'object' &&
    c.schema !== null
  );
}

/** Every codec exported by src/protocol/generated/index.ts, sorted by name. */
export function allCodecs(): AnyCodec[] {
  const out: AnyCodec[] = [];
  for (const v of Object.values(generated as Record<string, unknown>)) if (isCodec(v)) out.push(v);
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

export function versionsOf(codec: AnyCodec): number[] {
  const out: number[] = [];
  for (let v = codec.minVersion; v <= codec.maxVersion; v++) out.push(v);
  return out;
}

export function inRange(r: [number, number] | undefined | null, v: number): boolean {
  return r !== undefined && r !== null && v >= r[0] && v <= r[1];
}

export function isFlexible(codec: AnyCodec, version: number): boolean {
  return inRange(codec.schema.flexibleVersions, version);
}

export function structSchema(codec: AnyCodec, name: string): StructSchema {
  const s = codec.schema.structs[name];
  if (s === undefined) throw new Error(`${codec.name}: no struct ${name} in the schema`);
  return s;
}

/** Whether the field is carried by `version` at all (as a regular or a tagged field). */
export function presentIn(f: FieldSchema, version: number): boolean {
  return inRange(f.versions, version);
}

export function taggedIn(f: FieldSchema, version: number): boolean {
  return f.tag !== undefined && inRange(f.taggedVersions, version);
}

export function nullableIn(f: FieldSchema, version: number): boolean {
  return inRange(f.nullableVersions, version);
}

/** Whether the field's TypeScript type admits null (nullable in some version). */
export function nullableType(f: FieldSchema): boolean {
  return f.nullableVersions !== undefined && f.nullableVersions[0] <= f.nullableVersions[1];
}

// ------------------------------------------------------------------ defaults

const EMPTY = Buffer.alloc(0);

/**
 * A field's default, from the schema alone (mirrors defaultExpr in scripts/gen-protocol/emit-message.ts):
 * the generated readers must agree with it for absent fields to round-trip.
 */
export function fieldDefault(codec: AnyCodec, f: FieldSchema): unknown {
  const d = f.default;
  if (d === 'null') return null;
  switch (f.type) {
    case 'array':
      return [];
    case 'struct':
      return structDefault(codec, f.struct!);
    case 'bool':
      return d === 'true';
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
      return d === undefined || d === '' ? 0 : Number(d);
    case 'int64':
      return d === undefined || d === '' ? 0n : BigInt(d);
    case 'float64':
      return d === undefined || d === '' ? 0 : Number(d);
    case 'string':
      return d ?? '';
    case 'uuid':
      return ZERO_UUID;
    case 'bytes':
      return EMPTY;
    case 'records':
      return nullableType(f) ? null : EMPTY;
  }
}

/** A struct's default object, from the schema (every field at its default). */
export function structDefault(codec: AnyCodec, name: string): Obj {
  const o: Obj = {};
  for (const f of structSchema(codec, name).fields) o[f.name] = fieldDefault(codec, f);
  o['unknownTaggedFields'] = undefined;
  return o;
}

// ------------------------------------------------------------------ random values

export interface RandomOptions {
  /** Probability that a struct in a flexible version gets unknown tagged fields. */
  unknownTagged?: number;
  /** Probability that a present field takes its default value (so tagged fields are sometimes left out). */
  useDefault?: number;
  /** Probability of a null where the version allows one. */
  nullChance?: number;
  /** Probability that a bytes/records/string value is large (a few KiB). */
  large?: number;
  maxArray?: number;
}

const DEFAULTS: Required<RandomOptions> = {
  unknownTagged: 0.3,
  useDefault: 0.15,
  nullChance: 0.2,
  large: 0.02,
  maxArray: 3,
};

/** Code points of 1, 2, 3 and 4 UTF-8 bytes (no lone surrogates: they do not survive UTF-8). */
const CHARS = [
  'a',
  'Z',
  '0',
  ' ',
  '-',
  '.',
  '\u0000',
  '\u007f',
  'é',
  'ß',
  'ж',
  '\u07ff',
  '€',
  '日',
  '\u0800',
  '\uffff',
  '😀',
  '𝄞',
  '\u{10ffff}',
];

export const INT_RANGES = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
} as const;

const FLOAT_EDGES = [
  0,
  -0,
  1,
  -1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  Number.MAX_SAFE_INTEGER,
];

export function randomString(rng: Rng, large: number): string {
  if (rng.chance(large)) {
    // Long but within an int16 length in UTF-8 bytes, up to the limit exactly.
    const c = rng.pick(['x', 'é', '€', '😀']);
    const bytes = Buffer.byteLength(c);
    const maxChars = Math.floor(0x7fff / bytes);
    return c.repeat(rng.chance(0.5) ? maxChars : rng.int(100, maxChars));
  }
  const n = rng.int(0, 12);
  let s = '';
  for (let i = 0; i < n; i++)
    s += rng.chance(0.6) ? String.fromCharCode(rng.int(0x20, 0x7e)) : rng.pick(CHARS);
  return s;
}

export function randomUuid(rng: Rng): string {
  return rng.bytes(16).toString('base64url');
}

export function randomInt(rng: Rng, type: keyof typeof INT_RANGES): number {
  const [min, max] = INT_RANGES[type];
  if (rng.chance(0.3)) return rng.pick([min, max, 0, 1, type.startsWith('u') ? max - 1 : -1]);
  if (rng.chance(0.5)) return rng.int(Math.max(min, -1000), Math.min(max, 1000));
  return rng.int(min, max);
}

export function randomInt64(rng: Rng): bigint {
  if (rng.chance(0.3)) return rng.pick([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 1n, 2n ** 53n + 1n]);
  if (rng.chance(0.3)) return BigInt(rng.int(-1000, 1000));
  return rng.int64();
}

export function randomFloat64(rng: Rng): number {
  if (rng.chance(0.4)) return rng.pick(FLOAT_EDGES);
  if (rng.chance(0.5)) return (rng.float() - 0.5) * 10 ** rng.int(-10, 10);
  return rng.bytes(8).readDoubleBE(0);
}

function randomBytes(rng: Rng, large: number): Buffer {
  if (rng.chance(large)) return rng.bytes(rng.int(1024, 4096));
  return rng.bytes(rng.int(0, 16));
}

export class MessageGenerator {
  private readonly opts: Required<RandomOptions>;

  constructor(
    private readonly codec: AnyCodec,
    private readonly version: number,
    private readonly rng: Rng,
    opts: RandomOptions = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  message(): Obj {
    return this.struct(this.codec.schema.root);
  }

  struct(name: string): Obj {
    const s = structSchema(this.codec, name);
    const o: Obj = {};
    for (const f of s.fields) o[f.name] = this.field(f);
    o['unknownTaggedFields'] = this.unknownTagged(s);
    return o;
  }

  /** A random value for a field in this version, or its default when the version does not carry it. */
  field(f: FieldSchema): unknown {
    if (!presentIn(f, this.version)) return fieldDefault(this.codec, f);
    if (this.rng.chance(this.opts.useDefault)) {
      const d = fieldDefault(this.codec, f);
      // A default of null is only valid where the version makes the field nullable.
      if (d !== null || nullableIn(f, this.version)) return d;
    }
    if (nullableIn(f, this.version) && this.rng.chance(this.opts.nullChance)) return null;
    return this.value(f);
  }

  /** A random non-null value of the field's type (as carried in this version). */
  value(f: FieldSchema): unknown {
    if (f.type === 'array') {
      const n = this.rng.int(0, this.opts.maxArray);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(this.element(f));
      return out;
    }
    if (f.type === 'struct') return this.struct(f.struct!);
    return this.primitive(f.type);
  }

  /** A random element of an array field. */
  element(f: FieldSchema): unknown {
    return f.element === 'struct' ? this.struct(f.struct!) : this.primitive(f.element!);
  }

  primitive(type: FieldSchema['type']): unknown {
    const rng = this.rng;
    switch (type) {
      case 'bool':
        return rng.chance(0.5);
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
        return randomInt(rng, type);
      case 'int64':
        return randomInt64(rng);
      case 'float64':
        return randomFloat64(rng);
      case 'string':
        return randomString(rng, this.opts.large);
      case 'uuid':
        return rng.chance(0.1) ? ZERO_UUID : randomUuid(rng);
      case 'bytes':
      case 'records':
        return randomBytes(rng, this.opts.large);
      case 'struct':
      case 'array':
        throw new Error(`not a primitive: ${type}`);
    }
  }

  /** Unknown tagged fields for a struct in a flexible version: tags no known field of the struct uses, ascending. */
  private unknownTagged(s: StructSchema): RawTaggedField[] | undefined {
    if (!isFlexible(this.codec, this.version) || !this.rng.chance(this.opts.unknownTagged)) return undefined;
    const known = new Set(s.fields.filter((f) => f.tag !== undefined).map((f) => f.tag!));
    const tags = new Set<number>();
    const n = this.rng.int(1, 3);
    while (tags.size < n) {
      const tag = this.rng.chance(0.7) ? this.rng.int(0, 40) : this.rng.int(0, 0x7fffffff);
      if (!known.has(tag)) tags.add(tag);
    }
    return [...tags]
      .sort((a, b) => a - b)
      .map((tag) => ({
        tag,
        data: this.rng.bytes(this.rng.chance(0.05) ? this.rng.int(128, 300) : this.rng.int(0, 8)),
      }));
  }
}

export function randomMessage(codec: AnyCodec, version: number, rng: Rng, opts: RandomOptions = {}): Obj {
  return new MessageGenerator(codec, version, rng, opts).message();
}

// ------------------------------------------------------------------ inspection

/** Counts of what a decoded value holds, to check that decoding N bytes cannot produce more than N of anything. */
export interface Census {
  arrays: number;
  arrayElements: number;
  longestArray: number;
  longestBuffer: number;
  longestString: number;
  objects: number;
}

export function census(value: unknown): Census {
  const c: Census = {
    arrays: 0,
    arrayElements: 0,
    longestArray: 0,
    longestBuffer: 0,
    longestString: 0,
    objects: 0,
  };
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') c.longestString = Math.max(c.longestString, v.length);
    else if (Buffer.isBuffer(v)) c.longestBuffer = Math.max(c.longestBuffer, v.length);
    else if (Array.isArray(v)) {
      c.arrays++;
      c.arrayElements += v.length;
      c.longestArray = Math.max(c.longestArray, v.length);
      for (const e of v as unknown[]) stack.push(e);
    } else if (typeof v === 'object' && v !== null) {
      c.objects++;
      for (const e of Object.values(v)) stack.push(e);
    }
  }
  return c;
}

/** Describes a value for failure messages (bigints and buffers made printable, long data cut). */
export function show(value: unknown, max = 2000): string {
  const s = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer') {
      const data = (v as { data: number[] }).data;
      return `<Buffer ${data.length}: ${Buffer.from(data.slice(0, 32)).toString('hex')}${data.length > 32 ? '…' : ''}>`;
    }
    return v;
  });
  return s.length > max ? s.slice(0, max) + '…' : s;
}

export function hex(b: Buffer, max = 256): string {
  return b.length > max ? b.subarray(0, max).toString('hex') + `… (${b.length} bytes)` : b.toString('hex');
}
