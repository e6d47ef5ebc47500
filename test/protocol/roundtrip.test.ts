/**
 * Property-based round trip of every generated codec at every version: random values built from
 * the codec's schema encode, decode back to the same value, consume every byte, and the size pass
 * agrees with the bytes written. Reproduce a failure with ROUNDTRIP_SEED=<seed printed>.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { decodeMessage, encodeMessage, encodeMessageChunks } from '../../src/protocol/message.js';
import { EncodeError } from '../../src/protocol/primitives/errors.js';
import type { FieldSchema } from '../../src/protocol/primitives/codec.js';
import { FetchResponse, ProduceRequest, ShareFetchResponse } from '../../src/protocol/generated/index.js';
import {
  allCodecs,
  caseSeed,
  fieldDefault,
  MessageGenerator,
  presentIn,
  randomMessage,
  Rng,
  seedFromEnv,
  show,
  structDefault,
  structSchema,
  versionsOf,
  type AnyCodec,
  type Obj,
} from './support/random-message.js';
import { expectedTaggedCount, TaggedSectionReader } from './support/tagged.js';

const BASE_SEED = seedFromEnv('ROUNDTRIP_SEED', 0x5a35a);
const RUNS = Number(process.env['ROUNDTRIP_RUNS'] ?? 12);
const codecs = allCodecs();

function roundTrip(codec: AnyCodec, version: number, value: unknown, seed: number, run: number): void {
  const where = `${codec.name} v${version} (ROUNDTRIP_SEED=${BASE_SEED}, case seed ${seed}, run ${run})`;
  let encoded: Buffer;
  try {
    encoded = encodeMessage(codec, value, version);
  } catch (e) {
    assert.fail(`${where}: encode threw ${String(e)}\nvalue: ${show(value)}`);
  }
  const size = codec.size(value, version);
  assert.equal(size, encoded.length, `${where}: size() ${size} but ${encoded.length} bytes were written`);
  const decoded = decodeMessage(codec, encoded, version);
  if (!decoded.ok) assert.fail(`${where}: decode failed: ${decoded.error.message}\nvalue: ${show(value)}`);
  assert.equal(
    decoded.end,
    encoded.length,
    `${where}: decode stopped at ${decoded.end} of ${encoded.length} bytes`,
  );
  try {
    assert.deepStrictEqual(decoded.value, value);
  } catch (e) {
    assert.fail(`${where}: decoded value differs\n${String(e).slice(0, 4000)}`);
  }
  // Tagged fields on the wire: ascending tags in every section; known ones only when not at their default.
  const tr = new TaggedSectionReader(encoded);
  codec.read(tr, version);
  assert.equal(tr.bad, false, where);
  assert.deepEqual(tr.unordered(), [], `${where}: tagged fields out of order`);
  assert.equal(
    tr.total(),
    expectedTaggedCount(codec, version, value as Obj),
    `${where}: tagged fields written (per section: ${JSON.stringify(tr.sections.filter((t) => t.length > 0))})`,
  );
  // Encoding the decoded value gives the same bytes again.
  assert.ok(encodeMessage(codec, decoded.value, version).equals(encoded), `${where}: re-encoding differs`);
}

void describe('round trip of every codec at every version', () => {
  void test('the generated index exports every kind of codec', () => {
    const kinds = new Set(codecs.map((c) => c.schema.type));
    for (const k of ['request', 'response', 'header', 'data', 'metadata'])
      assert.ok(kinds.has(k), `no ${k} codec found`);
    assert.ok(codecs.length >= 240, `only ${codecs.length} codecs found`);
    for (const c of codecs) {
      assert.equal(c.schema.name, c.name);
      assert.deepEqual(c.schema.validVersions, [c.minVersion, c.maxVersion], c.name);
      assert.equal(c.flexibleMinVersion, c.schema.flexibleVersions?.[0] ?? null, c.name);
    }
  });

  void test('default constructors match the schema defaults', () => {
    for (const codec of codecs) {
      assert.deepStrictEqual(
        codec.create(),
        structDefault(codec, codec.schema.root),
        `${codec.name}.create()`,
      );
      for (const [name, make] of Object.entries(codec.structs)) {
        assert.deepStrictEqual(make(), structDefault(codec, name), `${codec.name}.structs.${name}()`);
      }
    }
  });

  for (const codec of codecs) {
    void test(`${codec.name} v${codec.minVersion}-${codec.maxVersion}`, () => {
      for (const version of versionsOf(codec)) {
        const seed = caseSeed(BASE_SEED, `${codec.name}/${version}`);
        const rng = new Rng(seed);
        // The default message first, then random ones.
        roundTrip(codec, version, codec.create(), seed, -1);
        for (let run = 0; run < RUNS; run++) {
          const value = randomMessage(codec, version, rng, { large: run === 0 ? 0.3 : 0.02 });
          roundTrip(codec, version, value, seed, run);
        }
      }
    });
  }
});

/** Every (struct object, struct name) in a value built for `version`, root first. */
function structsIn(codec: AnyCodec, version: number, value: Obj): { obj: Obj; struct: string }[] {
  const out: { obj: Obj; struct: string }[] = [];
  const visit = (obj: Obj, struct: string): void => {
    out.push({ obj, struct });
    for (const f of structSchema(codec, struct).fields) {
      if (f.struct === undefined || !presentIn(f, version)) continue;
      const v = obj[f.name];
      if (v === null || v === undefined) continue;
      if (Array.isArray(v)) for (const e of v as Obj[]) visit(e, f.struct);
      else visit(v as Obj, f.struct);
    }
  };
  visit(value, codec.schema.root);
  return out;
}

