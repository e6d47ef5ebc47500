/**
 * Messages on the simulated wire: each is encoded with the generated codec when sent and
 * decoded on arrival (a duplicate decodes to its own object), so what a node receives is what
 * a socket would carry; and a one-line description of each for the trace.
 */
import type { MessageCodec } from '../../../src/protocol/primitives/codec.js';
import { decodeMessage, encodeMessage } from '../../../src/protocol/message.js';
import { BeginQuorumEpochRequest } from '../../../src/protocol/generated/message/BeginQuorumEpochRequest.js';
import { BeginQuorumEpochResponse } from '../../../src/protocol/generated/message/BeginQuorumEpochResponse.js';
import { EndQuorumEpochRequest } from '../../../src/protocol/generated/message/EndQuorumEpochRequest.js';
import { EndQuorumEpochResponse } from '../../../src/protocol/generated/message/EndQuorumEpochResponse.js';
import { FetchRequest } from '../../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../../src/protocol/generated/message/FetchResponse.js';
import { FetchSnapshotRequest } from '../../../src/protocol/generated/message/FetchSnapshotRequest.js';
import { FetchSnapshotResponse } from '../../../src/protocol/generated/message/FetchSnapshotResponse.js';
import { VoteRequest } from '../../../src/protocol/generated/message/VoteRequest.js';
import { VoteResponse } from '../../../src/protocol/generated/message/VoteResponse.js';
import { RAFT_API_VERSIONS, type RaftMessage, type RaftMessageType } from '../../../src/raft/types.js';

/** A message as it travels: its type and correlation id (a frame header would carry them) and its body bytes. */
export interface WireMessage {
  readonly type: RaftMessageType;
  readonly correlationId: number;
  readonly bytes: Buffer;
}

interface WireFormat {
  readonly codec: MessageCodec<unknown>;
  readonly version: number;
}

const WIRE: Record<RaftMessageType, WireFormat> = {
  VoteRequest: { codec: VoteRequest, version: RAFT_API_VERSIONS.Vote },
  VoteResponse: { codec: VoteResponse, version: RAFT_API_VERSIONS.Vote },
  BeginQuorumEpochRequest: {
    codec: BeginQuorumEpochRequest,
    version: RAFT_API_VERSIONS.BeginQuorumEpoch,
  },
  BeginQuorumEpochResponse: {
    codec: BeginQuorumEpochResponse,
    version: RAFT_API_VERSIONS.BeginQuorumEpoch,
  },
  EndQuorumEpochRequest: {
    codec: EndQuorumEpochRequest,
    version: RAFT_API_VERSIONS.EndQuorumEpoch,
  },
  EndQuorumEpochResponse: {
    codec: EndQuorumEpochResponse,
    version: RAFT_API_VERSIONS.EndQuorumEpoch,
  },
  FetchRequest: { codec: FetchRequest, version: RAFT_API_VERSIONS.Fetch },
  FetchResponse: { codec: FetchResponse, version: RAFT_API_VERSIONS.Fetch },
  FetchSnapshotRequest: {
    codec: FetchSnapshotRequest,
    version: RAFT_API_VERSIONS.FetchSnapshot,
  },
  FetchSnapshotResponse: {
    codec: FetchSnapshotResponse,
    version: RAFT_API_VERSIONS.FetchSnapshot,
  },
};

export function encodeWire(message: RaftMessage): WireMessage {
  const f = WIRE[message.type];
  return {
    type: message.type,
    correlationId: message.correlationId,
    bytes: encodeMessage(f.codec, wireBody(message, f.version), f.version),
  };
}

/**
 * The body in the form its version carries, as the TCP transport writes it: a FetchRequest
 * names its replica in `replicaId` up to v14 and in `replicaState.replicaId` from v15 (KIP-903),
 * where `replicaId` must stay -1; the core fills in both.
 */
function wireBody(message: RaftMessage, version: number): unknown {
  if (message.type !== 'FetchRequest') return message.body;
  const b = message.body;
  const id = b.replicaState.replicaId >= 0 ? b.replicaState.replicaId : b.replicaId;
  if (version >= 15) return { ...b, replicaId: -1, replicaState: { ...b.replicaState, replicaId: id } };
  return { ...b, replicaId: id };
}

export function decodeWire(wire: WireMessage): RaftMessage {
  const f = WIRE[wire.type];
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
