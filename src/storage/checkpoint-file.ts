/**
 * Kafka's text checkpoint files, byte-compatible with the ones a Kafka log directory holds
 * (`leader-epoch-checkpoint` in each partition folder; `recovery-point-offset-checkpoint`,
 * `log-start-offset-checkpoint`, `cleaner-offset-checkpoint`, `replication-offset-checkpoint`
 * at the top of a log dir):
 *
 *   0                 <- format version, always 0
 *   2                 <- number of entries
 *   my-topic 0 1234   <- one entry per line, fields separated by white space
 *   my-topic 1 987
 *
 * Reading follows Kafka's `CheckpointFile.CheckpointReadBuffer`: a missing or empty file (and,
 * like Kafka, a file holding only the version line) is an empty list; any other problem is
 * returned as a `CheckpointError` value naming the file and the 1-based line, never thrown.
 * Errors of the FileSystem itself (EIO, EACCES) are not format problems and do propagate.
 * Writing replaces the file atomically (temporary file, fsync, rename, folder fsync).
 *
 * Numbers: offsets are JavaScript numbers. Samsa's offsets stay below 2^53 (a partition would
 * need 9 quadrillion records), so every integer field is parsed as a safe integer and a field
 * beyond Number.MAX_SAFE_INTEGER is reported as a malformed line rather than silently rounded.
 */
import type { FileSystem } from '../runtime/fs.js';

/** The only checkpoint format version Kafka (and Samsa) writes. */
export const CHECKPOINT_VERSION = 0;

/** Per-partition: the first offset of each leader epoch. */
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
/** Per log dir: offsets up to which each partition's log is known flushed (recovery starts there). */
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
/** Per log dir: each partition's log start offset (after retention or DeleteRecords). */
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** Per log dir: how far the log cleaner has compacted each partition. */
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** Per log dir: each partition's high watermark. */
export const REPLICATION_OFFSET_CHECKPOINT_FILE = 'replication-offset-checkpoint';

export type CheckpointErrorKind =
  /** The first line is an integer other than CHECKPOINT_VERSION. */
  | 'unsupportedVersion'
  /** A line could not be parsed: version or count not an integer, or an entry the parser rejected. */
  | 'malformedLine'
  /** The number of entry lines differs from the count on line 2. */
  | 'countMismatch';

/**
 * A checkpoint file that exists but cannot be trusted. Returned, not thrown; it extends Error
 * only so a caller that decides the problem is fatal can throw it as it is.
 */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  readonly kind: CheckpointErrorKind;
  /** The checkpoint file. */
  readonly path: string;
  /** 1-based line number of the problem (2, the count line, for `countMismatch`). */
  readonly line: number;
  /** The offending line's text (shortened when long); for `countMismatch`, the count line. */
  readonly text: string;

  constructor(kind: CheckpointErrorKind, path: string, line: number, text: string, detail: string) {
    const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
    super(`checkpoint file ${path}, line ${line}: ${detail} (${JSON.stringify(shown)})`);
    this.kind = kind;
    this.path = path;
    this.line = line;
    this.text = shown;
  }
}

/**
 * Parses a decimal integer made of digits only (no sign, no spaces) that is at most `max`;
 * null otherwise. The building block for entry parsers.
 */
