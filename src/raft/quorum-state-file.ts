/**
 * Kafka's `quorum-state` file: the epoch, the vote and the known leader, which must survive a
 * crash (a node that forgot its vote could vote twice in one epoch). The content is Kafka's
 * QuorumStateData version 0 in JSON, as its FileQuorumStateStore writes it:
 *
 *   {"clusterId":"","leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,
 *    "currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}
 *
 * (leaderEpoch is the epoch; appliedOffset is always 0, as Kafka writes it.) Writes are
 * synchronous and durable when they return: a temporary file is written and fsynced, renamed
 * over the file, and the folder fsynced. A file that is not valid JSON of that shape is an
 * error: it was written atomically, so only outside damage makes it so, and guessing a vote
 * would be unsafe.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { QuorumState, QuorumStateStore } from './types.js';
import { writeFileAtomicSync } from '../runtime/fs.js';

export const QUORUM_STATE_FILE_NAME = 'quorum-state';
/** The only data_version this code reads and writes (QuorumStateData v0). */
export const QUORUM_STATE_DATA_VERSION = 0;
const TEMP_SUFFIX = '.tmp';
/** A quorum-state file is a few hundred bytes; anything far larger is not one. */
const FILE_BYTES_MAX = 1024 * 1024;

export class QuorumStateFileError extends Error {
  override readonly name = 'QuorumStateFileError';
}

export interface QuorumStateFileOptions {
  /** The folder of the file (created when missing); Kafka keeps it in the metadata log's folder. */
  readonly dir: string;
  /** Written to currentVoters (Kafka's static voter set). */
  readonly voters: readonly number[];
  /** Written to clusterId; Kafka leaves it empty. */
  readonly clusterId?: string;
}

export class QuorumStateFile implements QuorumStateStore {
  readonly path: string;
  private readonly dir: string;
  private readonly voters: readonly number[];
  private readonly clusterId: string;

  constructor(opts: QuorumStateFileOptions) {
    this.dir = opts.dir;
    this.path = path.join(opts.dir, QUORUM_STATE_FILE_NAME);
    this.voters = [...opts.voters];
    this.clusterId = opts.clusterId ?? '';
    fs.mkdirSync(this.dir, { recursive: true });
  }

  read(): QuorumState | null {
    let text: string;
    try {
      const size = fs.statSync(this.path).size;
      if (size > FILE_BYTES_MAX)
        throw new QuorumStateFileError(`${this.path}: ${size} bytes is not a quorum state`);
      text = fs.readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return parseQuorumState(text, this.path);
  }

  write(state: QuorumState): void {
    const text = formatQuorumState(state, this.voters, this.clusterId);
    writeFileAtomicSync(this.path, this.path + TEMP_SUFFIX, [Buffer.from(text, 'utf8')]);
  }
}

/** The file's text for `state` (Kafka's field order). */
export function formatQuorumState(state: QuorumState, voters: readonly number[], clusterId = ''): string {
  for (const [name, v] of [
    ['epoch', state.epoch],
    ['votedId', state.votedId],
    ['leaderId', state.leaderId],
  ] as const) {
    if (!Number.isInteger(v) || v < -1 || v > 0x7fffffff)
      throw new RangeError(`${name} ${v} is not an int32 ≥ -1`);
  }
  return JSON.stringify({
    clusterId,
    leaderId: state.leaderId,
    leaderEpoch: state.epoch,
    votedId: state.votedId,
    appliedOffset: 0,
    currentVoters: voters.map((voterId) => ({ voterId })),
    data_version: QUORUM_STATE_DATA_VERSION,
  });
}

/** Reads the file's text; throws QuorumStateFileError when it is not a version-0 quorum state. */
export function parseQuorumState(text: string, where = QUORUM_STATE_FILE_NAME): QuorumState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new QuorumStateFileError(`${where}: not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new QuorumStateFileError(`${where}: not a JSON object`);
  }
  const o = json as Record<string, unknown>;
  if (o['data_version'] !== QUORUM_STATE_DATA_VERSION) {
    throw new QuorumStateFileError(`${where}: data_version ${String(o['data_version'])} is not supported`);
  }
  const int = (name: string, min: number): number => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 0x7fffffff) {
      throw new QuorumStateFileError(`${where}: ${name} ${JSON.stringify(v)} is not an integer ≥ ${min}`);
    }
    return v;
  };
  // Kafka writes -1 for "none" in leaderId and votedId; an epoch before any election is 0 (or -1, its default).
  const epoch = Math.max(0, int('leaderEpoch', -1));
  return { epoch, votedId: int('votedId', -1), leaderId: int('leaderId', -1) };
}
