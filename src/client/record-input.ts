/**
 * What callers hand the producer, and its conversion to the bytes a batch holds. Keys, values and
 * header values may be Buffers (used as they are, not copied) or strings (UTF-8); headers may be
 * an object (one value per name) or a list (repeated names allowed, null values allowed, as
 * Kafka's headers are). Anything else is refused with a TypeError naming the field, before the
 * record is queued, so a bad record never fails a whole batch later.
 */
import type { RecordHeader } from '../protocol/records/batch.js';
import type { QueuedRecord } from './accumulator.js';

export type RecordHeadersInput =
  Readonly<Record<string, Buffer | string>> | readonly { key: string; value: Buffer | string | null }[];

export interface ProducerRecord {
  topic: string;
  key?: Buffer | string | null;
  /** null is a tombstone (deletes the key in a compacted topic). */
  value: Buffer | string | null;
  headers?: RecordHeadersInput;
  /** Chosen by the partitioner when omitted. */
  partition?: number;
  /** CreateTime in milliseconds since the epoch; the time of `send` when omitted. */
  timestamp?: number;
}

/** A checked record, in the form a batch stores it (the batch sets its deltas). */
export interface PreparedRecord extends QueuedRecord {
  topic: string;
  /** -1 when the partitioner chooses. */
  partition: number;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** Checks and converts one caller record; `nowMs` is its timestamp when it has none. */
export function prepareRecord(record: ProducerRecord, nowMs: number): PreparedRecord {
  if (typeof record !== 'object' || record === null) {
    throw new TypeError(`a record must be an object with topic and value, got ${describe(record)}`);
  }
  const topic = record.topic;
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new TypeError(`record topic must be a non-empty string, got ${describe(topic)}`);
  }
  if (!('value' in record))
    throw new TypeError(`record for topic '${topic}' has no value (use null for a tombstone)`);
  const partition = record.partition;
  if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff)) {
    throw new TypeError(`record partition must be an int32 >= 0, got ${describe(partition)}`);
  }
  const timestamp = record.timestamp;
  if (timestamp !== undefined && (!Number.isSafeInteger(timestamp) || timestamp < 0)) {
    throw new TypeError(
      `record timestamp must be milliseconds >= 0 (a safe integer), got ${describe(timestamp)}`,
    );
  }
  return {
    offsetDelta: 0,
    timestampDelta: 0,
    key: toBytes(record.key, 'key'),
    value: toBytes(record.value, 'value'),
    headers: record.headers === undefined ? NO_HEADERS : toHeaders(record.headers),
    timestamp: timestamp ?? nowMs,
    topic,
    partition: partition ?? -1,
  };
}

function toBytes(v: unknown, field: string): Buffer | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError(`record ${field} must be a Buffer, a string or null, got ${describe(v)}`);
}

function toHeaders(input: RecordHeadersInput): readonly RecordHeader[] {
  if (Array.isArray(input)) {
    const list = input as readonly { key: unknown; value: unknown }[];
    if (list.length === 0) return NO_HEADERS;
    const out = new Array<RecordHeader>(list.length);
    for (let i = 0; i < list.length; i++) {
      const h = list[i];
      if (typeof h !== 'object' || h === null || typeof h.key !== 'string') {
        throw new TypeError(`record header ${i} must be { key: string, value }, got ${describe(h)}`);
      }
      out[i] = { key: h.key, value: toBytes(h.value, `header '${h.key}' value`) };
    }
    return out;
  }
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(
      `record headers must be an object or a list of { key, value }, got ${describe(input)}`,
    );
  }
  const names = Object.keys(input);
  if (names.length === 0) return NO_HEADERS;
  const out = new Array<RecordHeader>(names.length);
  const map = input as Readonly<Record<string, unknown>>;
  for (let i = 0; i < names.length; i++) {
    const key = names[i]!;
    const value = map[key];
    // Object headers have no way to say "null" apart from leaving the name out, as in kafkajs.
    if (value === null || value === undefined) {
      throw new TypeError(`record header '${key}' must be a Buffer or a string, got ${describe(value)}`);
    }
    out[i] = { key, value: toBytes(value, `header '${key}' value`) };
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? `an object (${v.constructor?.name ?? 'no prototype'})` : typeof v;
}