export function parseNonNegativeInteger(text: string, max: number = Number.MAX_SAFE_INTEGER): number | null {
  if (!/^\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n <= max ? n : null;
}

/** Largest value of a Kafka INT32 (partition ids, leader epochs). */
export const INT32_MAX = 0x7fffffff;

/** The version and count lines: Java's Integer.parseInt accepts an optional sign. */
function parseHeaderInteger(text: string): number | null {
  if (!/^[+-]?\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n >= -0x80000000 && n <= INT32_MAX ? n : null;
}

/** Splits an entry line into fields on runs of white space, ignoring leading and trailing white space. */
function fieldsOf(line: string): string[] {
  const trimmed = line.trim();
  return trimmed === '' ? [] : trimmed.split(/\s+/);
}

/**
 * Reads a checkpoint file. `parseLine` turns one entry's fields into a value, or null when the
 * entry is malformed (which makes the whole file a `malformedLine` error).
 */
export async function readCheckpoint<T>(
  fs: FileSystem,
  path: string,
  parseLine: (fields: string[]) => T | null,
): Promise<T[] | CheckpointError> {
  const data = await fs.readFile(path);
  if (data === null) return [];
  const lines = data.toString('utf8').split(/\r\n|\r|\n/);
  // A final line terminator ends the last line; it does not start an empty one.
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return [];

  const versionLine = lines[0]!;
  const version = parseHeaderInteger(versionLine);
  if (version === null) {
    return new CheckpointError('malformedLine', path, 1, versionLine, 'the version is not an integer');
  }
  if (version !== CHECKPOINT_VERSION) {
    return new CheckpointError(
      'unsupportedVersion',
      path,
      1,
      versionLine,
      `unsupported version ${version}, expected ${CHECKPOINT_VERSION}`,
    );
  }
  // Kafka reads a file that stops after the version line as empty; so do we.
  if (lines.length === 1) return [];

  const countLine = lines[1]!;
  const expected = parseHeaderInteger(countLine);
  if (expected === null) {
    return new CheckpointError('malformedLine', path, 2, countLine, 'the entry count is not an integer');
  }

  const entries: T[] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    const entry = parseLine(fieldsOf(line));
    if (entry === null) return new CheckpointError('malformedLine', path, i + 1, line, 'malformed entry');
    entries.push(entry);
  }
  if (entries.length !== expected) {
    return new CheckpointError(
      'countMismatch',
      path,
      2,
      countLine,
      `expected ${expected} entries, found ${entries.length}`,
    );
  }
  return entries;
}

/**
 * Replaces the checkpoint file with `lines` (each one entry, fields already joined by single
 * spaces), atomically and durably. A line holding a line break is a programming error and throws.
 */
export async function writeCheckpoint(fs: FileSystem, path: string, lines: readonly string[]): Promise<void> {
  for (const line of lines) {
    if (/[\r\n]/.test(line)) throw new RangeError(`checkpoint entry for ${path} contains a line break`);
  }
  let text = `${CHECKPOINT_VERSION}\n${lines.length}\n`;
  for (const line of lines) text += `${line}\n`;
  await fs.writeFileAtomic(path, text);
}

// ---------------------------------------------------------------------------------------------
// Per-log-dir checkpoints of one offset per partition: entries `topic partition offset`.

/** The key the offset-checkpoint maps use: Kafka's `TopicPartition.toString()`, `${topic}-${partition}`. */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/**
 * Splits a `${topic}-${partition}` key at its last dash (topics may contain dashes, partition
 * numbers cannot); null when the key does not have that shape.
 */
export function parseTopicPartitionKey(key: string): { topic: string; partition: number } | null {
  const dash = key.lastIndexOf('-');
  if (dash <= 0) return null;
  const partition = parseNonNegativeInteger(key.slice(dash + 1), INT32_MAX);
  if (partition === null) return null;
  return { topic: key.slice(0, dash), partition };
}

interface TopicPartitionOffset {
  key: string;
  offset: number;
}

function parseOffsetEntry(fields: string[]): TopicPartitionOffset | null {
  if (fields.length !== 3) return null;
  const [topic, partitionText, offsetText] = fields as [string, string, string];
  const partition = parseNonNegativeInteger(partitionText, INT32_MAX);
  const offset = parseNonNegativeInteger(offsetText);
  if (partition === null || offset === null) return null;
  return { key: topicPartitionKey(topic, partition), offset };
}

/**
 * Reads a per-log-dir offset checkpoint into a Map keyed by `${topic}-${partition}`. A missing
 * file is an empty map. When a partition appears twice the later line wins, as in Kafka.
 */
export async function readOffsetCheckpoint(
  fs: FileSystem,
  path: string,
): Promise<Map<string, number> | CheckpointError> {
  const entries = await readCheckpoint(fs, path, parseOffsetEntry);
  if (entries instanceof CheckpointError) return entries;
  const offsets = new Map<string, number>();
  for (const { key, offset } of entries) offsets.set(key, offset);
  return offsets;
}

/**
 * Replaces a per-log-dir offset checkpoint with `offsets` (keys `${topic}-${partition}`, in the
 * map's order). A key without that shape, a topic with white space, or an offset that is not a
 * non-negative safe integer is a programming error and throws a RangeError before anything is written.
 */
export async function writeOffsetCheckpoint(
  fs: FileSystem,
  path: string,
  offsets: ReadonlyMap<string, number>,
): Promise<void> {
  const lines: string[] = [];
  for (const [key, offset] of offsets) {
    const tp = parseTopicPartitionKey(key);
    if (tp === null || /\s/.test(tp.topic)) {
      throw new RangeError(`${path}: ${JSON.stringify(key)} is not a topic-partition key`);
    }
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`${path}: offset ${offset} for ${key} is not a non-negative safe integer`);
    }
    lines.push(`${tp.topic} ${tp.partition} ${offset}`);
  }
  await writeCheckpoint(fs, path, lines);
}
