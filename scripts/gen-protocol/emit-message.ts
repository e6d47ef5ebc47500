/**
 * Emits one TypeScript module per spec message: the message type (with its structs in a
 * namespace of the same name), straight-line read/write/size functions with version gates,
 * default constructors, and a schema descriptor that tests use to build random messages.
 */
import {
  covers,
  intersect,
  isEmpty,
  MAX_VERSION,
  type FieldModel,
  type FieldType,
  type MessageModel,
  type PrimitiveType,
  type StructModel,
  type VersionRange,
} from './spec.js';

/** A boolean JavaScript expression for "version is in `range`", simplified by what `ctx` already implies. */
function versionCond(range: VersionRange, ctx: VersionRange): string {
  const r = intersect(range, ctx);
  if (isEmpty(r)) return 'false';
  if (covers(r, ctx)) return 'true';
  const parts: string[] = [];
  if (r.min > ctx.min) parts.push(`version >= ${r.min}`);
  if (r.max < ctx.max) parts.push(`version <= ${r.max}`);
  return parts.join(' && ');
}

function not(cond: string): string {
  if (cond === 'true') return 'false';
  if (cond === 'false') return 'true';
  return `!(${cond})`;
}

function and(a: string, b: string): string {
  if (a === 'false' || b === 'false') return 'false';
  if (a === 'true') return b;
  if (b === 'true') return a;
  return `${a} && ${b}`;
}

/** `cond ? a : b`, folded when cond is static. */
function choose(cond: string, a: string, b: string): string {
  if (cond === 'true') return a;
  if (cond === 'false') return b;
  if (a === b) return a;
  return `(${cond} ? ${a} : ${b})`;
}

const FIXED_SIZES: Partial<Record<PrimitiveType, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};

class Emitter {
  private readonly out: string[] = [];
  private indentLevel = 0;

  line(text = ''): void {
    this.out.push(text === '' ? '' : '  '.repeat(this.indentLevel) + text);
  }

  open(text: string): void {
    this.line(text);
    this.indentLevel++;
  }

  close(text = '}'): void {
    this.indentLevel--;
    this.line(text);
  }

  text(): string {
    return this.out.join('\n') + '\n';
  }
}

export class MessageEmitter {
  private readonly e = new Emitter();
  private readonly m: MessageModel;
  /** Whether the message has any flexible version at all. */
  private readonly hasFlexible: boolean;

  constructor(m: MessageModel) {
    this.m = m;
    this.hasFlexible = !isEmpty(m.flexibleVersions);
  }

  private typeName(s: StructModel): string {
    return s === this.m.root ? this.m.name : `${this.m.name}.${s.name}`;
  }

  private allStructs(): StructModel[] {
    return [this.m.root, ...this.m.structs];
  }

  private tsType(f: FieldModel): string {
    const nullable = !isEmpty(f.nullableVersions);
    const base = this.tsBaseType(f.type);
    return nullable ? `${base} | null` : base;
  }

  private tsBaseType(t: FieldType): string {
    switch (t.kind) {
      case 'primitive':
        return tsPrimitive(t.name);
      case 'struct':
        return this.typeName(t.struct);
      case 'array': {
        const el =
          t.element.kind === 'primitive' ? tsPrimitive(t.element.name) : this.typeName(t.element.struct);
        return `${el}[]`;
      }
    }
  }

  // ---------------------------------------------------------------- defaults

  /** The default value of a field as an expression (fresh objects for arrays and structs). */
  private defaultExpr(f: FieldModel): string {
    const d = f.defaultText;
    const nullableAlways = !isEmpty(f.nullableVersions);
    if (d === 'null') {
      if (!nullableAlways)
        throw new Error(`${this.m.name}.${f.specName}: default null on a non-nullable field`);
      return 'null';
    }
    const t = f.type;
    switch (t.kind) {
      case 'array':
        return '[]';
      case 'struct':
        return `default${t.struct.name}()`;
      case 'primitive':
        // Kafka defaults records to null; a records field that is never nullable gets empty bytes.
        if (t.name === 'records' && !nullableAlways) return 'sz.EMPTY_BYTES';
        return primitiveDefault(t.name, d, `${this.m.name}.${f.specName}`);
    }
  }

