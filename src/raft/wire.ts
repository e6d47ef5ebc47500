/**
 * How Raft's messages travel as Kafka requests and responses: each API's key, version, message
 * types and codecs, and the body in the form its version carries. Shared by the TCP transport
 * and the simulator's wire, so both write the same bytes.
 */
import { BeginQuorumEpochRequest } from '../protocol/generated/message/BeginQuorumEpochRequest.js';
import { BeginQuorumEpochResponse } from '../protocol/generated/message/BeginQuorumEpochResponse.js';
import { EndQuorumEpochRequest } from '../protocol/generated/message/EndQuorumEpochRequest.js';
import { EndQuorumEpochResponse } from '../protocol/generated/message/EndQuorumEpochResponse.js';
import { FetchRequest } from '../protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../protocol/generated/message/FetchResponse.js';
import { FetchSnapshotRequest } from '../protocol/generated/message/FetchSnapshotRequest.js';
import { FetchSnapshotResponse } from '../protocol/generated/message/FetchSnapshotResponse.js';
import { VoteRequest } from '../protocol/generated/message/VoteRequest.js';
import { VoteResponse } from '../protocol/generated/message/VoteResponse.js';
import type { MessageCodec } from '../protocol/primitives/codec.js';
import { RAFT_API_VERSIONS, type RaftMessage, type RaftMessageType } from './types.js';

type AnyCodec = MessageCodec<unknown>;

/** How each API travels: its request and response message types and codecs. */
export interface RaftApi {
  readonly apiKey: number;
  readonly version: number;
  readonly requestType: RaftMessageType;
  readonly responseType: RaftMessageType;
  readonly request: AnyCodec;
  readonly response: AnyCodec;
  /** The sender's node id, from the request body; undefined when missing. */
  readonly senderOf: (body: never, version: number) => number | undefined;
}

export const API_LIST: readonly RaftApi[] = [
  {
    apiKey: VoteRequest.apiKey,
    version: RAFT_API_VERSIONS.Vote,
    requestType: 'VoteRequest',
    responseType: 'VoteResponse',
    request: VoteRequest,
    response: VoteResponse,
    senderOf: (b: VoteRequest) => b.topics[0]?.partitions[0]?.candidateId,
  },
  {
    apiKey: BeginQuorumEpochRequest.apiKey,
    version: RAFT_API_VERSIONS.BeginQuorumEpoch,
    requestType: 'BeginQuorumEpochRequest',
    responseType: 'BeginQuorumEpochResponse',
    request: BeginQuorumEpochRequest,
    response: BeginQuorumEpochResponse,
    senderOf: (b: BeginQuorumEpochRequest) => b.topics[0]?.partitions[0]?.leaderId,
  },
  {
    apiKey: EndQuorumEpochRequest.apiKey,
    version: RAFT_API_VERSIONS.EndQuorumEpoch,
    requestType: 'EndQuorumEpochRequest',
    responseType: 'EndQuorumEpochResponse',
    request: EndQuorumEpochRequest,
    response: EndQuorumEpochResponse,
    senderOf: (b: EndQuorumEpochRequest) => b.topics[0]?.partitions[0]?.leaderId,
  },
  {
    apiKey: FetchRequest.apiKey,
    version: RAFT_API_VERSIONS.Fetch,
    requestType: 'FetchRequest',
    responseType: 'FetchResponse',
    request: FetchRequest,
    response: FetchResponse,
    // From v15 the replica id moved into replicaState (KIP-903).
    senderOf: (b: FetchRequest, version: number) => (version >= 15 ? b.replicaState.replicaId : b.replicaId),
  },
  {
    apiKey: FetchSnapshotRequest.apiKey,
    version: RAFT_API_VERSIONS.FetchSnapshot,
    requestType: 'FetchSnapshotRequest',
    responseType: 'FetchSnapshotResponse',
    request: FetchSnapshotRequest,
    response: FetchSnapshotResponse,
    senderOf: (b: FetchSnapshotRequest) => b.replicaId,
  },
];

export const API_BY_KEY = new Map(API_LIST.map((a) => [a.apiKey, a]));
export const API_BY_REQUEST_TYPE = new Map(API_LIST.map((a) => [a.requestType, a]));
export const API_BY_RESPONSE_TYPE = new Map(API_LIST.map((a) => [a.responseType, a]));

/** The codec and version a message of `type` travels with. */
export function wireFormatOf(type: RaftMessageType): { codec: MessageCodec<unknown>; version: number } {
  const request = API_BY_REQUEST_TYPE.get(type);
  if (request !== undefined) return { codec: request.request, version: request.version };
  const response = API_BY_RESPONSE_TYPE.get(type)!;
  return { codec: response.response, version: response.version };
}

/**
 * The body as the wire version carries it. A FetchRequest names its replica in `replicaId` up to
 * v14 and in `replicaState.replicaId` from v15 (KIP-903), where `replicaId` must stay -1; a body
 * filled in for either form is written in the form of the version it travels at.
 */
export function wireBody(message: RaftMessage, version: number): unknown {
  if (message.type !== 'FetchRequest') return message.body;
  const b = message.body;
  const id = b.replicaState.replicaId >= 0 ? b.replicaState.replicaId : b.replicaId;
  if (version >= 15) {
    return b.replicaId === -1 && b.replicaState.replicaId === id
      ? b
      : { ...b, replicaId: -1, replicaState: { ...b.replicaState, replicaId: id } };
  }
  return b.replicaId === id ? b : { ...b, replicaId: id };
}
