/**
 * TcpTransport over real sockets on 127.0.0.1: every RaftMessage type round-trips (request one
 * way, its response back on the same connection), senders are read from the bodies, a peer
 * that comes up late or restarts is reached after reconnecting, queues are bounded, and bad
 * input is dropped and counted.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, test } from 'node:test';
import { encodeMessage } from '../../src/protocol/message.js';
import { encodeRequestFrame } from '../../src/protocol/frame.js';
import { BeginQuorumEpochRequest } from '../../src/protocol/generated/message/BeginQuorumEpochRequest.js';
import { BeginQuorumEpochResponse } from '../../src/protocol/generated/message/BeginQuorumEpochResponse.js';
import { EndQuorumEpochRequest } from '../../src/protocol/generated/message/EndQuorumEpochRequest.js';
import { EndQuorumEpochResponse } from '../../src/protocol/generated/message/EndQuorumEpochResponse.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import { FetchSnapshotRequest } from '../../src/protocol/generated/message/FetchSnapshotRequest.js';
import { FetchSnapshotResponse } from '../../src/protocol/generated/message/FetchSnapshotResponse.js';
import { VoteRequest } from '../../src/protocol/generated/message/VoteRequest.js';
import { VoteResponse } from '../../src/protocol/generated/message/VoteResponse.js';
import type { MessageCodec } from '../../src/protocol/primitives/codec.js';
import { decodeEntries, encodeEntries } from '../../src/raft/entry-batches.js';
import { TcpTransport, type TcpTransportLimits } from '../../src/raft/tcp-transport.js';
import {
  METADATA_PARTITION,
  METADATA_TOPIC_ID,
  METADATA_TOPIC_NAME,
  RAFT_API_VERSIONS,
  type RaftMessage,
} from '../../src/raft/types.js';

const HOST = '127.0.0.1';
/** Every wait in these tests gives up after this long. */
const WAIT_MS_MAX = 5000;
const DIR_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

const transports: TcpTransport[] = [];
after(async () => {
  for (const t of transports) await t.close();
});

interface Received {
  from: number;
  message: RaftMessage;
}

/** A transport for `nodeId` listening on a free port (or `port`), collecting what it receives. */
async function node(
  nodeId: number,
  opts: { port?: number; limits?: Partial<TcpTransportLimits> } = {},
): Promise<{ t: TcpTransport; port: number; inbox: Received[] }> {
  const inbox: Received[] = [];
  const t = new TcpTransport({
    nodeId,
    peers: new Map(),
    listenHost: HOST,
    listenPort: opts.port ?? 0,
    onMessage: (from, message) => inbox.push({ from, message }),
    ...(opts.limits === undefined ? {} : { limits: opts.limits }),
  });
  transports.push(t);
  const port = await t.listen();
  return { t, port, inbox };
}

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS_MAX;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The same bytes at `version`: the body survived the trip whole. */
function assertSameBody<T>(
  codec: MessageCodec<T>,
  version: number,
  got: unknown,
  sent: T,
  what: string,
): void {
  assert.ok(
    encodeMessage(codec, got as T, version).equals(encodeMessage(codec, sent, version)),
    `${what} arrives as sent`,
  );
}

const PRE_VOTE_TAG = 1000;