  /** An expression true when `v` equals the field's default. */
  private isDefaultExpr(f: FieldModel, v: string): string {
    const d = this.defaultExpr(f);
    const nullable = !isEmpty(f.nullableVersions);
    const t = f.type;
    if (d === 'null') return `${v} === null`;
    switch (t.kind) {
      case 'array':
        return nullable ? `(${v} !== null && ${v}.length === 0)` : `${v}.length === 0`;
      case 'struct':
        return nullable
          ? `(${v} !== null && isDefault${t.struct.name}(${v}))`
          : `isDefault${t.struct.name}(${v})`;
      case 'primitive':
        if (t.name === 'bytes' || (t.name === 'records' && !nullable))
          return nullable ? `(${v} !== null && ${v}.length === 0)` : `${v}.length === 0`;
        if (t.name === 'float64') return `Object.is(${v}, ${d})`;
        return `${v} === ${d}`;
    }
  }

  // ---------------------------------------------------------------- field classification

  private flexCond(f: FieldModel, ctx: VersionRange): string {
    if (f.flexibleVersions !== null)
      return versionCond(intersect(f.flexibleVersions, this.m.flexibleVersions), ctx);
    return this.hasFlexible ? 'flexible' : 'false';
  }

  /** Versions in which the field is written in the ordinary field sequence (not as a tagged field). */
  private regularVersions(f: FieldModel): VersionRange {
    if (isEmpty(f.taggedVersions)) return f.versions;
    if (f.taggedVersions.max !== MAX_VERSION && f.taggedVersions.max < f.versions.max) {
      throw new Error(`${this.m.name}.${f.specName}: taggedVersions must be open-ended`);
    }
    return intersect(f.versions, { min: 0, max: f.taggedVersions.min - 1 });
  }

  // ---------------------------------------------------------------- read

  private readExpr(t: FieldType, f: FieldModel, flex: string, nullable: string, ctx: VersionRange): string {
    switch (t.kind) {
      case 'primitive':
        return readPrimitive(t.name, flex, nullable);
      case 'struct': {
        const read = `read${t.struct.name}(r, version)`;
        if (nullable === 'false') return read;
        return choose(nullable, `(r.int8() < 0 ? null : ${read})`, read);
      }
      case 'array': {
        const len = choose(flex, 'r.compactArrayLength()', 'r.arrayLength()');
        const elem =
          t.element.kind === 'struct'
            ? `read${t.element.struct.name}`
            : elementReader(t.element.name, flex, `${this.m.name}.${f.specName}`, ctx);
        const nonNull = `readArray(r, ${len}, version, ${elem})`;
        if (nullable === 'false') return nonNull;
        return choose(nullable, `readNullableArray(r, ${len}, version, ${elem})`, nonNull);
      }
    }
  }

  /** Reads of a tagged field: compact encodings always; a nullable struct has a varint marker. */
  private readTaggedExpr(f: FieldModel, ctx: VersionRange): string {
    const nullable = versionCond(f.nullableVersions, ctx);
    if (f.type.kind === 'struct' && nullable !== 'false') {
      const read = `read${f.type.struct.name}(r, version)`;
      return choose(nullable, `(r.uvarint() === 0 ? null : ${read})`, read);
    }
    return this.readExpr(f.type, f, 'true', nullable, ctx);
  }

