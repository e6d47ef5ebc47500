/**
 * Test support for tagged fields on the wire, which a round trip alone cannot check: a Reader
 * that watches every tagged-field section (tags must ascend), and the number of tagged fields a
 * value should put on the wire (known ones only when they differ from their default).
 */
import { isDeepStrictEqual } from 'node:util';

import { Reader } from '../../../src/protocol/primitives/reader.js';
import {
  fieldDefault,
  isFlexible,
  presentIn,
  structSchema,
  taggedIn,
  type AnyCodec,
  type Obj,
} from './random-message.js';

/**
 * Records the tags of every tagged-field section in the order they are read. Generated readers
 * read `tag = uvarint(); size = uvarint(); end = taggedFieldEnd(size)`, and a section nested in a
 * payload ends before its parent section goes on, so the open section is the innermost one with
 * fields left.
 */
export class TaggedSectionReader extends Reader {
  /** Tags of each section, in the order the sections were opened. */
  readonly sections: number[][] = [];
  private readonly open: { tags: number[]; left: number }[] = [];
  private lastTwo: [number, number] = [-1, -1];

  override taggedFieldCount(): number {
    const n = super.taggedFieldCount();
    const tags: number[] = [];
    this.sections.push(tags);
    this.open.push({ tags, left: n });
    return n;
  }

  override uvarint(): number {
    const v = super.uvarint();
    this.lastTwo = [this.lastTwo[1], v];
    return v;
  }

  override taggedFieldEnd(size: number): number {
    while (this.open.length > 0 && this.open[this.open.length - 1]!.left === 0) this.open.pop();
    const section = this.open[this.open.length - 1];
    if (section !== undefined) {
      section.tags.push(this.lastTwo[0]);
      section.left--;
    }
    return super.taggedFieldEnd(size);
  }

  /** Total tagged fields over all sections. */
  total(): number {
    return this.sections.reduce((n, s) => n + s.length, 0);
  }

  /** Sections whose tags do not strictly ascend. */
  unordered(): number[][] {
    return this.sections.filter((tags) => tags.some((t, i) => i > 0 && t <= tags[i - 1]!));
  }
}

/** Tagged fields `value` should put on the wire at `version`: unknown ones, and known ones not at their default. */
export function expectedTaggedCount(codec: AnyCodec, version: number, value: Obj): number {
  if (!isFlexible(codec, version)) return 0;
  const count = (obj: Obj, struct: string): number => {
    let n = (obj['unknownTaggedFields'] as unknown[] | undefined)?.length ?? 0;
    for (const f of structSchema(codec, struct).fields) {
      if (!presentIn(f, version)) continue;
      const v = obj[f.name];
      if (taggedIn(f, version)) {
        if (isDeepStrictEqual(v, fieldDefault(codec, f))) continue; // left out, with everything inside it
        n++;
      }
      if (f.struct === undefined || v === null || v === undefined) continue;
      if (Array.isArray(v)) for (const e of v as Obj[]) n += count(e, f.struct);
      else n += count(v as Obj, f.struct);
    }
    return n;
  };
  return count(value, codec.schema.root);
}