function messages(): { request: RaftMessage; response: RaftMessage }[] {
  const records = encodeEntries([
    { offset: 10, epoch: 3, data: Buffer.from('a') },
    { offset: 11, epoch: 3, data: Buffer.from('bb') },
    { offset: 12, epoch: 4, data: Buffer.alloc(0) },
  ]);
  return [
    {
      request: {
        type: 'VoteRequest',
        correlationId: 101,
        body: {
          ...VoteRequest.create(),
          clusterId: 'cluster-x',
          voterId: 2,
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [
                {
                  partitionIndex: METADATA_PARTITION,
                  candidateEpoch: 7,
                  candidateId: 1,
                  candidateDirectoryId: DIR_ID,
                  voterDirectoryId: DIR_ID,
                  lastOffsetEpoch: 6,
                  lastOffset: 1234n,
                  // The pre-vote flag travels as an unknown tagged field on v1.
                  unknownTaggedFields: [{ tag: PRE_VOTE_TAG, data: Buffer.from([1]) }],
                },
              ],
            },
          ],
        },
      },
      response: {
        type: 'VoteResponse',
        correlationId: 101,
        body: {
          ...VoteResponse.create(),
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [
                { partitionIndex: 0, errorCode: 0, leaderId: -1, leaderEpoch: 7, voteGranted: true },
              ],
            },
          ],
        },
      },
    },
    {
      request: {
        type: 'BeginQuorumEpochRequest',
        correlationId: 102,
        body: {
          ...BeginQuorumEpochRequest.create(),
          clusterId: 'cluster-x',
          voterId: 2,
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [{ partitionIndex: 0, voterDirectoryId: DIR_ID, leaderId: 1, leaderEpoch: 7 }],
            },
          ],
        },
      },
      response: {
        type: 'BeginQuorumEpochResponse',
        correlationId: 102,
        body: {
          ...BeginQuorumEpochResponse.create(),
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: 1, leaderEpoch: 7 }],
            },
          ],
        },
      },
    },
    {
      request: {
        type: 'EndQuorumEpochRequest',
        correlationId: 103,
        body: {
          ...EndQuorumEpochRequest.create(),
          clusterId: 'cluster-x',
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [
                {
                  partitionIndex: 0,
                  leaderId: 1,
                  leaderEpoch: 7,
                  preferredSuccessors: [3, 2],
                  preferredCandidates: [],
                },
              ],
            },
          ],
        },
      },
      response: {
        type: 'EndQuorumEpochResponse',
        correlationId: 103,
        body: {
          ...EndQuorumEpochResponse.create(),
          errorCode: 0,
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: 1, leaderEpoch: 7 }],
            },
          ],
        },
      },
    },
    {
      request: {
        type: 'FetchRequest',
        correlationId: 104,
        body: {
          ...FetchRequest.create(),
          clusterId: 'cluster-x',
          replicaState: { replicaId: 1, replicaEpoch: -1n },
          maxWaitMs: 500,
          topics: [
            {
              topic: METADATA_TOPIC_NAME,
              topicId: METADATA_TOPIC_ID,
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: 7,
                  fetchOffset: 10n,
                  lastFetchedEpoch: 3,
                  logStartOffset: 0n,
                  partitionMaxBytes: 1 << 20,
                  replicaDirectoryId: DIR_ID,
                },
              ],
            },
          ],
        },
      },
      response: {
        type: 'FetchResponse',
        correlationId: 104,
        body: {
          ...FetchResponse.create(),
          responses: [
            {
              topic: METADATA_TOPIC_NAME,
              topicId: METADATA_TOPIC_ID,
              partitions: [
                {
                  partitionIndex: 0,
                  errorCode: 0,
                  highWatermark: 11n,
                  lastStableOffset: -1n,
                  logStartOffset: 0n,
                  divergingEpoch: { epoch: 2, endOffset: 9n },
                  currentLeader: { leaderId: 2, leaderEpoch: 7 },
                  snapshotId: { endOffset: -1n, epoch: -1 },
                  abortedTransactions: null,
                  preferredReadReplica: -1,
                  records,
                },
              ],
            },
          ],
        },
      },
    },
    {
      request: {
        type: 'FetchSnapshotRequest',
        correlationId: 105,
        body: {
          ...FetchSnapshotRequest.create(),
          clusterId: 'cluster-x',
          replicaId: 1,
          maxBytes: 4096,
          topics: [
            {
              name: METADATA_TOPIC_NAME,
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: 7,
                  snapshotId: { endOffset: 100n, epoch: 5 },
                  position: 4096n,
                  replicaDirectoryId: DIR_ID,
                },
              ],
            },
          ],
        },
      },
      response: {
        type: 'FetchSnapshotResponse',
        correlationId: 105,
        body: {
          ...FetchSnapshotResponse.create(),
          topics: [
            {
              name: METADATA_TOPIC_NAME,
              partitions: [
                {
                  index: 0,
                  errorCode: 0,
                  snapshotId: { endOffset: 100n, epoch: 5 },
                  currentLeader: { leaderId: 2, leaderEpoch: 7 },
                  size: 10_000n,
                  position: 4096n,
                  unalignedRecords: Buffer.alloc(4096, 9),
                },
              ],
            },
          ],
        },
      },
    },
  ];
}