  private emitRead(s: StructModel): void {
    const e = this.e;
    const ctx = s === this.m.root ? this.m.validVersions : s.versions;
    e.open(`function read${s.name}(r: Reader, version: number): ${this.typeName(s)} {`);
    if (this.hasFlexible) e.line(`const flexible = ${versionCond(this.m.flexibleVersions, ctx)};`);
    e.open(`const o: ${this.typeName(s)} = {`);
    for (const f of s.fields) {
      const regular = versionCond(this.regularVersions(f), ctx);
      // Inside the field's own versions, conditions that those versions already imply fold away.
      const fctx = intersect(this.regularVersions(f), ctx);
      const flex = this.flexCond(f, fctx);
      const nullable = versionCond(f.nullableVersions, fctx);
      const read = regular === 'false' ? '' : this.readExpr(f.type, f, flex, nullable, fctx);
      e.line(`${f.prop}: ${choose(regular, read, this.defaultExpr(f))},`);
    }
    e.line('unknownTaggedFields: undefined,');
    e.close('};');
    if (this.hasFlexible) {
      const tagged = s.fields.filter((f) => f.tag !== null && !isEmpty(intersect(f.taggedVersions, ctx)));
      e.open('if (flexible) {');
      e.line('const count = r.taggedFieldCount();');
      e.open('for (let i = 0; i < count; i++) {');
      e.line('const tag = r.uvarint();');
      e.line('const size = r.uvarint();');
      e.line('const end = r.taggedFieldEnd(size);');
      e.line('if (end < 0) break;');
      const unknownPush = '(o.unknownTaggedFields ??= []).push({ tag, data: r.raw(size) });';
      tagged.forEach((f, i) => {
        const cond = and(`tag === ${f.tag}`, versionCond(f.taggedVersions, ctx));
        e.line(`${i === 0 ? '' : '} else '}if (${cond}) {`);
        e.line(`  o.${f.prop} = ${this.readTaggedExpr(f, intersect(f.taggedVersions, ctx))};`);
        e.line('  r.endTaggedField(end);');
      });
      if (tagged.length === 0) e.line(unknownPush);
      else {
        e.line('} else {');
        e.line(`  ${unknownPush}`);
        e.line('}');
      }
      e.close();
      e.close();
    }
    e.line('return o;');
    e.close();
    e.line();
  }

  // ---------------------------------------------------------------- write

  private writeStmts(t: FieldType, f: FieldModel, v: string, flex: string, nullable: string): string[] {
    const where = `'${this.m.name}.${f.specName}'`;
    const typeNullable = !isEmpty(f.nullableVersions);
    const nonNull = typeNullable ? `notNull(${v}, ${where}, version)` : v;
    switch (t.kind) {
      case 'primitive':
        return [writePrimitive(t.name, v, flex, nullable, nonNull)];
      case 'struct': {
        const writeNonNull = `write${t.struct.name}(w, ${nonNull}, version);`;
        if (!typeNullable || nullable === 'false') return [writeNonNull];
        const nullableWrite = [
          `if (${v} === null) w.int8(-1);`,
          `else {`,
          `  w.int8(1);`,
          `  write${t.struct.name}(w, ${v}, version);`,
          `}`,
        ];
        if (nullable === 'true') return nullableWrite;
        return [`if (${nullable}) {`, ...nullableWrite.map((l) => '  ' + l), `} else ${writeNonNull}`];
      }
      case 'array': {
        const arr = typeNullable ? 'a' : v;
        const elemWrite =
          t.element.kind === 'struct'
            ? `for (const e of ${arr}) write${t.element.struct.name}(w, e, version);`
            : `for (const e of ${arr}) ${writePrimitive(t.element.name, 'e', flex, 'false', 'e')}`;
        if (!typeNullable) return [`writeArrayLength(w, ${v}.length, ${flex});`, elemWrite];
        return [
          `{`,
          `  const a = ${v};`,
          `  if (a === null) writeNullArrayLength(w, ${flex}, ${nullable}, ${where}, version);`,
          `  else {`,
          `    writeArrayLength(w, a.length, ${flex});`,
          `    ${elemWrite}`,
          `  }`,
          `}`,
        ];
      }
    }
  }