/** A random value for `f` that differs from its default (as the version that first carries it sees it). */
function nonDefault(codec: AnyCodec, f: FieldSchema, rng: Rng): unknown {
  const gen = new MessageGenerator(codec, f.versions[0], rng, { useDefault: 0, nullChance: 0 });
  const d = fieldDefault(codec, f);
  for (let i = 0; i < 50; i++) {
    const v = f.type === 'array' ? [gen.element(f)] : gen.value(f);
    try {
      assert.deepStrictEqual(v, d);
    } catch {
      return v;
    }
  }
  throw new Error(`no non-default value for ${codec.name}.${f.name}`);
}

void describe('fields a version cannot carry', () => {
  void test('must hold their default unless ignorable: EncodeError, or dropped and read back as the default', () => {
    let checked = 0;
    let ignorable = 0;
    for (const codec of codecs) {
      for (const version of versionsOf(codec)) {
        const seed = caseSeed(BASE_SEED, `absent/${codec.name}/${version}`);
        const rng = new Rng(seed);
        const value = randomMessage(codec, version, rng, { large: 0 });
        for (const { obj, struct } of structsIn(codec, version, value)) {
          for (const f of structSchema(codec, struct).fields) {
            if (presentIn(f, version) || f.versions[0] > f.versions[1]) continue;
            const where = `${codec.name}.${struct}.${f.name} in v${version} (ROUNDTRIP_SEED=${BASE_SEED})`;
            const saved = obj[f.name];
            obj[f.name] = nonDefault(codec, f, rng);
            try {
              if (f.ignorable === true) {
                ignorable++;
                const bytes = encodeMessage(codec, value, version);
                assert.equal(codec.size(value, version), bytes.length, where);
                const back = decodeMessage(codec, bytes, version);
                assert.ok(back.ok, where);
                obj[f.name] = saved;
                assert.deepStrictEqual(back.value, value, where);
              } else {
                assert.throws(() => encodeMessage(codec, value, version), EncodeError, where);
              }
              checked++;
            } finally {
              obj[f.name] = saved;
            }
          }
        }
      }
    }
    assert.ok(checked > 500, `only ${checked} absent fields checked`);
    assert.ok(ignorable > 10, `only ${ignorable} ignorable absent fields checked`);
  });

  void test('null where the version does not allow it is an EncodeError', () => {
    const rng = new Rng(caseSeed(BASE_SEED, 'null'));
    let checked = 0;
    for (const codec of codecs) {
      for (const version of versionsOf(codec)) {
        const value = randomMessage(codec, version, rng, { large: 0, nullChance: 0 });
        for (const { obj, struct } of structsIn(codec, version, value)) {
          for (const f of structSchema(codec, struct).fields) {
            const nullable =
              f.nullableVersions !== undefined && f.nullableVersions[0] <= f.nullableVersions[1];
            if (
              !nullable ||
              !presentIn(f, version) ||
              (version >= f.nullableVersions![0] && version <= f.nullableVersions![1])
            )
              continue;
            const saved = obj[f.name];
            obj[f.name] = null;
            try {
              assert.throws(
                () => encodeMessage(codec, value, version),
                EncodeError,
                `${codec.name}.${struct}.${f.name} = null in v${version}`,
              );
              checked++;
            } finally {
              obj[f.name] = saved;
            }
          }
        }
      }
    }
    assert.ok(checked >= 6, `only ${checked} fields checked`);
  });
});