function codecsOf(type: RaftMessage['type']): { codec: MessageCodec<unknown>; version: number } {
  const table: Record<RaftMessage['type'], [MessageCodec<unknown>, number]> = {
    VoteRequest: [VoteRequest, RAFT_API_VERSIONS.Vote],
    VoteResponse: [VoteResponse, RAFT_API_VERSIONS.Vote],
    BeginQuorumEpochRequest: [BeginQuorumEpochRequest, RAFT_API_VERSIONS.BeginQuorumEpoch],
    BeginQuorumEpochResponse: [BeginQuorumEpochResponse, RAFT_API_VERSIONS.BeginQuorumEpoch],
    EndQuorumEpochRequest: [EndQuorumEpochRequest, RAFT_API_VERSIONS.EndQuorumEpoch],
    EndQuorumEpochResponse: [EndQuorumEpochResponse, RAFT_API_VERSIONS.EndQuorumEpoch],
    FetchRequest: [FetchRequest, RAFT_API_VERSIONS.Fetch],
    FetchResponse: [FetchResponse, RAFT_API_VERSIONS.Fetch],
    FetchSnapshotRequest: [FetchSnapshotRequest, RAFT_API_VERSIONS.FetchSnapshot],
    FetchSnapshotResponse: [FetchSnapshotResponse, RAFT_API_VERSIONS.FetchSnapshot],
  };
  const [codec, version] = table[type];
  return { codec: codec, version };
}