  private writeTaggedStmts(f: FieldModel, v: string, ctx: VersionRange): string[] {
    const nullable = versionCond(f.nullableVersions, ctx);
    if (f.type.kind === 'struct' && nullable !== 'false') {
      const write = `write${f.type.struct.name}(w, ${v}, version);`;
      return [`if (${v} === null) w.uvarint(0);`, `else {`, `  w.uvarint(1);`, `  ${write}`, `}`];
    }
    return this.writeStmts(f.type, f, v, 'true', nullable);
  }

  private emitWrite(s: StructModel): void {
    const e = this.e;
    const ctx = s === this.m.root ? this.m.validVersions : s.versions;
    e.open(`function write${s.name}(w: Writer, v: ${this.typeName(s)}, version: number): void {`);
    if (this.hasFlexible) e.line(`const flexible = ${versionCond(this.m.flexibleVersions, ctx)};`);
    for (const f of s.fields) {
      const regular = versionCond(this.regularVersions(f), ctx);
      const absent = not(versionCond(f.versions, ctx));
      const fctx = intersect(this.regularVersions(f), ctx);
      const flex = this.flexCond(f, fctx);
      const nullable = versionCond(f.nullableVersions, fctx);
      const v = `v.${f.prop}`;
      if (regular !== 'false') {
        const stmts = this.writeStmts(f.type, f, v, flex, nullable);
        if (regular === 'true') stmts.forEach((l) => e.line(l));
        else {
          e.open(`if (${regular}) {`);
          stmts.forEach((l) => e.line(l));
          e.close();
        }
      }
      if (absent !== 'false' && !f.ignorable) {
        e.line(
          `if (${and(absent, `!(${this.isDefaultExpr(f, v)})`)}) throw fieldNotInVersion('${this.m.name}', '${f.specName}', version);`,
        );
      }
    }
    if (this.hasFlexible) {
      const tagged = s.fields.filter((f) => f.tag !== null && !isEmpty(intersect(f.taggedVersions, ctx)));
      tagged.sort((a, b) => a.tag! - b.tag!);
      e.open('if (flexible) {');
      e.line('const unknown = v.unknownTaggedFields;');
      e.line(`${tagged.length > 0 ? 'let' : 'const'} count = unknown === undefined ? 0 : unknown.length;`);
      tagged.forEach((f, i) => {
        e.line(
          `const has${i} = ${and(versionCond(f.taggedVersions, ctx), `!(${this.isDefaultExpr(f, `v.${f.prop}`)})`)};`,
        );
        e.line(`if (has${i}) count++;`);
      });
      e.line('w.uvarint(count);');
      if (tagged.length > 0) e.line('let u = 0;');
      tagged.forEach((f, i) => {
        e.open(`if (has${i}) {`);
        e.line(`if (unknown !== undefined) u = writeUnknownTaggedBelow(w, unknown, u, ${f.tag});`);
        e.line(`w.uvarint(${f.tag});`);
        e.line('let n = 0;');
        this.sizeStmts(f, `v.${f.prop}`, intersect(f.taggedVersions, ctx), true).forEach((l) => e.line(l));
        e.line('w.uvarint(n);');
        this.writeTaggedStmts(f, `v.${f.prop}`, intersect(f.taggedVersions, ctx)).forEach((l) => e.line(l));
        e.close();
      });
      e.line(
        `if (unknown !== undefined) writeUnknownTaggedBelow(w, unknown, ${tagged.length > 0 ? 'u' : '0'}, Infinity);`,
      );
      e.close();
    }
    e.close();
    e.line();
  }

  // ---------------------------------------------------------------- size