void describe('zero-copy record sets', () => {
  const records = Buffer.alloc(4096, 7);
  records.write('records!', 100);

  const cases: { name: string; codec: AnyCodec; value: () => unknown; versions: number[] }[] = [
    {
      name: 'ProduceRequest',
      codec: ProduceRequest,
      versions: versionsOf(ProduceRequest),
      value: (): ProduceRequest => ({
        transactionalId: null,
        acks: -1,
        timeoutMs: 30000,
        topicData: [
          {
            name: 'topic',
            partitionData: [
              { index: 0, records: Buffer.from('small'), unknownTaggedFields: undefined },
              { index: 1, records, unknownTaggedFields: undefined },
              { index: 2, records: null, unknownTaggedFields: undefined },
            ],
            unknownTaggedFields: undefined,
          },
        ],
        unknownTaggedFields: undefined,
      }),
    },
    {
      name: 'FetchResponse',
      codec: FetchResponse,
      versions: versionsOf(FetchResponse),
      value: () => {
        const v = FetchResponse.create();
        const part = FetchResponse.structs.PartitionData();
        part.records = records;
        const topic = FetchResponse.structs.FetchableTopicResponse();
        topic.partitions.push(part);
        v.responses.push(topic);
        return v;
      },
    },
    {
      name: 'ShareFetchResponse',
      codec: ShareFetchResponse,
      versions: versionsOf(ShareFetchResponse),
      value: () => {
        const v = ShareFetchResponse.create();
        const part = ShareFetchResponse.structs.PartitionData();
        part.records = records;
        const topic = ShareFetchResponse.structs.ShareFetchableTopicResponse();
        topic.partitions.push(part);
        v.responses.push(topic);
        return v;
      },
    },
  ];

  for (const c of cases) {
    void test(`${c.name}: a record set of 1024+ bytes is one of the chunks, by reference`, () => {
      for (const version of c.versions) {
        const value = c.value();
        const chunks = encodeMessageChunks(c.codec, value, version);
        assert.ok(chunks.length >= 2, `${c.name} v${version}: ${chunks.length} chunk(s)`);
        assert.ok(
          chunks.some((b) => b === records),
          `${c.name} v${version}: no chunk is the records Buffer itself`,
        );
        const whole = encodeMessage(c.codec, value, version);
        assert.ok(
          Buffer.concat(chunks).equals(whole),
          `${c.name} v${version}: chunks differ from encodeMessage`,
        );
        assert.equal(whole.length, c.codec.size(value, version));
        const back = decodeMessage(c.codec, whole, version);
        assert.ok(back.ok);
        assert.deepStrictEqual(back.value, value);
      }
    });
  }

  void test('a record set of 1023 bytes is copied; exactly 1024 is not', () => {
    for (const [len, zeroCopy] of [
      [1023, false],
      [1024, true],
    ] as const) {
      const recs = Buffer.alloc(len, 1);
      const v: ProduceRequest = {
        transactionalId: 'tx',
        acks: 1,
        timeoutMs: 1,
        topicData: [
          {
            name: 't',
            partitionData: [{ index: 0, records: recs, unknownTaggedFields: undefined }],
            unknownTaggedFields: undefined,
          },
        ],
        unknownTaggedFields: undefined,
      };
      for (const version of [8, 9]) {
        const chunks = encodeMessageChunks(ProduceRequest, v, version);
        assert.equal(
          chunks.some((b) => b === recs),
          zeroCopy,
          `${len} bytes v${version}`,
        );
        // Zero-copy: the bytes before the records, the records, and (flexible versions) the tagged-field counts after.
        assert.equal(chunks.length, zeroCopy ? (version >= 9 ? 3 : 2) : 1, `${len} bytes v${version}`);
        assert.ok(Buffer.concat(chunks).equals(encodeMessage(ProduceRequest, v, version)));
      }
    }
  });

  void test('random messages with large record sets: chunks concatenate to encodeMessage', () => {
    const rng = new Rng(caseSeed(BASE_SEED, 'chunks'));
    let zeroCopied = 0;
    for (const codec of codecs) {
      const hasRecords = Object.values(codec.schema.structs).some((s) =>
        s.fields.some((f) => f.type === 'records'),
      );
      if (!hasRecords) continue;
      for (const version of versionsOf(codec)) {
        for (let i = 0; i < 4; i++) {
          const value = randomMessage(codec, version, rng, { large: 0.5, nullChance: 0.1 });
          const chunks = encodeMessageChunks(codec, value, version);
          const whole = encodeMessage(codec, value, version);
          assert.ok(Buffer.concat(chunks).equals(whole), `${codec.name} v${version}`);
          assert.equal(whole.length, codec.size(value, version), `${codec.name} v${version}`);
          if (chunks.length > 1) zeroCopied++;
        }
      }
    }
    assert.ok(zeroCopied > 10, `only ${zeroCopied} encodings used zero-copy chunks`);
  });
});
