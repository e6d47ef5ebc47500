/**
 * Helpers for the interop tests: fitting a "full" message value to one version, decoding
 * strictly, and comparing Samsa's frames with another client's.
 */
import assert from 'node:assert/strict';

import { decodeMessage } from '../../../../src/protocol/message.js';
import type { MessageCodec } from '../../../../src/protocol/primitives/codec.js';

type Obj = Record<string, unknown>;

function inVersions(range: [number, number], version: number): boolean {
  return version >= range[0] && version <= range[1];
}

function fitStruct(codec: MessageCodec<unknown>, structName: string, value: Obj, version: number): Obj {
  const schema = codec.schema.structs[structName];
  if (schema === undefined) throw new Error(`${codec.name} has no struct ${structName}`);
  const ctor = structName === codec.schema.root ? () => codec.create() : codec.structs[structName];
  if (ctor === undefined) throw new Error(`${codec.name} has no default constructor for ${structName}`);
  const defaults = ctor() as Obj;
  const out: Obj = { ...value };
  for (const f of schema.fields) {
    if (!inVersions(f.versions, version)) {
      out[f.name] = defaults[f.name];
      continue;
    }
    const fv = out[f.name];
    if (f.struct === undefined || fv === null || fv === undefined) continue;
    if (f.type === 'struct') out[f.name] = fitStruct(codec, f.struct, fv as Obj, version);
    else if (f.type === 'array' && Array.isArray(fv)) {
      const s = f.struct;
      out[f.name] = (fv as Obj[]).map((e) => fitStruct(codec, s, e, version));
    }
  }
  return out;
}

/**
 * Returns `value` with every field (at any depth) that `version` does not carry reset to its
 * default, which is what a decoder of that version yields for it. Lets a test describe one rich
 * value per API and derive what each version can express.
 */
export function fit<T>(codec: MessageCodec<T>, value: T, version: number): T {
  return fitStruct(codec, codec.schema.root, value as Obj, version) as T;
}

/** A struct value: the codec's defaults with some fields set. */
export function mk<T>(ctor: () => T, fields: Partial<T>): T {
  return { ...ctor(), ...fields };
}

/** Decodes `buf` with `codec` at `version`, asserting success and that every byte was consumed. */
export function decodeExact<T>(codec: MessageCodec<T>, buf: Buffer, version: number, what: string): T {
  const r = decodeMessage(codec, buf, version);
  if (!r.ok) assert.fail(`${what}: Samsa could not decode ${codec.name} v${version}: ${r.error.message}`);
  assert.equal(
    r.end,
    buf.length,
    `${what}: Samsa decoded ${r.end} of ${buf.length} bytes of ${codec.name} v${version}`,
  );
  return r.value;
}

export function concat(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Asserts two buffers are byte-equal, reporting the first differing offset. */
export function assertSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  assert.fail(
    `${what}: bytes differ at offset ${i} (lengths ${actual.length} vs ${expected.length})\n` +
      `  samsa: ${actual.subarray(Math.max(0, i - 8), i + 24).toString('hex')}\n` +
      `  other: ${expected.subarray(Math.max(0, i - 8), i + 24).toString('hex')}`,
  );
}

/** Inclusive integer range. */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v++) out.push(v);
  return out;
}

function inTaggedForm(f: { tag?: number; taggedVersions?: [number, number] }, version: number): boolean {
  if (f.tag === undefined) return false;
  return f.taggedVersions === undefined || inVersions(f.taggedVersions, version);
}

function projectStruct(
  codec: MessageCodec<unknown>,
  structName: string,
  value: Obj,
  version: number,
  uuid: (u: string) => string,
): Obj {
  const schema = codec.schema.structs[structName];
  if (schema === undefined) throw new Error(`${codec.name} has no struct ${structName}`);
  const out: Obj = {};
  for (const f of schema.fields) {
    if (!inVersions(f.versions, version) || inTaggedForm(f, version)) continue;
    const fv = value[f.name];
    if (fv === null || fv === undefined) out[f.name] = fv;
    else if (f.type === 'uuid') out[f.name] = uuid(fv as string);
    else if (f.type === 'struct' && f.struct !== undefined)
      out[f.name] = projectStruct(codec, f.struct, fv as Obj, version, uuid);
    else if (f.type === 'array' && f.struct !== undefined) {
      const s = f.struct;
      out[f.name] = (fv as Obj[]).map((e) => projectStruct(codec, s, e, version, uuid));
    } else if (f.type === 'array' && f.element === 'uuid') out[f.name] = (fv as string[]).map(uuid);
    else out[f.name] = fv;
  }
  return out;
}

/**
 * A message value as a plain object of the fields `version` carries on the wire outside tagged
 * fields, with Samsa's representation kept (bigint, Buffer) except uuids, which `uuid` converts.
 * What a client that names fields after the spec and skips tagged fields should decode.
 */
export function project<T>(
  codec: MessageCodec<T>,
  value: T,
  version: number,
  uuid: (u: string) => string,
): Obj {
  return projectStruct(codec, codec.schema.root, value as Obj, version, uuid);
}