  /** Statements that add the encoded size of the field's value `v` to a local `n`. */
  private sizeStmts(f: FieldModel, v: string, ctx: VersionRange, tagged: boolean): string[] {
    const flex = tagged ? 'true' : this.flexCond(f, ctx);
    // Sizes only need to know whether the value can be null; writing null where a version forbids it throws.
    const nullable = isEmpty(f.nullableVersions) ? 'false' : 'true';
    const t = f.type;
    switch (t.kind) {
      case 'primitive':
        return [`n += ${sizePrimitive(t.name, v, flex, nullable)};`];
      case 'struct': {
        // Nullable structs carry a one-byte presence marker, in the versions where they are nullable.
        if (nullable === 'false') return [`n += size${t.struct.name}(${v}, version);`];
        const marker = versionCond(f.nullableVersions, ctx);
        const nn = `notNull(${v}, '${this.m.name}.${f.specName}', version)`;
        const withMarker = `(${v} === null ? 1 : 1 + size${t.struct.name}(${v}, version))`;
        return [`n += ${choose(marker, withMarker, `size${t.struct.name}(${nn}, version)`)};`];
      }
      case 'array': {
        const lines: string[] = [];
        const arr = nullable === 'false' ? v : 'a';
        let elems: string;
        if (t.element.kind === 'struct') {
          elems = `for (const e of ${arr}) n += size${t.element.struct.name}(e, version);`;
        } else {
          const fixed = FIXED_SIZES[t.element.name];
          elems =
            fixed !== undefined
              ? `n += ${arr}.length * ${fixed};`
              : `for (const e of ${arr}) n += ${sizePrimitive(t.element.name, 'e', flex, 'false')};`;
        }
        if (nullable === 'false') {
          lines.push(`n += arrayLengthSize(${v}.length, ${flex});`);
          lines.push(elems);
          return lines;
        }
        lines.push(`{`);
        lines.push(`  const a = ${v};`);
        lines.push(`  if (a === null) n += ${choose(flex, '1', '4')};`);
        lines.push(`  else {`);
        lines.push(`    n += arrayLengthSize(a.length, ${flex});`);
        lines.push(`    ${elems}`);
        lines.push(`  }`);
        lines.push(`}`);
        return lines;
      }
    }
  }

  private emitSize(s: StructModel): void {
    const e = this.e;
    const ctx = s === this.m.root ? this.m.validVersions : s.versions;
    e.open(`function size${s.name}(v: ${this.typeName(s)}, version: number): number {`);
    if (this.hasFlexible) e.line(`const flexible = ${versionCond(this.m.flexibleVersions, ctx)};`);
    e.line('let n = 0;');
    for (const f of s.fields) {
      const regular = versionCond(this.regularVersions(f), ctx);
      if (regular === 'false') continue;
      const stmts = this.sizeStmts(f, `v.${f.prop}`, intersect(this.regularVersions(f), ctx), false);
      if (regular === 'true') stmts.forEach((l) => e.line(l));
      else {
        e.open(`if (${regular}) {`);
        stmts.forEach((l) => e.line(l));
        e.close();
      }
    }
    if (this.hasFlexible) {
      const tagged = s.fields.filter((f) => f.tag !== null && !isEmpty(intersect(f.taggedVersions, ctx)));
      e.open('if (flexible) {');
      e.line('const unknown = v.unknownTaggedFields;');
      e.line('let count = 0;');
      e.open('if (unknown !== undefined) {');
      e.line('count += unknown.length;');
      e.line(
        'for (const t of unknown) n += uvarintSize(t.tag) + uvarintSize(t.data.length) + t.data.length;',
      );
      e.close();
      for (const f of tagged) {
        const has = and(versionCond(f.taggedVersions, ctx), `!(${this.isDefaultExpr(f, `v.${f.prop}`)})`);
        e.open(`if (${has}) {`);
        e.line('const outer = n;');
        e.line('n = 0;');
        // A nullable tagged struct carries a varint presence marker instead of an int8 one; same size.
        this.sizeStmts(f, `v.${f.prop}`, intersect(f.taggedVersions, ctx), true).forEach((l) => e.line(l));
        e.line(`n = outer + uvarintSize(${f.tag}) + uvarintSize(n) + n;`);
        e.line('count++;');
        e.close();
      }
      e.line('n += uvarintSize(count);');
      e.close();
    }
    e.line('return n;');
    e.close();
    e.line();
  }

  // ---------------------------------------------------------------- defaults and equality

