/**
 * The simulated state machine is a running hash of the entries it applied, in order: two
 * nodes that applied the same sequence hold the same state. Its snapshot carries that hash
 * with its end offset, padded to a chosen size (so FetchSnapshot needs several chunks) with
 * bytes derived from the hash (so a chunk lost, repeated or misplaced in transfer shows).
 */
import type { LogEntry } from '../../../src/raft/types.js';

export const STATE_HASH_INIT = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SNAPSHOT_MAGIC = 0x53494d53; // "SIMS"
const SNAPSHOT_HEADER_BYTES = 20;

/** The state after applying `entry` to state `hash` (FNV-1a over the epoch and the data). */
export function applyEntry(hash: number, entry: LogEntry): number {
  let h = hash;
  h = Math.imul(h ^ (entry.epoch & 0xff), FNV_PRIME);
  h = Math.imul(h ^ ((entry.epoch >>> 8) & 0xff), FNV_PRIME);
  const d = entry.data;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i]!, FNV_PRIME);
  // A separator, so that entry boundaries count: ["ab"] and ["a", "b"] differ.
  h = Math.imul(h ^ 0x1f, FNV_PRIME);
  return h >>> 0;
}

export interface SnapshotState {
  readonly endOffset: number;
  readonly hash: number;
}

function padByte(hash: number, i: number): number {
  return (hash + Math.imul(i, 131)) & 0xff;
}

export function encodeSnapshot(state: SnapshotState, padBytes: number): Buffer {
  const b = Buffer.alloc(SNAPSHOT_HEADER_BYTES + padBytes);
  b.writeUInt32BE(SNAPSHOT_MAGIC, 0);
  b.writeDoubleBE(state.endOffset, 4);
  b.writeUInt32BE(state.hash, 12);
  b.writeUInt32BE(padBytes, 16);
  for (let i = 0; i < padBytes; i++) b[SNAPSHOT_HEADER_BYTES + i] = padByte(state.hash, i);
  return b;
}

/** The state a snapshot holds, or a reason it is not one this state machine wrote. */
export function decodeSnapshot(data: Buffer): SnapshotState | string {
  if (data.length < SNAPSHOT_HEADER_BYTES)
    return `snapshot of ${data.length} bytes is shorter than its header`;
  if (data.readUInt32BE(0) !== SNAPSHOT_MAGIC) return 'snapshot does not start with the magic';
  const endOffset = data.readDoubleBE(4);
  const hash = data.readUInt32BE(12);
  const padBytes = data.readUInt32BE(16);
  if (data.length !== SNAPSHOT_HEADER_BYTES + padBytes) {
    return `snapshot of ${data.length} bytes, its header says ${SNAPSHOT_HEADER_BYTES + padBytes}`;
  }
  for (let i = 0; i < padBytes; i++) {
    if (data[SNAPSHOT_HEADER_BYTES + i] !== padByte(hash, i))
      return `snapshot byte ${SNAPSHOT_HEADER_BYTES + i} is corrupt`;
  }
  return { endOffset, hash };
}
