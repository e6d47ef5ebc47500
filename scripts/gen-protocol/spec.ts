/**
 * Reads Kafka's JSON message specs (JSON with // and /* comments) into a normalised model the
 * emitter walks: version ranges as numbers, struct types resolved (inline and common structs),
 * property names in camelCase. Only names, types, versions and defaults are kept; the specs'
 * prose ("about") is dropped.
 */
import { readFileSync } from 'node:fs';

/** Versions are int16; an open range ("3+") ends at MAX_VERSION. */
export const MAX_VERSION = 0x7fff;

export interface VersionRange {
  min: number;
  max: number;
}

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 };

export type PrimitiveType =
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
  | 'records';

export const PRIMITIVE_TYPES: readonly string[] = [
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'uuid',
  'bytes',
  'records',
];

export type FieldType =
  | { kind: 'primitive'; name: PrimitiveType }
  | { kind: 'struct'; struct: StructModel }
  | {
      kind: 'array';
      element: { kind: 'primitive'; name: PrimitiveType } | { kind: 'struct'; struct: StructModel };
    };

export interface FieldModel {
  /** PascalCase name as in the spec. */
  specName: string;
  /** camelCase property name in TypeScript. */
  prop: string;
  type: FieldType;
  versions: VersionRange;
  nullableVersions: VersionRange;
  taggedVersions: VersionRange;
  tag: number | null;
  /** A field-level override of the message's flexible versions (RequestHeader's ClientId). */
  flexibleVersions: VersionRange | null;
  /** The spec's default, as written (undefined when none). */
  defaultText: string | undefined;
  ignorable: boolean;
  mapKey: boolean;
}

export interface StructModel {
  name: string;
  fields: FieldModel[];
  /** Versions in which the struct can appear (those of the field that declares it). */
  versions: VersionRange;
}

export interface MessageModel {
  name: string;
  /** request, response, header, data, metadata, coordinator-key, coordinator-value … as in the spec. */
  type: string;
  apiKey: number | null;
  validVersions: VersionRange;
  flexibleVersions: VersionRange;
  deprecatedVersions: VersionRange;
  latestVersionUnstable: boolean;
  listeners: string[];
  root: StructModel;
  /** Every struct of the message, in order of first appearance, the root excluded. */
  structs: StructModel[];
  /** Spec file the model came from, relative to the spec folder. */
  source: string;
}

/** Strips // and /* comments outside strings. */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated /* comment');
      i = end + 2;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

export function parseVersions(text: string | undefined, what: string): VersionRange {
  if (text === undefined) throw new Error(`${what}: missing versions`);
  const t = text.trim();
  if (t === 'none') return NO_VERSIONS;
  let m = /^(\d+)\+$/.exec(t);
  if (m) return { min: Number(m[1]), max: MAX_VERSION };
  m = /^(\d+)-(\d+)$/.exec(t);
  if (m) return { min: Number(m[1]), max: Number(m[2]) };
  m = /^(\d+)$/.exec(t);
  if (m) return { min: Number(m[1]), max: Number(m[1]) };
  throw new Error(`${what}: cannot parse versions "${text}"`);
}

export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  const min = Math.max(a.min, b.min);
  const max = Math.min(a.max, b.max);
  return min > max ? NO_VERSIONS : { min, max };
}

export function isEmpty(r: VersionRange): boolean {
  return r.min > r.max;
}

export function contains(r: VersionRange, v: number): boolean {
  return v >= r.min && v <= r.max;
}

/** Whether `inner` covers every version of `outer` (so a runtime check is not needed). */
export function covers(inner: VersionRange, outer: VersionRange): boolean {
  return isEmpty(outer) || (inner.min <= outer.min && inner.max >= outer.max);
}

export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number | string;
  flexibleVersions?: string;
  default?: string | number | boolean | null;
  ignorable?: boolean;
  mapKey?: boolean;
  fields?: RawField[];
}

interface RawMessage {
  name: string;
  type: string;
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  deprecatedVersions?: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
}