  private emitDefault(s: StructModel): void {
    const e = this.e;
    e.open(`function default${s.name}(): ${this.typeName(s)} {`);
    e.open('return {');
    for (const f of s.fields) e.line(`${f.prop}: ${this.defaultExpr(f)},`);
    e.line('unknownTaggedFields: undefined,');
    e.close('};');
    e.close();
    e.line();
  }

  private emitIsDefault(s: StructModel): void {
    const e = this.e;
    e.open(`function isDefault${s.name}(v: ${this.typeName(s)}): boolean {`);
    const conds = s.fields.map((f) => this.isDefaultExpr(f, `v.${f.prop}`));
    conds.push('(v.unknownTaggedFields === undefined || v.unknownTaggedFields.length === 0)');
    e.line(`return (`);
    conds.forEach((c, i) => e.line(`  ${c}${i < conds.length - 1 ? ' &&' : ''}`));
    e.line(');');
    e.close();
    e.line();
  }

  // ---------------------------------------------------------------- types

  private emitInterface(s: StructModel, exported: boolean): void {
    const e = this.e;
    e.open(`${exported ? 'export ' : ''}interface ${s === this.m.root ? this.m.name : s.name} {`);
    for (const f of s.fields) e.line(`${f.prop}: ${this.tsType(f)};`);
    e.line('/** Tagged fields this version of Samsa does not know, kept from a read and written back. */');
    e.line('unknownTaggedFields?: RawTaggedField[] | undefined;');
    e.close();
  }

  // ---------------------------------------------------------------- schema

  private schemaField(f: FieldModel): Record<string, unknown> {
    const o: Record<string, unknown> = { name: f.prop, specName: f.specName };
    const t = f.type;
    if (t.kind === 'primitive') o['type'] = t.name;
    else if (t.kind === 'struct') {
      o['type'] = 'struct';
      o['struct'] = t.struct.name;
    } else {
      o['type'] = 'array';
      if (t.element.kind === 'primitive') o['element'] = t.element.name;
      else {
        o['element'] = 'struct';
        o['struct'] = t.element.struct.name;
      }
    }
    o['versions'] = [f.versions.min, f.versions.max];
    if (!isEmpty(f.nullableVersions))
      o['nullableVersions'] = [f.nullableVersions.min, f.nullableVersions.max];
    if (f.tag !== null) {
      o['tag'] = f.tag;
      o['taggedVersions'] = [f.taggedVersions.min, f.taggedVersions.max];
    }
    if (f.flexibleVersions !== null) o['flexibleVersions'] = [f.flexibleVersions.min, f.flexibleVersions.max];
    if (f.defaultText !== undefined) o['default'] = f.defaultText;
    if (f.ignorable) o['ignorable'] = true;
    if (f.mapKey) o['mapKey'] = true;
    return o;
  }

  private schemaLiteral(): string {
    const m = this.m;
    const structs: Record<string, unknown> = {};
    for (const s of this.allStructs()) {
      structs[s.name] = {
        versions: [s.versions.min, s.versions.max],
        fields: s.fields.map((f) => this.schemaField(f)),
      };
    }
    const schema = {
      name: m.name,
      type: m.type,
      apiKey: m.apiKey,
      validVersions: [m.validVersions.min, m.validVersions.max],
      flexibleVersions: isEmpty(m.flexibleVersions) ? null : [m.flexibleVersions.min, m.flexibleVersions.max],
      root: m.root.name,
      structs,
    };
    return JSON.stringify(schema, null, 2)
      .replace(/\[\n\s+(-?\d+),\n\s+(-?\d+)\n\s+\]/g, '[$1, $2]')
      .split('\n')
      .join('\n');
  }

  // ---------------------------------------------------------------- module