void describe('TcpTransport', () => {
  void test('every message type round-trips: the request to the peer, its response back', async () => {
    const a = await node(1);
    const b = await node(2);
    a.t.setPeerAddress(2, { host: HOST, port: b.port });
    b.t.setPeerAddress(1, { host: HOST, port: a.port });
    const all = messages();
    for (const { request } of all) a.t.send(2, request);
    await waitFor('every request at node 2', () => b.inbox.length === all.length);
    for (const [i, { request, response }] of all.entries()) {
      const got = b.inbox[i]!;
      assert.equal(got.from, 1, `${request.type}: the sender is read from the body`);
      assert.equal(got.message.type, request.type);
      assert.equal(got.message.correlationId, request.correlationId);
      const { codec, version } = codecsOf(request.type);
      assertSameBody(codec, version, got.message.body, request.body, request.type);
      b.t.send(1, response);
    }
    await waitFor('every response at node 1', () => a.inbox.length === all.length);
    for (const [i, { response }] of all.entries()) {
      const got = a.inbox[i]!;
      assert.equal(got.from, 2, `${response.type} comes from the peer of its connection`);
      assert.equal(got.message.type, response.type);
      assert.equal(got.message.correlationId, response.correlationId);
      const { codec, version } = codecsOf(response.type);
      assertSameBody(codec, version, got.message.body, response.body, response.type);
    }
    // Details that matter to the core: the pre-vote flag and the fetched entries.
    const vote = b.inbox[0]!.message;
    assert.ok(
      vote.type === 'VoteRequest' &&
        vote.body.topics[0]?.partitions[0]?.unknownTaggedFields?.[0]?.tag === PRE_VOTE_TAG,
      'the pre-vote tagged field survives',
    );
    const fetched = a.inbox[3]!.message;
    assert.ok(fetched.type === 'FetchResponse', 'a FetchResponse');
    const recs = fetched.body.responses[0]?.partitions[0]?.records ?? null;
    assert.ok(recs !== null, 'records arrive');
    const entries = decodeEntries(recs);
    assert.ok(!(entries instanceof Error), 'records decode');
    assert.deepEqual(
      entries.map((e) => [e.offset, e.epoch, e.data.toString()]),
      [
        [10, 3, 'a'],
        [11, 3, 'bb'],
        [12, 4, ''],
      ],
    );
    assert.equal(a.t.stats.droppedMalformed + b.t.stats.droppedMalformed, 0, 'nothing malformed');
  });

  void test('a fetch from an observer (an id not among the peers) is answered on its connection', async () => {
    const leader = await node(1);
    const observer = await node(7);
    observer.t.setPeerAddress(1, { host: HOST, port: leader.port });
    const { request, response } = messages()[3]!;
    assert.ok(request.type === 'FetchRequest' && response.type === 'FetchResponse', 'a fetch');
    observer.t.send(1, {
      ...request,
      body: { ...request.body, replicaState: { replicaId: 7, replicaEpoch: -1n } },
    });
    await waitFor('the fetch', () => leader.inbox.length === 1);
    assert.equal(leader.inbox[0]!.from, 7);
    // The leader knows no address for 7: the answer still goes back on the connection it came on.
    leader.t.send(7, response);
    await waitFor('the answer', () => observer.inbox.length === 1);
    assert.equal(observer.inbox[0]!.message.type, 'FetchResponse');
  });

  void test('messages wait for a peer that comes up late, and reach it once it is reconnected after a restart', async () => {
    const port = await freePort();
    const a = await node(1, { limits: { reconnectBackoffMinMs: 5, reconnectBackoffMaxMs: 40 } });
    a.t.setPeerAddress(2, { host: HOST, port });
    const { request } = messages()[1]!;
    a.t.send(2, { ...request, correlationId: 1 });
    await new Promise((r) => setTimeout(r, 60)); // a few refused connection attempts
    let b = await node(2, { port });
    await waitFor('the queued request', () => b.inbox.length === 1);
    assert.equal(b.inbox[0]!.message.correlationId, 1);

    await b.t.close();
    await waitFor('the disconnect', () => a.t.stats.disconnects === 1);
    b = await node(2, { port });
    a.t.send(2, { ...request, correlationId: 2 });
    await waitFor('the request after the restart', () => b.inbox.length === 1);
    assert.equal(b.inbox[0]!.message.correlationId, 2);
    assert.ok(a.t.stats.connects >= 2, `reconnected (${a.t.stats.connects} connects)`);
  });

  void test('the queue for a peer that is down is bounded: the oldest messages are dropped', async () => {
    const port = await freePort();
    const a = await node(1, {
      limits: { queueMessagesMax: 5, reconnectBackoffMinMs: 5, reconnectBackoffMaxMs: 20 },
    });
    a.t.setPeerAddress(2, { host: HOST, port });
    const { request } = messages()[1]!;
    for (let i = 1; i <= 12; i++) a.t.send(2, { ...request, correlationId: i });
    assert.equal(a.t.stats.droppedFull, 7);
    const b = await node(2, { port });
    await waitFor('the queued requests', () => b.inbox.length === 5);
    assert.deepEqual(
      b.inbox.map((r) => r.message.correlationId),
      [8, 9, 10, 11, 12],
    );
  });

  void test('a response with no request to answer, and a message to an unknown peer, are dropped', async () => {
    const a = await node(1);
    a.t.send(2, messages()[0]!.response);
    a.t.send(9, messages()[0]!.request);
    assert.equal(a.t.stats.droppedNoRoute, 2);
  });

  void test('bad input: an undecodable request is dropped, an oversized frame closes the connection', async () => {
    const a = await node(1, { limits: { frameBytesMax: 1024 } });
    const socket = net.connect({ host: HOST, port: a.port });
    await new Promise((r) => socket.once('connect', r));
    // A Vote request frame whose body is cut short.
    const frame = Buffer.concat(
      encodeRequestFrame(VoteRequest, messages()[0]!.request.body as VoteRequest, {
        apiVersion: 1,
        correlationId: 5,
        clientId: 'x',
      }),
    );
    const cut = Buffer.from(frame.subarray(0, frame.length - 10));
    cut.writeInt32BE(cut.length - 4, 0);
    socket.write(cut);
    await waitFor('the malformed request counted', () => a.t.stats.droppedMalformed === 1);
    const closed = new Promise((r) => socket.once('close', r));
    const big = Buffer.alloc(8);
    big.writeInt32BE(4096, 0);
    socket.write(big);
    await closed;
    assert.equal(a.t.stats.droppedMalformed, 2);
    assert.equal(a.inbox.length, 0, 'nothing reached the node');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