export function loadMessage(path: string, source: string): MessageModel {
  const raw = JSON.parse(stripJsonComments(readFileSync(path, 'utf8'))) as RawMessage;
  const where = source;
  const validVersions = parseVersions(raw.validVersions, `${where} validVersions`);
  const flexibleVersions = intersect(
    parseVersions(raw.flexibleVersions, `${where} flexibleVersions`),
    validVersions,
  );
  const structsByName = new Map<string, StructModel>();
  const structs: StructModel[] = [];

  // Common structs are declared up front so fields anywhere can refer to them by name.
  const pendingCommon: { model: StructModel; fields: RawField[] }[] = [];
  for (const cs of raw.commonStructs ?? []) {
    const model: StructModel = {
      name: cs.name,
      fields: [],
      versions:
        cs.versions === undefined
          ? validVersions
          : intersect(parseVersions(cs.versions, cs.name), validVersions),
    };
    structsByName.set(cs.name, model);
    structs.push(model);
    pendingCommon.push({ model, fields: cs.fields });
  }

  const toField = (f: RawField, parentVersions: VersionRange, path: string): FieldModel => {
    const fieldWhere = `${where} ${path}.${f.name}`;
    // A tagged field may omit versions: it then exists exactly in its tagged versions.
    const versions = intersect(parseVersions(f.versions ?? f.taggedVersions, fieldWhere), parentVersions);
    const nullableVersions =
      f.nullableVersions === undefined
        ? NO_VERSIONS
        : intersect(parseVersions(f.nullableVersions, fieldWhere), versions);
    const taggedVersions =
      f.taggedVersions === undefined
        ? NO_VERSIONS
        : intersect(parseVersions(f.taggedVersions, fieldWhere), versions);
    if ((f.tag === undefined) !== (f.taggedVersions === undefined)) {
      throw new Error(`${fieldWhere}: tag and taggedVersions go together`);
    }
    const flexible = f.flexibleVersions === undefined ? null : parseVersions(f.flexibleVersions, fieldWhere);
    let type: FieldType;
    const isArray = f.type.startsWith('[]');
    const base = isArray ? f.type.slice(2) : f.type;
    if (PRIMITIVE_TYPES.includes(base)) {
      if (f.fields !== undefined) throw new Error(`${fieldWhere}: primitive type with fields`);
      const prim = { kind: 'primitive' as const, name: base as PrimitiveType };
      type = isArray ? { kind: 'array', element: prim } : prim;
    } else {
      let struct = structsByName.get(base);
      if (f.fields !== undefined) {
        if (struct !== undefined) throw new Error(`${fieldWhere}: struct ${base} defined twice`);
        struct = { name: base, fields: [], versions };
        structsByName.set(base, struct);
        structs.push(struct);
        struct.fields = f.fields.map((sf) => toField(sf, versions, `${path}.${f.name}`));
      } else if (struct === undefined) {
        throw new Error(`${fieldWhere}: unknown type ${f.type}`);
      }
      const s = { kind: 'struct' as const, struct };
      type = isArray ? { kind: 'array', element: s } : s;
    }
    return {
      specName: f.name,
      prop: camelCase(f.name),
      type,
      versions,
      nullableVersions,
      taggedVersions,
      tag: f.tag === undefined ? null : parseTag(f.tag, fieldWhere),
      flexibleVersions: flexible,
      defaultText: f.default === undefined ? undefined : String(f.default),
      ignorable: f.ignorable ?? false,
      mapKey: f.mapKey ?? false,
    };
  };

  for (const { model, fields } of pendingCommon) {
    model.fields = fields.map((f) => toField(f, model.versions, model.name));
  }
  const root: StructModel = {
    name: raw.name,
    fields: raw.fields.map((f) => toField(f, validVersions, raw.name)),
    versions: validVersions,
  };
  // Common structs may only be reached from fields present in some versions; keep the declared ranges.
  return {
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey ?? null,
    validVersions,
    flexibleVersions,
    deprecatedVersions:
      raw.deprecatedVersions === undefined
        ? NO_VERSIONS
        : parseVersions(raw.deprecatedVersions, `${where} deprecated`),
    latestVersionUnstable: raw.latestVersionUnstable ?? false,
    listeners: raw.listeners ?? [],
    root,
    structs,
    source,
  };
}

/** Tags are written as numbers or, in a few specs, as strings of digits. */
function parseTag(tag: number | string, where: string): number {
  const n = Number(tag);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: bad tag ${String(tag)}`);
  return n;
}