  emit(): string {
    const m = this.m;
    const e = this.e;
    e.line(`// Generated by scripts/gen-protocol from ${m.source}. Do not edit: run npm run gen:protocol.`);
    e.line('/* eslint-disable */');
    e.line("import { Reader, type RawTaggedField } from '../../primitives/reader.js';");
    e.line("import { Writer, uvarintSize } from '../../primitives/writer.js';");
    e.line('import {');
    for (const name of [
      'arrayLengthSize',
      'fieldNotInVersion',
      'notNull',
      'readArray',
      'readNullableArray',
      'writeArrayLength',
      'writeNullArrayLength',
      'writeUnknownTaggedBelow',
      'type MessageCodec',
      'type MessageSchema',
    ]) {
      e.line(`  ${name},`);
    }
    e.line("} from '../../primitives/codec.js';");
    e.line("import * as el from '../../primitives/elements.js';");
    e.line("import * as sz from '../../primitives/sizes.js';");
    e.line();
    this.emitInterface(m.root, true);
    e.line();
    if (m.structs.length > 0) {
      e.open(`export namespace ${m.name} {`);
      for (const s of m.structs) this.emitInterface(s, true);
      e.close();
      e.line();
    }
    for (const s of this.allStructs()) {
      this.emitRead(s);
      this.emitWrite(s);
      this.emitSize(s);
      this.emitDefault(s);
      this.emitIsDefault(s);
    }
    e.line(`const schema: MessageSchema = ${this.schemaLiteral()};`);
    e.line();
    e.open(`export const ${m.name} = {`);
    e.line(`name: '${m.name}',`);
    e.line(`apiKey: ${m.apiKey === null ? 'null' : m.apiKey},`);
    e.line(`minVersion: ${m.validVersions.min},`);
    e.line(`maxVersion: ${m.validVersions.max},`);
    e.line(`flexibleMinVersion: ${isEmpty(m.flexibleVersions) ? 'null' : m.flexibleVersions.min},`);
    e.line(`read: read${m.root.name},`);
    e.line(`write: write${m.root.name},`);
    e.line(`size: size${m.root.name},`);
    e.line(`create: default${m.root.name},`);
    e.open('structs: {');
    for (const s of m.structs) e.line(`${s.name}: default${s.name},`);
    e.close('},');
    // Kafka keeps arrays whose elements have mapKey fields as hash sets with find(key); here
    // each such struct gets a key function, and indexByKey (primitives/codec.ts) builds the Map.
    const keyed = this.allStructs().filter((s) => s.fields.some((f) => f.mapKey));
    e.open('mapKeys: {');
    for (const s of keyed) {
      const keys = s.fields.filter((f) => f.mapKey).map((f) => `v.${f.prop}`);
      const body =
        keys.length === 1 ? keys[0]! : `[${keys.map((k) => `String(${k})`).join(', ')}].join('\\u0000')`;
      e.line(`${s.name}: (v: ${this.typeName(s)}) => ${body},`);
    }
    e.close('},');
    e.line('schema,');
    e.close(`} satisfies MessageCodec<${m.name}>;`);
    return e.text();
  }
}

function tsPrimitive(t: PrimitiveType): string {
  switch (t) {
    case 'bool':
      return 'boolean';
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return 'number';
    case 'int64':
      return 'bigint';
    case 'string':
    case 'uuid':
      return 'string';
    case 'bytes':
      return 'Buffer';
    case 'records':
      return 'Buffer';
  }
}

function primitiveDefault(t: PrimitiveType, d: string | undefined, where: string): string {
  switch (t) {
    case 'bool':
      if (d === undefined || d === 'false') return 'false';
      if (d === 'true') return 'true';
      throw new Error(`${where}: bad bool default ${d}`);
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32': {
      if (d === undefined || d === '') return '0';
      const n = Number(d);
      if (!Number.isInteger(n)) throw new Error(`${where}: bad integer default ${d}`);
      return String(n);
    }
    case 'int64':
      if (d === undefined || d === '') return '0n';
      return `${BigInt(d)}n`;
    case 'float64':
      if (d === undefined || d === '') return '0';
      return String(Number(d));
    case 'string':
      return JSON.stringify(d ?? '').replace(/^"(.*)"$/, "'$1'");
    case 'uuid':
      return "'AAAAAAAAAAAAAAAAAAAAAA'";
    case 'bytes':
      return 'sz.EMPTY_BYTES';
    case 'records':
      return 'null';
  }
}

