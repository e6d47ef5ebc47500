/**
 * Messages on the simulated wire: each is encoded with the generated codec when sent and
 * decoded on arrival (a duplicate decodes to its own object), so what a node receives is what
 * a socket would carry; and a one-line description of each for the trace.
 */
import { decodeMessage, encodeMessage } from '../../../src/protocol/message.js';
import type { RaftMessage, RaftMessageType } from '../../../src/raft/types.js';
import { wireBody, wireFormatOf } from '../../../src/raft/wire.js';

/** A message as it travels: its type and correlation id (a frame header would carry them) and its body bytes. */
export interface WireMessage {
  readonly type: RaftMessageType;
  readonly correlationId: number;
  readonly bytes: Buffer;
}

export function encodeWire(message: RaftMessage): WireMessage {
  const f = wireFormatOf(message.type);
  return {
    type: message.type,
    correlationId: message.correlationId,
    bytes: encodeMessage(f.codec, wireBody(message, f.version), f.version),
  };
}

export function decodeWire(wire: WireMessage): RaftMessage {
  const f = wireFormatOf(wire.type);
  const result = decodeMessage(f.codec, wire.bytes, f.version);
  if (!result.ok) throw new Error(`${wire.type} does not decode: ${result.error.message}`);
  if (result.end !== wire.bytes.length) {
    throw new Error(`${wire.type} decodes with ${wire.bytes.length - result.end} bytes left over`);
  }
  // The codec table pairs each type with its body's codec, so the cast restores what encodeWire took apart.
  return { type: wire.type, correlationId: wire.correlationId, body: result.value } as RaftMessage;
}

/** A short description: the type and the fields that matter to Raft. */
export function describeMessage(m: RaftMessage): string {
  const head = `${m.type}#${m.correlationId}`;
  switch (m.type) {
    case 'VoteRequest': {
      const p = m.body.topics[0]?.partitions[0];
      const pre =
        m.body.unknownTaggedFields !== undefined || p?.unknownTaggedFields !== undefined ? ' (tagged)' : '';
      return p === undefined
        ? head
        : `${head} cand=${p.candidateId} e=${p.candidateEpoch} last=${p.lastOffset}@${p.lastOffsetEpoch}${pre}`;
    }
    case 'VoteResponse': {
      const p = m.body.topics[0]?.partitions[0];
      return (
        `${head} err=${m.body.errorCode}` +
        (p === undefined
          ? ''
          : `/${p.errorCode} granted=${p.voteGranted} leader=${p.leaderId} e=${p.leaderEpoch}`)
      );
    }
    case 'BeginQuorumEpochRequest':
    case 'EndQuorumEpochRequest': {
      const p = m.body.topics[0]?.partitions[0];
      return p === undefined ? head : `${head} leader=${p.leaderId} e=${p.leaderEpoch}`;
    }
    case 'BeginQuorumEpochResponse':
    case 'EndQuorumEpochResponse': {
      const p = m.body.topics[0]?.partitions[0];
      return (
        `${head} err=${m.body.errorCode}` +
        (p === undefined ? '' : `/${p.errorCode} leader=${p.leaderId} e=${p.leaderEpoch}`)
      );
    }
    case 'FetchRequest': {
      const p = m.body.topics[0]?.partitions[0];
      return p === undefined
        ? head
        : `${head} replica=${m.body.replicaState.replicaId} e=${p.currentLeaderEpoch} off=${p.fetchOffset} lastEpoch=${p.lastFetchedEpoch}`;
    }
    case 'FetchResponse': {
      const p = m.body.responses[0]?.partitions[0];
      if (p === undefined) return `${head} err=${m.body.errorCode}`;
      const parts = [
        `${head} err=${m.body.errorCode}/${p.errorCode}`,
        `leader=${p.currentLeader.leaderId}`,
        `e=${p.currentLeader.leaderEpoch}`,
        `hw=${p.highWatermark}`,
        `bytes=${p.records?.length ?? 0}`,
      ];
      if (p.divergingEpoch.epoch >= 0)
        parts.push(`diverging=${p.divergingEpoch.endOffset}@${p.divergingEpoch.epoch}`);
      if (p.snapshotId.epoch >= 0) parts.push(`snapshot=${p.snapshotId.endOffset}@${p.snapshotId.epoch}`);
      return parts.join(' ');
    }
    case 'FetchSnapshotRequest': {
      const p = m.body.topics[0]?.partitions[0];
      return p === undefined
        ? head
        : `${head} replica=${m.body.replicaId} e=${p.currentLeaderEpoch} id=${p.snapshotId.endOffset}@${p.snapshotId.epoch} pos=${p.position}`;
    }
    case 'FetchSnapshotResponse': {
      const p = m.body.topics[0]?.partitions[0];
      return p === undefined
        ? `${head} err=${m.body.errorCode}`
        : `${head} err=${m.body.errorCode}/${p.errorCode} id=${p.snapshotId.endOffset}@${p.snapshotId.epoch} pos=${p.position} size=${p.size} bytes=${p.unalignedRecords.length}`;
    }
  }
}