function readPrimitive(t: PrimitiveType, flex: string, nullable: string): string {
  switch (t) {
    case 'bool':
      return 'r.bool()';
    case 'int8':
      return 'r.int8()';
    case 'int16':
      return 'r.int16()';
    case 'uint16':
      return 'r.uint16()';
    case 'int32':
      return 'r.int32()';
    case 'uint32':
      return 'r.uint32()';
    case 'int64':
      return 'r.int64()';
    case 'float64':
      return 'r.float64()';
    case 'uuid':
      return 'r.uuid()';
    case 'string':
      return choose(
        flex,
        choose(nullable, 'r.compactNullableString()', 'r.compactString()'),
        choose(nullable, 'r.nullableString()', 'r.string()'),
      );
    case 'bytes':
    case 'records':
      return choose(
        flex,
        choose(nullable, 'r.compactNullableBytes()', 'r.compactBytes()'),
        choose(nullable, 'r.nullableBytes()', 'r.bytes()'),
      );
  }
}

function elementReader(t: PrimitiveType, flex: string, where: string, _ctx: VersionRange): string {
  switch (t) {
    case 'string':
      return choose(flex, 'el.readCompactString', 'el.readString');
    case 'bytes':
      return choose(flex, 'el.readCompactBytes', 'el.readBytes');
    case 'records':
      throw new Error(`${where}: arrays of records are not supported`);
    default:
      return `el.read${t.charAt(0).toUpperCase()}${t.slice(1)}`;
  }
}

/** `nn` is `v` asserted non-null (for versions in which the field is not nullable). */
function writePrimitive(t: PrimitiveType, v: string, flex: string, nullable: string, nn: string): string {
  switch (t) {
    case 'bool':
      return `w.bool(${v});`;
    case 'int8':
      return `w.int8(${v});`;
    case 'int16':
      return `w.int16(${v});`;
    case 'uint16':
      return `w.uint16(${v});`;
    case 'int32':
      return `w.int32(${v});`;
    case 'uint32':
      return `w.uint32(${v});`;
    case 'int64':
      return `w.int64(${v});`;
    case 'float64':
      return `w.float64(${v});`;
    case 'uuid':
      return `w.uuid(${v});`;
    case 'string': {
      const compact = choose(nullable, `w.compactNullableString(${v})`, `w.compactString(${nn})`);
      const plain = choose(nullable, `w.nullableString(${v})`, `w.string(${nn})`);
      return statementOf(flex, compact, plain);
    }
    case 'bytes': {
      const compact = choose(nullable, `w.compactNullableBytes(${v})`, `w.compactBytes(${nn})`);
      const plain = choose(nullable, `w.nullableBytes(${v})`, `w.bytes(${nn})`);
      return statementOf(flex, compact, plain);
    }
    case 'records': {
      const value = choose(nullable, v, nn);
      return statementOf(flex, `w.compactRecords(${value})`, `w.records(${value})`);
    }
  }
}

function statementOf(cond: string, a: string, b: string): string {
  if (cond === 'true') return `${a};`;
  if (cond === 'false') return `${b};`;
  return `if (${cond}) ${a}; else ${b};`;
}

function sizePrimitive(t: PrimitiveType, v: string, flex: string, nullable: string): string {
  const fixed = FIXED_SIZES[t];
  if (fixed !== undefined) return String(fixed);
  switch (t) {
    case 'string':
      return nullable === 'false' ? `sz.stringSize(${v}, ${flex})` : `sz.nullableStringSize(${v}, ${flex})`;
    case 'bytes':
      return nullable === 'false' ? `sz.bytesSize(${v}, ${flex})` : `sz.nullableBytesSize(${v}, ${flex})`;
    case 'records':
      return `sz.recordsSize(${v}, ${flex})`;
    default:
      throw new Error(`no size for ${t}`);
  }
}
