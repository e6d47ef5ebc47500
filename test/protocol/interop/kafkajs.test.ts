/**
 * Cross-checks Samsa's generated codecs against kafkajs 2.x, an independent implementation.
 *
 * For every API and version kafkajs implements (its src/protocol/requests/<api>/v<N>/ dirs):
 *  - request body: kafkajs encodes a request; Samsa decodes it (every byte consumed) and must see
 *    exactly the values given to kafkajs (mapped to the spec's field names); Samsa re-encoding
 *    the decoded value must give kafkajs's bytes back.
 *  - request frame: kafkajs's src/protocol/request.js frame (size, header v1, body) decodes with
 *    Samsa's decodeRequest, and Samsa's encodeRequestFrame of the same request gives the same bytes.
 *  - response: Samsa encodes a response frame (encodeResponseFrame); as kafkajs's connection does,
 *    the size and correlation id are stripped and the rest goes to kafkajs's decode + parse, which
 *    must see the values Samsa wrote (error codes are 0: kafkajs's parse throws on errors).
 *
 * kafkajs quirks that the expectations encode (not Samsa bugs):
 *  - kafkajs writes requests with header v1 only, so for its flexible APIs
 *    (AlterPartitionReassignments v0, ListPartitionReassignments v0) it writes header v2's
 *    tagged-field count as the first byte of the body and reads the response header's tagged
 *    fields at the start of the response body.
 *  - Empty arrays become null in versions where kafkajs uses writeNullableArray (Metadata v1+
 *    topics: "all topics"; OffsetFetch v3+ topics; DescribeConfigs configNames; CreatePartitions
 *    assignments).
 *  - SaslAuthenticate: kafkajs passes authBytes already length-prefixed and, on responses, hands
 *    back authBytes re-wrapped with an int32 length prefix.
 *  - DeleteGroups v1: kafkajs reads `throttleTime` from a v0 result that names it `throttleTimeMs`,
 *    so its clientSideThrottleTime is always undefined.
 *  - DeleteRecords: kafkajs returns lowWatermark as its Long object (compared via toString).
 *  - CreateTopics/DeleteTopics/CreatePartitions/DeleteRecords v0+: kafkajs sorts results by topic.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { decodeRequest, encodeRequestFrame, encodeResponseFrame } from '../../../src/protocol/frame.js';
import { encodeMessage } from '../../../src/protocol/message.js';
import type { MessageCodec } from '../../../src/protocol/primitives/codec.js';
import {
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  AlterConfigsRequest,
  AlterConfigsResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateAclsRequest,
  CreateAclsResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  EndTxnRequest,
  EndTxnResponse,
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  MetadataRequest,
  MetadataResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  ProduceRequest,
  ProduceResponse,
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
  SyncGroupRequest,
  SyncGroupResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
} from '../../../src/protocol/generated/index.js';
import {
  KjsDecoder,
  KjsEncoderClass,
  kjsApis,
  kjsFrame,
  kjsMessageSet,
  kjsMessageSetDecoder,
  kjsRecord,
  kjsRecordBatch,
  kjsRecordBatchDecoder,
  kjsRequest,
  kjsResponseModule,
  kjsVersions,
  kafkajsVersion,
  type KjsMessage,
  type KjsResponse,
} from './support/kafkajs.js';
import { assertSameBytes, concat, decodeExact, fit, mk, range } from './support/samsa.js';

type Obj = Record<string, unknown>;

interface RequestScenario<Req> {
  name: string;
  /** Versions this scenario applies to (default: all of the case's versions). */
  versions?: number[];
  /** Arguments to kafkajs's request factory. */
  args: (v: number) => unknown;
  /** What Samsa must decode. */
  expect: (v: number) => Req;
}

interface KjsCase<Req, Res> {
  /** kafkajs's directory name under src/protocol/requests. */
  api: string;
  versions: number[];
  request: MessageCodec<Req>;
  response: MessageCodec<Res>;
  requests: RequestScenario<Req>[];
  /** kafkajs puts request header v2's tagged-field count at the start of the body (see header). */
  headerTagInBody?: boolean;
  /** Checks what a plain deep-equal cannot (record sets), returning a copy to compare with `expect`. */
  checkRequest?: (decoded: Req, v: number, scenario: string) => Promise<Req>;
  /** Samsa's response value (before fitting to the version). */
  responseValue: (v: number) => Res;
  /** What kafkajs's decode + parse must return. */
  expectResponse: (v: number) => Obj;
  /** Summarises parts of kafkajs's result that are not plain data (messages, Long). */
  normalizeResponse?: (parsed: Obj, v: number) => Obj;
  /** kafkajs's response module when it is not { decode, parse }. */
  responseModule?: (v: number) => KjsResponse;
}

function kjsCase<Req, Res>(c: KjsCase<Req, Res>): KjsCase<unknown, unknown> {
  return c as unknown as KjsCase<unknown, unknown>;
}

/** kafkajs's v(N) "throttleTime" forms: up to `clientSideFrom - 1` the plain field, after it 0 plus clientSideThrottleTime. */
function throttle(v: number, t: number, plainFrom: number, clientSideFrom: number): Obj {
  if (v < plainFrom) return {};
  if (v < clientSideFrom) return { throttleTime: t };
  return { throttleTime: 0, clientSideThrottleTime: t };
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
/** A non-ASCII name: Kafka strings are length-prefixed UTF-8 bytes, not characters. */
const UTF8_TOPIC = 'tópico-日本-🚀';
/** kafkajs's Encoder.writeBytes: int32 length then the bytes. */
const lengthPrefixed = (b: Buffer): Buffer => new KjsEncoderClass().writeBytes(b).buffer;

// ---------------------------------------------------------------------------------------------
// Record sets used in Produce requests and Fetch responses, built with kafkajs's own encoders.

const TS = 1_700_000_000_000;
const MESSAGES = [
  { key: 'k1', value: 'v1', timestamp: TS },
  { key: 'k2', value: 'v2', timestamp: TS + 5 },
];
// (kafkajs numbers message-set entries 0, 1, ... unless compression is explicitly None.)
const fetchMessageSetV0 = kjsMessageSet({ messageVersion: 0, entries: MESSAGES }).buffer;
const fetchMessageSetV1 = kjsMessageSet({ messageVersion: 1, entries: MESSAGES }).buffer;
const fetchRecordBatch = (
  await kjsRecordBatch({
    firstOffset: 100,
    firstTimestamp: TS,
    maxTimestamp: TS + 5,
    lastOffsetDelta: 1,
    records: MESSAGES.map((m, i) =>
      kjsRecord({ offsetDelta: i, timestampDelta: m.timestamp - TS, key: m.key, value: m.value }),
    ),
  })
).buffer;

/** Stands in for record sets that checkRequest verified with kafkajs's own decoders. */
const RECORDS_CHECKED = Buffer.from('<records checked by kafkajs decoders>');

function summarize(messages: KjsMessage[]): Obj[] {
  return messages.map((m) => ({
    offset: m.offset,
    key: m.key?.toString() ?? null,
    value: m.value?.toString() ?? null,
  }));
}

// ---------------------------------------------------------------------------------------------
// The cases, one per kafkajs API directory.

const cases: KjsCase<unknown, unknown>[] = [
  kjsCase({
    api: 'apiVersions',
    versions: range(0, 2),
    request: ApiVersionsRequest,
    response: ApiVersionsResponse,
    requests: [{ name: 'empty', args: () => undefined, expect: () => ApiVersionsRequest.create() }],
    responseValue: () =>
      mk(ApiVersionsResponse.create, {
        errorCode: 0,
        apiKeys: [
          mk(ApiVersionsResponse.structs.ApiVersion, { apiKey: 0, minVersion: 3, maxVersion: 11 }),
          mk(ApiVersionsResponse.structs.ApiVersion, { apiKey: 18, minVersion: 0, maxVersion: 4 }),
        ],
        throttleTimeMs: 17,
      }),
    expectResponse: (v) => ({
      errorCode: 0,
      apiVersions: [
        { apiKey: 0, minVersion: 3, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      ...throttle(v, 17, 1, 2),
    }),
  }),

  kjsCase({
    api: 'metadata',
    versions: range(0, 6),
    request: MetadataRequest,
    response: MetadataResponse,
    requests: [
      {
        name: 'two topics, no auto-creation',
        args: () => ({ topics: ['orders', UTF8_TOPIC], allowAutoTopicCreation: false }),
        expect: (v) =>
          fit(
            MetadataRequest,
            mk(MetadataRequest.create, {
              topics: ['orders', UTF8_TOPIC].map((name) =>
                mk(MetadataRequest.structs.MetadataRequestTopic, { name }),
              ),
              allowAutoTopicCreation: false,
            }),
            v,
          ),
      },
      {
        // kafkajs sends an empty list as null (all topics) from v1 on.
        name: 'all topics',
        args: () => ({ topics: [] }),
        expect: (v) => mk(MetadataRequest.create, { topics: v === 0 ? [] : null }),
      },
    ],
    responseValue: () =>
      mk(MetadataResponse.create, {
        throttleTimeMs: 23,
        brokers: [
          mk(MetadataResponse.structs.MetadataResponseBroker, {
            nodeId: 1,
            host: 'b1.local',
            port: 9092,
            rack: 'r1',
          }),
          mk(MetadataResponse.structs.MetadataResponseBroker, {
            nodeId: 2,
            host: 'b2.local',
            port: 9093,
            rack: null,
          }),
        ],
        clusterId: 'cluster-xyz',
        controllerId: 2,
        topics: [
          mk(MetadataResponse.structs.MetadataResponseTopic, {
            errorCode: 0,
            name: UTF8_TOPIC,
            isInternal: true,
            partitions: [
              mk(MetadataResponse.structs.MetadataResponsePartition, {
                errorCode: 0,
                partitionIndex: 0,
                leaderId: 1,
                leaderEpoch: 4,
                replicaNodes: [1, 2],
                isrNodes: [1],
                offlineReplicas: [2],
              }),
              mk(MetadataResponse.structs.MetadataResponsePartition, {
                errorCode: 0,
                partitionIndex: 1,
                leaderId: 2,
                replicaNodes: [2, 1],
                isrNodes: [2, 1],
                offlineReplicas: [],
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 3 ? throttle(v, 23, 3, 6) : {}),
      brokers:
        v === 0
          ? [
              { nodeId: 1, host: 'b1.local', port: 9092 },
              { nodeId: 2, host: 'b2.local', port: 9093 },
            ]
          : [
              { nodeId: 1, host: 'b1.local', port: 9092, rack: 'r1' },
              { nodeId: 2, host: 'b2.local', port: 9093, rack: null },
            ],
      ...(v >= 2 ? { clusterId: 'cluster-xyz' } : {}),
      ...(v >= 1 ? { controllerId: 2 } : {}),
      topicMetadata: [
        {
          topicErrorCode: 0,
          topic: UTF8_TOPIC,
          ...(v >= 1 ? { isInternal: true } : {}),
          partitionMetadata: [
            {
              partitionErrorCode: 0,
              partitionId: 0,
              leader: 1,
              replicas: [1, 2],
              isr: [1],
              ...(v >= 5 ? { offlineReplicas: [2] } : {}),
            },
            {
              partitionErrorCode: 0,
              partitionId: 1,
              leader: 2,
              replicas: [2, 1],
              isr: [2, 1],
              ...(v >= 5 ? { offlineReplicas: [] } : {}),
            },
          ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'produce',
    versions: range(0, 7),
    request: ProduceRequest,
    response: ProduceResponse,
    requests: [
      {
        name: 'transactional, two messages',
        args: () => ({
          acks: -1,
          timeout: 30000,
          transactionalId: 'txn-1',
          producerId: 4000,
          producerEpoch: 2,
          compression: 0,
          topicData: [
            { topic: 'orders', partitions: [{ partition: 3, firstSequence: 5, messages: MESSAGES }] },
          ],
        }),
        expect: (v) =>
          fit(
            ProduceRequest,
            mk(ProduceRequest.create, {
              transactionalId: 'txn-1',
              acks: -1,
              timeoutMs: 30000,
              topicData: [
                mk(ProduceRequest.structs.TopicProduceData, {
                  name: 'orders',
                  partitionData: [
                    mk(ProduceRequest.structs.PartitionProduceData, { index: 3, records: RECORDS_CHECKED }),
                  ],
                }),
              ],
            }),
            v,
          ),
      },
      {
        name: 'idempotent, acks=1',
        versions: range(3, 7),
        args: () => ({
          acks: 1,
          timeout: 1000,
          producerId: 7,
          producerEpoch: 0,
          topicData: [
            { topic: 'a', partitions: [{ partition: 0, firstSequence: 0, messages: MESSAGES.slice(0, 1) }] },
            { topic: 'b', partitions: [{ partition: 1, firstSequence: 9, messages: MESSAGES.slice(1) }] },
          ],
        }),
        expect: () =>
          mk(ProduceRequest.create, {
            transactionalId: null,
            acks: 1,
            timeoutMs: 1000,
            topicData: [
              mk(ProduceRequest.structs.TopicProduceData, {
                name: 'a',
                partitionData: [
                  mk(ProduceRequest.structs.PartitionProduceData, { index: 0, records: RECORDS_CHECKED }),
                ],
              }),
              mk(ProduceRequest.structs.TopicProduceData, {
                name: 'b',
                partitionData: [
                  mk(ProduceRequest.structs.PartitionProduceData, { index: 1, records: RECORDS_CHECKED }),
                ],
              }),
            ],
          }),
      },
    ],
    // The record sets Samsa sliced out must be what kafkajs wrote: decode them with kafkajs.
    checkRequest: async (decoded, v, scenario) => {
      const txn = scenario.startsWith('transactional');
      for (const [ti, topic] of decoded.topicData.entries()) {
        for (const p of topic.partitionData) {
          const records = p.records;
          assert.ok(records !== null, 'records must not be null');
          const expected = txn ? MESSAGES : ti === 0 ? MESSAGES.slice(0, 1) : MESSAGES.slice(1);
          if (v < 3) {
            const messages = await kjsMessageSetDecoder(new KjsDecoder(records), records.length);
            assert.deepStrictEqual(
              messages.map((m) => [m.key?.toString(), m.value?.toString(), m.magicByte]),
              expected.map((m) => [m.key, m.value, v < 2 ? 0 : 1]),
            );
          } else {
            const batch = await kjsRecordBatchDecoder(new KjsDecoder(records));
            assert.deepStrictEqual(
              batch.records.map((m) => [m.key?.toString(), m.value?.toString()]),
              expected.map((m) => [m.key, m.value]),
            );
            assert.equal(batch.producerId, txn ? '4000' : '7');
            assert.equal(batch.inTransaction, txn);
          }
        }
      }
      return {
        ...decoded,
        topicData: decoded.topicData.map((t) => ({
          ...t,
          partitionData: t.partitionData.map((p) => ({ ...p, records: RECORDS_CHECKED })),
        })),
      };
    },
    responseValue: () =>
      mk(ProduceResponse.create, {
        throttleTimeMs: 31,
        responses: [
          mk(ProduceResponse.structs.TopicProduceResponse, {
            name: 'orders',
            partitionResponses: [
              mk(ProduceResponse.structs.PartitionProduceResponse, {
                index: 3,
                errorCode: 0,
                baseOffset: 9_007_199_254_740_993n,
                logAppendTimeMs: 1_700_000_000_123n,
                logStartOffset: 12n,
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      topics: [
        {
          topicName: 'orders',
          partitions: [
            v < 3
              ? {
                  partition: 3,
                  errorCode: 0,
                  offset: '9007199254740993',
                  ...(v >= 2 ? { timestamp: '1700000000123' } : {}),
                }
              : {
                  partition: 3,
                  errorCode: 0,
                  baseOffset: '9007199254740993',
                  logAppendTime: '1700000000123',
                  ...(v >= 5 ? { logStartOffset: '12' } : {}),
                },
          ],
        },
      ],
      ...throttle(v, 31, 1, 6),
    }),
  }),

  kjsCase({
    api: 'fetch',
    versions: range(0, 11),
    request: FetchRequest,
    response: FetchResponse,
    requests: [
      {
        name: 'one partition, session, forgotten topics',
        args: () => ({
          replicaId: -1,
          maxWaitTime: 500,
          minBytes: 1,
          maxBytes: 10_485_760,
          isolationLevel: 1,
          sessionId: 77,
          sessionEpoch: 3,
          rackId: 'rack-a',
          forgottenTopics: [{ topic: 'old', partitions: [1, 2] }],
          topics: [
            {
              topic: 'orders',
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: 4,
                  fetchOffset: '9007199254740993',
                  logStartOffset: '2',
                  maxBytes: 65536,
                },
                { partition: 5, fetchOffset: '0', maxBytes: 1024 },
              ],
            },
          ],
        }),
        expect: (v) =>
          fit(
            FetchRequest,
            mk(FetchRequest.create, {
              replicaId: -1,
              maxWaitMs: 500,
              minBytes: 1,
              maxBytes: 10_485_760,
              isolationLevel: 1,
              sessionId: 77,
              sessionEpoch: 3,
              rackId: 'rack-a',
              forgottenTopicsData: [
                mk(FetchRequest.structs.ForgottenTopic, { topic: 'old', partitions: [1, 2] }),
              ],
              topics: [
                mk(FetchRequest.structs.FetchTopic, {
                  topic: 'orders',
                  partitions: [
                    mk(FetchRequest.structs.FetchPartition, {
                      partition: 0,
                      currentLeaderEpoch: 4,
                      fetchOffset: 9_007_199_254_740_993n,
                      logStartOffset: 2n,
                      partitionMaxBytes: 65536,
                    }),
                    mk(FetchRequest.structs.FetchPartition, {
                      partition: 5,
                      currentLeaderEpoch: -1,
                      fetchOffset: 0n,
                      logStartOffset: -1n,
                      partitionMaxBytes: 1024,
                    }),
                  ],
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: (v) =>
      mk(FetchResponse.create, {
        throttleTimeMs: 41,
        errorCode: 0,
        sessionId: 77,
        responses: [
          mk(FetchResponse.structs.FetchableTopicResponse, {
            topic: 'orders',
            partitions: [
              mk(FetchResponse.structs.PartitionData, {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: 200n,
                lastStableOffset: 150n,
                logStartOffset: 5n,
                abortedTransactions: [
                  mk(FetchResponse.structs.AbortedTransaction, { producerId: 9n, firstOffset: 120n }),
                ],
                preferredReadReplica: 2,
                records: v < 2 ? fetchMessageSetV0 : v < 4 ? fetchMessageSetV1 : fetchRecordBatch,
              }),
            ],
          }),
        ],
      }),
    normalizeResponse: (parsed) => {
      const responses = parsed.responses as { partitions: Obj[] }[];
      return {
        ...parsed,
        responses: responses.map((t) => ({
          ...t,
          partitions: t.partitions.map((p) => ({ ...p, messages: summarize(p.messages as KjsMessage[]) })),
        })),
      };
    },
    expectResponse: (v) => ({
      ...(v >= 1 ? throttle(v, 41, 1, 8) : {}),
      ...(v >= 7 ? { errorCode: 0, sessionId: 77 } : {}),
      responses: [
        {
          topicName: 'orders',
          partitions: [
            {
              partition: 0,
              errorCode: 0,
              highWatermark: '200',
              ...(v >= 4 ? { lastStableOffset: '150' } : {}),
              ...(v >= 5 ? { lastStartOffset: '5' } : {}),
              ...(v >= 4 ? { abortedTransactions: [{ producerId: '9', firstOffset: '120' }] } : {}),
              ...(v >= 11 ? { preferredReadReplica: 2 } : {}),
              messages: MESSAGES.map((m, i) => ({
                offset: String((v < 4 ? 0 : 100) + i),
                key: m.key,
                value: m.value,
              })),
            },
          ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'listOffsets',
    versions: range(0, 3),
    request: ListOffsetsRequest,
    response: ListOffsetsResponse,
    requests: [
      {
        name: 'by timestamp',
        args: () => ({
          replicaId: -1,
          isolationLevel: 1,
          topics: [
            {
              topic: 'orders',
              partitions: [
                { partition: 0, timestamp: TS, maxNumOffsets: 3 },
                { partition: 1, timestamp: -2 },
              ],
            },
          ],
        }),
        expect: (v) =>
          fit(
            ListOffsetsRequest,
            mk(ListOffsetsRequest.create, {
              replicaId: -1,
              isolationLevel: 1,
              topics: [
                mk(ListOffsetsRequest.structs.ListOffsetsTopic, {
                  name: 'orders',
                  partitions: [
                    mk(ListOffsetsRequest.structs.ListOffsetsPartition, {
                      partitionIndex: 0,
                      timestamp: BigInt(TS),
                      maxNumOffsets: 3,
                    }),
                    mk(ListOffsetsRequest.structs.ListOffsetsPartition, {
                      partitionIndex: 1,
                      timestamp: -2n,
                      maxNumOffsets: 1,
                    }),
                  ],
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(ListOffsetsResponse.create, {
        throttleTimeMs: 5,
        topics: [
          mk(ListOffsetsResponse.structs.ListOffsetsTopicResponse, {
            name: 'orders',
            partitions: [
              mk(ListOffsetsResponse.structs.ListOffsetsPartitionResponse, {
                partitionIndex: 0,
                errorCode: 0,
                oldStyleOffsets: [300n, 200n],
                timestamp: BigInt(TS),
                offset: 300n,
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 2 ? throttle(v, 5, 2, 3) : {}),
      responses: [
        {
          topic: 'orders',
          partitions: [
            v === 0
              ? { partition: 0, errorCode: 0, offsets: ['300', '200'] }
              : { partition: 0, errorCode: 0, timestamp: String(TS), offset: '300' },
          ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'findCoordinator',
    versions: range(0, 2),
    request: FindCoordinatorRequest,
    response: FindCoordinatorResponse,
    requests: [
      {
        name: 'group',
        versions: [0],
        args: () => ({ groupId: 'group-1' }),
        expect: () => mk(FindCoordinatorRequest.create, { key: 'group-1' }),
      },
      {
        name: 'transaction',
        versions: [1, 2],
        args: () => ({ coordinatorKey: 'txn-1', coordinatorType: 1 }),
        expect: () => mk(FindCoordinatorRequest.create, { key: 'txn-1', keyType: 1 }),
      },
    ],
    responseValue: () =>
      mk(FindCoordinatorResponse.create, {
        throttleTimeMs: 3,
        errorCode: 0,
        errorMessage: null,
        nodeId: 7,
        host: 'broker-7',
        port: 19092,
      }),
    expectResponse: (v) => ({
      ...(v >= 1 ? throttle(v, 3, 1, 2) : {}),
      errorCode: 0,
      ...(v >= 1 ? { errorMessage: null } : {}),
      coordinator: { nodeId: 7, host: 'broker-7', port: 19092 },
    }),
  }),

  kjsCase({
    api: 'joinGroup',
    versions: range(0, 5),
    request: JoinGroupRequest,
    response: JoinGroupResponse,
    requests: [
      {
        name: 'consumer protocols',
        args: () => ({
          groupId: 'group-1',
          sessionTimeout: 30000,
          rebalanceTimeout: 60000,
          memberId: 'member-1',
          groupInstanceId: 'instance-1',
          protocolType: 'consumer',
          groupProtocols: [
            { name: 'range', metadata: bytes('range-meta') },
            { name: 'roundrobin', metadata: Buffer.alloc(0) },
          ],
        }),
        expect: (v) =>
          fit(
            JoinGroupRequest,
            mk(JoinGroupRequest.create, {
              groupId: 'group-1',
              sessionTimeoutMs: 30000,
              rebalanceTimeoutMs: 60000,
              memberId: 'member-1',
              groupInstanceId: 'instance-1',
              protocolType: 'consumer',
              protocols: [
                mk(JoinGroupRequest.structs.JoinGroupRequestProtocol, {
                  name: 'range',
                  metadata: bytes('range-meta'),
                }),
                mk(JoinGroupRequest.structs.JoinGroupRequestProtocol, {
                  name: 'roundrobin',
                  metadata: Buffer.alloc(0),
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(JoinGroupResponse.create, {
        throttleTimeMs: 8,
        errorCode: 0,
        generationId: 12,
        protocolName: 'range',
        leader: 'member-1',
        memberId: 'member-2',
        members: [
          mk(JoinGroupResponse.structs.JoinGroupResponseMember, {
            memberId: 'member-1',
            groupInstanceId: 'instance-1',
            metadata: bytes('m1'),
          }),
          mk(JoinGroupResponse.structs.JoinGroupResponseMember, {
            memberId: 'member-2',
            groupInstanceId: null,
            metadata: bytes('m2'),
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 2 ? throttle(v, 8, 2, 3) : {}),
      errorCode: 0,
      generationId: 12,
      groupProtocol: 'range',
      leaderId: 'member-1',
      memberId: 'member-2',
      members: [
        {
          memberId: 'member-1',
          ...(v >= 5 ? { groupInstanceId: 'instance-1' } : {}),
          memberMetadata: bytes('m1'),
        },
        { memberId: 'member-2', ...(v >= 5 ? { groupInstanceId: null } : {}), memberMetadata: bytes('m2') },
      ],
    }),
  }),

  kjsCase({
    api: 'syncGroup',
    versions: range(0, 3),
    request: SyncGroupRequest,
    response: SyncGroupResponse,
    requests: [
      {
        name: 'leader assignments',
        args: () => ({
          groupId: 'group-1',
          generationId: 12,
          memberId: 'member-1',
          groupInstanceId: 'instance-1',
          groupAssignment: [
            { memberId: 'member-1', memberAssignment: bytes('a1') },
            { memberId: 'member-2', memberAssignment: bytes('a2') },
          ],
        }),
        expect: (v) =>
          fit(
            SyncGroupRequest,
            mk(SyncGroupRequest.create, {
              groupId: 'group-1',
              generationId: 12,
              memberId: 'member-1',
              groupInstanceId: 'instance-1',
              assignments: [
                mk(SyncGroupRequest.structs.SyncGroupRequestAssignment, {
                  memberId: 'member-1',
                  assignment: bytes('a1'),
                }),
                mk(SyncGroupRequest.structs.SyncGroupRequestAssignment, {
                  memberId: 'member-2',
                  assignment: bytes('a2'),
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(SyncGroupResponse.create, { throttleTimeMs: 4, errorCode: 0, assignment: bytes('my-assignment') }),
    expectResponse: (v) => ({
      ...(v >= 1 ? throttle(v, 4, 1, 2) : {}),
      errorCode: 0,
      memberAssignment: bytes('my-assignment'),
    }),
  }),

  kjsCase({
    api: 'heartbeat',
    versions: range(0, 3),
    request: HeartbeatRequest,
    response: HeartbeatResponse,
    requests: [
      {
        name: 'static member',
        args: () => ({
          groupId: 'group-1',
          groupGenerationId: 12,
          memberId: 'member-1',
          groupInstanceId: 'instance-1',
        }),
        expect: (v) =>
          fit(
            HeartbeatRequest,
            mk(HeartbeatRequest.create, {
              groupId: 'group-1',
              generationId: 12,
              memberId: 'member-1',
              groupInstanceId: 'instance-1',
            }),
            v,
          ),
      },
      {
        name: 'dynamic member',
        versions: [3],
        args: () => ({ groupId: 'g', groupGenerationId: -1, memberId: '', groupInstanceId: null }),
        expect: () =>
          mk(HeartbeatRequest.create, {
            groupId: 'g',
            generationId: -1,
            memberId: '',
            groupInstanceId: null,
          }),
      },
    ],
    responseValue: () => mk(HeartbeatResponse.create, { throttleTimeMs: 6, errorCode: 0 }),
    expectResponse: (v) => ({ ...(v >= 1 ? throttle(v, 6, 1, 2) : {}), errorCode: 0 }),
  }),

  kjsCase({
    api: 'leaveGroup',
    versions: range(0, 3),
    request: LeaveGroupRequest,
    response: LeaveGroupResponse,
    requests: [
      {
        name: 'one member',
        versions: range(0, 2),
        args: () => ({ groupId: 'group-1', memberId: 'member-1' }),
        expect: () => mk(LeaveGroupRequest.create, { groupId: 'group-1', memberId: 'member-1' }),
      },
      {
        name: 'batch',
        versions: [3],
        args: () => ({
          groupId: 'group-1',
          members: [{ memberId: 'member-1', groupInstanceId: 'instance-1' }, { memberId: 'member-2' }],
        }),
        expect: () =>
          mk(LeaveGroupRequest.create, {
            groupId: 'group-1',
            members: [
              mk(LeaveGroupRequest.structs.MemberIdentity, {
                memberId: 'member-1',
                groupInstanceId: 'instance-1',
              }),
              mk(LeaveGroupRequest.structs.MemberIdentity, { memberId: 'member-2', groupInstanceId: null }),
            ],
          }),
      },
    ],
    responseValue: () =>
      mk(LeaveGroupResponse.create, {
        throttleTimeMs: 2,
        errorCode: 0,
        members: [
          mk(LeaveGroupResponse.structs.MemberResponse, {
            memberId: 'member-1',
            groupInstanceId: 'instance-1',
            errorCode: 0,
          }),
          mk(LeaveGroupResponse.structs.MemberResponse, {
            memberId: 'member-2',
            groupInstanceId: null,
            errorCode: 0,
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 1 ? throttle(v, 2, 1, 2) : {}),
      errorCode: 0,
      ...(v >= 3
        ? {
            members: [
              { memberId: 'member-1', groupInstanceId: 'instance-1', errorCode: 0 },
              { memberId: 'member-2', groupInstanceId: null, errorCode: 0 },
            ],
          }
        : {}),
    }),
  }),

  kjsCase({
    api: 'offsetCommit',
    versions: range(0, 5),
    request: OffsetCommitRequest,
    response: OffsetCommitResponse,
    requests: [
      {
        name: 'two partitions',
        args: () => ({
          groupId: 'group-1',
          groupGenerationId: 12,
          memberId: 'member-1',
          retentionTime: 86_400_000,
          topics: [
            {
              topic: 'orders',
              partitions: [
                { partition: 0, offset: '9007199254740993', timestamp: TS, metadata: 'meta' },
                { partition: 1, offset: '0', timestamp: TS },
              ],
            },
          ],
        }),
        expect: (v) =>
          fit(
            OffsetCommitRequest,
            mk(OffsetCommitRequest.create, {
              groupId: 'group-1',
              generationIdOrMemberEpoch: 12,
              memberId: 'member-1',
              retentionTimeMs: 86_400_000n,
              topics: [
                mk(OffsetCommitRequest.structs.OffsetCommitRequestTopic, {
                  name: 'orders',
                  partitions: [
                    mk(OffsetCommitRequest.structs.OffsetCommitRequestPartition, {
                      partitionIndex: 0,
                      committedOffset: 9_007_199_254_740_993n,
                      commitTimestamp: BigInt(TS),
                      committedMetadata: 'meta',
                    }),
                    mk(OffsetCommitRequest.structs.OffsetCommitRequestPartition, {
                      partitionIndex: 1,
                      committedOffset: 0n,
                      commitTimestamp: BigInt(TS),
                      committedMetadata: null,
                    }),
                  ],
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(OffsetCommitResponse.create, {
        throttleTimeMs: 9,
        topics: [
          mk(OffsetCommitResponse.structs.OffsetCommitResponseTopic, {
            name: 'orders',
            partitions: [
              mk(OffsetCommitResponse.structs.OffsetCommitResponsePartition, {
                partitionIndex: 0,
                errorCode: 0,
              }),
              mk(OffsetCommitResponse.structs.OffsetCommitResponsePartition, {
                partitionIndex: 1,
                errorCode: 0,
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 3 ? throttle(v, 9, 3, 4) : {}),
      responses: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 0 },
          ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'offsetFetch',
    versions: range(1, 4),
    request: OffsetFetchRequest,
    response: OffsetFetchResponse,
    requests: [
      {
        name: 'two partitions',
        args: () => ({
          groupId: 'group-1',
          topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 1 }] }],
        }),
        expect: () =>
          mk(OffsetFetchRequest.create, {
            groupId: 'group-1',
            topics: [
              mk(OffsetFetchRequest.structs.OffsetFetchRequestTopic, {
                name: 'orders',
                partitionIndexes: [0, 1],
              }),
            ],
          }),
      },
      {
        // kafkajs sends an empty list as null (all topics) from v3 on.
        name: 'all topics',
        args: () => ({ groupId: 'group-1', topics: [] }),
        expect: (v) => mk(OffsetFetchRequest.create, { groupId: 'group-1', topics: v >= 3 ? null : [] }),
      },
    ],
    responseValue: () =>
      mk(OffsetFetchResponse.create, {
        throttleTimeMs: 10,
        errorCode: 0,
        topics: [
          mk(OffsetFetchResponse.structs.OffsetFetchResponseTopic, {
            name: 'orders',
            partitions: [
              mk(OffsetFetchResponse.structs.OffsetFetchResponsePartition, {
                partitionIndex: 0,
                committedOffset: 9_007_199_254_740_993n,
                metadata: 'meta',
                errorCode: 0,
              }),
              mk(OffsetFetchResponse.structs.OffsetFetchResponsePartition, {
                partitionIndex: 1,
                committedOffset: -1n,
                metadata: null,
                errorCode: 0,
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 3 ? throttle(v, 10, 3, 4) : {}),
      responses: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, offset: '9007199254740993', metadata: 'meta', errorCode: 0 },
            { partition: 1, offset: '-1', metadata: null, errorCode: 0 },
          ],
        },
      ],
      ...(v >= 2 ? { errorCode: 0 } : {}),
    }),
  }),

  kjsCase({
    api: 'createTopics',
    versions: range(0, 3),
    request: CreateTopicsRequest,
    response: CreateTopicsResponse,
    requests: [
      {
        name: 'with assignments and configs',
        args: () => ({
          validateOnly: true,
          timeout: 1234,
          topics: [
            {
              topic: 'orders',
              replicaAssignment: [
                { partition: 0, replicas: [1, 2] },
                { partition: 1, replicas: [2, 3] },
              ],
              configEntries: [
                { name: 'cleanup.policy', value: 'compact' },
                { name: 'retention.ms', value: '1000' },
                { name: 'x.utf8', value: UTF8_TOPIC.repeat(20) },
              ],
            },
            { topic: 'payments', numPartitions: 3, replicationFactor: 2 },
          ],
        }),
        expect: (v) =>
          fit(
            CreateTopicsRequest,
            mk(CreateTopicsRequest.create, {
              timeoutMs: 1234,
              validateOnly: true,
              topics: [
                mk(CreateTopicsRequest.structs.CreatableTopic, {
                  name: 'orders',
                  numPartitions: -1,
                  replicationFactor: -1,
                  assignments: [
                    mk(CreateTopicsRequest.structs.CreatableReplicaAssignment, {
                      partitionIndex: 0,
                      brokerIds: [1, 2],
                    }),
                    mk(CreateTopicsRequest.structs.CreatableReplicaAssignment, {
                      partitionIndex: 1,
                      brokerIds: [2, 3],
                    }),
                  ],
                  configs: [
                    mk(CreateTopicsRequest.structs.CreatableTopicConfig, {
                      name: 'cleanup.policy',
                      value: 'compact',
                    }),
                    mk(CreateTopicsRequest.structs.CreatableTopicConfig, {
                      name: 'retention.ms',
                      value: '1000',
                    }),
                    mk(CreateTopicsRequest.structs.CreatableTopicConfig, {
                      name: 'x.utf8',
                      value: UTF8_TOPIC.repeat(20),
                    }),
                  ],
                }),
                mk(CreateTopicsRequest.structs.CreatableTopic, {
                  name: 'payments',
                  numPartitions: 3,
                  replicationFactor: 2,
                  assignments: [],
                  configs: [],
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(CreateTopicsResponse.create, {
        throttleTimeMs: 11,
        topics: [
          mk(CreateTopicsResponse.structs.CreatableTopicResult, {
            name: 'orders',
            errorCode: 0,
            errorMessage: null,
          }),
          mk(CreateTopicsResponse.structs.CreatableTopicResult, {
            name: 'payments',
            errorCode: 0,
            errorMessage: 'ok',
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 2 ? throttle(v, 11, 2, 3) : {}),
      topicErrors: [
        { topic: 'orders', errorCode: 0, ...(v >= 1 ? { errorMessage: null } : {}) },
        { topic: 'payments', errorCode: 0, ...(v >= 1 ? { errorMessage: 'ok' } : {}) },
      ],
    }),
  }),

  kjsCase({
    api: 'deleteTopics',
    versions: range(0, 1),
    request: DeleteTopicsRequest,
    response: DeleteTopicsResponse,
    requests: [
      {
        name: 'two topics',
        args: () => ({ topics: ['orders', 'payments'], timeout: 4321 }),
        expect: () => mk(DeleteTopicsRequest.create, { topicNames: ['orders', 'payments'], timeoutMs: 4321 }),
      },
    ],
    responseValue: () =>
      mk(DeleteTopicsResponse.create, {
        throttleTimeMs: 12,
        responses: [
          mk(DeleteTopicsResponse.structs.DeletableTopicResult, { name: 'orders', errorCode: 0 }),
          mk(DeleteTopicsResponse.structs.DeletableTopicResult, { name: 'payments', errorCode: 0 }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 1 ? throttle(v, 12, 1, 1) : {}),
      topicErrors: [
        { topic: 'orders', errorCode: 0 },
        { topic: 'payments', errorCode: 0 },
      ],
    }),
  }),

  kjsCase({
    api: 'describeGroups',
    versions: range(0, 2),
    request: DescribeGroupsRequest,
    response: DescribeGroupsResponse,
    requests: [
      {
        name: 'two groups',
        args: () => ({ groupIds: ['group-1', 'group-2'] }),
        expect: () => mk(DescribeGroupsRequest.create, { groups: ['group-1', 'group-2'] }),
      },
    ],
    responseValue: () =>
      mk(DescribeGroupsResponse.create, {
        throttleTimeMs: 13,
        groups: [
          mk(DescribeGroupsResponse.structs.DescribedGroup, {
            errorCode: 0,
            groupId: 'group-1',
            groupState: 'Stable',
            protocolType: 'consumer',
            protocolData: 'range',
            members: [
              mk(DescribeGroupsResponse.structs.DescribedGroupMember, {
                memberId: 'member-1',
                clientId: 'client-1',
                clientHost: '/10.0.0.1',
                memberMetadata: bytes('meta'),
                memberAssignment: bytes('assign'),
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 1 ? throttle(v, 13, 1, 2) : {}),
      groups: [
        {
          errorCode: 0,
          groupId: 'group-1',
          state: 'Stable',
          protocolType: 'consumer',
          protocol: 'range',
          members: [
            {
              memberId: 'member-1',
              clientId: 'client-1',
              clientHost: '/10.0.0.1',
              memberMetadata: bytes('meta'),
              memberAssignment: bytes('assign'),
            },
          ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'listGroups',
    versions: range(0, 2),
    request: ListGroupsRequest,
    response: ListGroupsResponse,
    requests: [{ name: 'empty', args: () => undefined, expect: () => ListGroupsRequest.create() }],
    responseValue: () =>
      mk(ListGroupsResponse.create, {
        throttleTimeMs: 14,
        errorCode: 0,
        groups: [
          mk(ListGroupsResponse.structs.ListedGroup, { groupId: 'group-1', protocolType: 'consumer' }),
          mk(ListGroupsResponse.structs.ListedGroup, { groupId: 'connect', protocolType: '' }),
        ],
      }),
    expectResponse: (v) => ({
      ...(v >= 1 ? throttle(v, 14, 1, 2) : {}),
      errorCode: 0,
      groups: [
        { groupId: 'group-1', protocolType: 'consumer' },
        { groupId: 'connect', protocolType: '' },
      ],
    }),
  }),

  kjsCase({
    api: 'saslHandshake',
    versions: range(0, 1),
    request: SaslHandshakeRequest,
    response: SaslHandshakeResponse,
    requests: [
      {
        name: 'PLAIN',
        args: () => ({ mechanism: 'PLAIN' }),
        expect: () => mk(SaslHandshakeRequest.create, { mechanism: 'PLAIN' }),
      },
    ],
    responseValue: () =>
      mk(SaslHandshakeResponse.create, { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] }),
    expectResponse: () => ({ errorCode: 0, enabledMechanisms: ['PLAIN', 'SCRAM-SHA-256'] }),
  }),

  kjsCase({
    api: 'saslAuthenticate',
    versions: range(0, 1),
    request: SaslAuthenticateRequest,
    response: SaslAuthenticateResponse,
    requests: [
      {
        // kafkajs's SASL mechanisms hand SaslAuthenticate already length-prefixed bytes.
        name: 'PLAIN token',
        args: () => ({ authBytes: lengthPrefixed(bytes('\0user\0secret')) }),
        expect: () => mk(SaslAuthenticateRequest.create, { authBytes: bytes('\0user\0secret') }),
      },
    ],
    responseValue: () =>
      mk(SaslAuthenticateResponse.create, {
        errorCode: 0,
        errorMessage: null,
        authBytes: bytes('server-final'),
        sessionLifetimeMs: 3_600_000n,
      }),
    expectResponse: (v) => ({
      errorCode: 0,
      errorMessage: null,
      // kafkajs re-wraps the bytes with an int32 length prefix.
      authBytes: lengthPrefixed(bytes('server-final')),
      ...(v >= 1 ? { sessionLifetimeMs: '3600000' } : {}),
    }),
  }),

  kjsCase({
    api: 'initProducerId',
    versions: range(0, 1),
    request: InitProducerIdRequest,
    response: InitProducerIdResponse,
    requests: [
      {
        name: 'transactional',
        args: () => ({ transactionalId: 'txn-1', transactionTimeout: 60000 }),
        expect: () =>
          mk(InitProducerIdRequest.create, { transactionalId: 'txn-1', transactionTimeoutMs: 60000 }),
      },
      {
        name: 'idempotent',
        args: () => ({ transactionalId: null, transactionTimeout: 30000 }),
        expect: () =>
          mk(InitProducerIdRequest.create, { transactionalId: null, transactionTimeoutMs: 30000 }),
      },
    ],
    responseValue: () =>
      mk(InitProducerIdResponse.create, {
        throttleTimeMs: 15,
        errorCode: 0,
        producerId: 9_007_199_254_740_993n,
        producerEpoch: 3,
      }),
    expectResponse: (v) => ({
      ...throttle(v, 15, 0, 1),
      errorCode: 0,
      producerId: '9007199254740993',
      producerEpoch: 3,
    }),
  }),

  kjsCase({
    api: 'addPartitionsToTxn',
    versions: range(0, 1),
    request: AddPartitionsToTxnRequest,
    response: AddPartitionsToTxnResponse,
    requests: [
      {
        name: 'two topics',
        args: () => ({
          transactionalId: 'txn-1',
          producerId: '9007199254740993',
          producerEpoch: 2,
          topics: [
            { topic: 'orders', partitions: [0, 1] },
            { topic: 'payments', partitions: [4] },
          ],
        }),
        expect: () =>
          mk(AddPartitionsToTxnRequest.create, {
            v3AndBelowTransactionalId: 'txn-1',
            v3AndBelowProducerId: 9_007_199_254_740_993n,
            v3AndBelowProducerEpoch: 2,
            v3AndBelowTopics: [
              mk(AddPartitionsToTxnRequest.structs.AddPartitionsToTxnTopic, {
                name: 'orders',
                partitions: [0, 1],
              }),
              mk(AddPartitionsToTxnRequest.structs.AddPartitionsToTxnTopic, {
                name: 'payments',
                partitions: [4],
              }),
            ],
          }),
      },
    ],
    responseValue: () =>
      mk(AddPartitionsToTxnResponse.create, {
        throttleTimeMs: 16,
        resultsByTopicV3AndBelow: [
          mk(AddPartitionsToTxnResponse.structs.AddPartitionsToTxnTopicResult, {
            name: 'orders',
            resultsByPartition: [
              mk(AddPartitionsToTxnResponse.structs.AddPartitionsToTxnPartitionResult, {
                partitionIndex: 0,
                partitionErrorCode: 0,
              }),
              mk(AddPartitionsToTxnResponse.structs.AddPartitionsToTxnPartitionResult, {
                partitionIndex: 1,
                partitionErrorCode: 0,
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...throttle(v, 16, 0, 1),
      errors: [
        {
          topic: 'orders',
          partitionErrors: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 0 },
          ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'addOffsetsToTxn',
    versions: range(0, 1),
    request: AddOffsetsToTxnRequest,
    response: AddOffsetsToTxnResponse,
    requests: [
      {
        name: 'group',
        args: () => ({ transactionalId: 'txn-1', producerId: 4000, producerEpoch: 2, groupId: 'group-1' }),
        expect: () =>
          mk(AddOffsetsToTxnRequest.create, {
            transactionalId: 'txn-1',
            producerId: 4000n,
            producerEpoch: 2,
            groupId: 'group-1',
          }),
      },
    ],
    responseValue: () => mk(AddOffsetsToTxnResponse.create, { throttleTimeMs: 17, errorCode: 0 }),
    expectResponse: (v) => ({ ...throttle(v, 17, 0, 1), errorCode: 0 }),
  }),

  kjsCase({
    api: 'endTxn',
    versions: range(0, 1),
    request: EndTxnRequest,
    response: EndTxnResponse,
    requests: [
      {
        name: 'commit',
        args: () => ({
          transactionalId: 'txn-1',
          producerId: 4000,
          producerEpoch: 2,
          transactionResult: true,
        }),
        expect: () =>
          mk(EndTxnRequest.create, {
            transactionalId: 'txn-1',
            producerId: 4000n,
            producerEpoch: 2,
            committed: true,
          }),
      },
      {
        name: 'abort',
        args: () => ({
          transactionalId: 'txn-1',
          producerId: 4000,
          producerEpoch: 2,
          transactionResult: false,
        }),
        expect: () =>
          mk(EndTxnRequest.create, {
            transactionalId: 'txn-1',
            producerId: 4000n,
            producerEpoch: 2,
            committed: false,
          }),
      },
    ],
    responseValue: () => mk(EndTxnResponse.create, { throttleTimeMs: 18, errorCode: 0 }),
    expectResponse: (v) => ({ ...throttle(v, 18, 0, 1), errorCode: 0 }),
  }),

  kjsCase({
    api: 'txnOffsetCommit',
    versions: range(0, 1),
    request: TxnOffsetCommitRequest,
    response: TxnOffsetCommitResponse,
    requests: [
      {
        name: 'two partitions',
        args: () => ({
          transactionalId: 'txn-1',
          groupId: 'group-1',
          producerId: 4000,
          producerEpoch: 2,
          topics: [
            {
              topic: 'orders',
              partitions: [
                { partition: 0, offset: '42', metadata: 'm' },
                { partition: 1, offset: '43', metadata: null },
              ],
            },
          ],
        }),
        expect: () =>
          mk(TxnOffsetCommitRequest.create, {
            transactionalId: 'txn-1',
            groupId: 'group-1',
            producerId: 4000n,
            producerEpoch: 2,
            topics: [
              mk(TxnOffsetCommitRequest.structs.TxnOffsetCommitRequestTopic, {
                name: 'orders',
                partitions: [
                  mk(TxnOffsetCommitRequest.structs.TxnOffsetCommitRequestPartition, {
                    partitionIndex: 0,
                    committedOffset: 42n,
                    committedMetadata: 'm',
                  }),
                  mk(TxnOffsetCommitRequest.structs.TxnOffsetCommitRequestPartition, {
                    partitionIndex: 1,
                    committedOffset: 43n,
                    committedMetadata: null,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responseValue: () =>
      mk(TxnOffsetCommitResponse.create, {
        throttleTimeMs: 19,
        topics: [
          mk(TxnOffsetCommitResponse.structs.TxnOffsetCommitResponseTopic, {
            name: 'orders',
            partitions: [
              mk(TxnOffsetCommitResponse.structs.TxnOffsetCommitResponsePartition, {
                partitionIndex: 0,
                errorCode: 0,
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...throttle(v, 19, 0, 1),
      topics: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0 }] }],
    }),
  }),

  kjsCase({
    api: 'describeAcls',
    versions: range(0, 1),
    request: DescribeAclsRequest,
    response: DescribeAclsResponse,
    requests: [
      {
        name: 'prefixed topic filter',
        args: () => ({
          resourceType: 2,
          resourceName: 'orders',
          resourcePatternType: 4,
          principal: 'User:alice',
          host: '*',
          operation: 3,
          permissionType: 3,
        }),
        expect: (v) =>
          fit(
            DescribeAclsRequest,
            mk(DescribeAclsRequest.create, {
              resourceTypeFilter: 2,
              resourceNameFilter: 'orders',
              patternTypeFilter: 4,
              principalFilter: 'User:alice',
              hostFilter: '*',
              operation: 3,
              permissionType: 3,
            }),
            v,
          ),
      },
      {
        name: 'null filters',
        args: () => ({
          resourceType: 1,
          resourceName: null,
          resourcePatternType: 1,
          principal: null,
          host: null,
          operation: 1,
          permissionType: 1,
        }),
        expect: (v) =>
          fit(
            DescribeAclsRequest,
            mk(DescribeAclsRequest.create, {
              resourceTypeFilter: 1,
              resourceNameFilter: null,
              patternTypeFilter: 1,
              principalFilter: null,
              hostFilter: null,
              operation: 1,
              permissionType: 1,
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(DescribeAclsResponse.create, {
        throttleTimeMs: 20,
        errorCode: 0,
        errorMessage: null,
        resources: [
          mk(DescribeAclsResponse.structs.DescribeAclsResource, {
            resourceType: 2,
            resourceName: 'orders',
            patternType: 4,
            acls: [
              mk(DescribeAclsResponse.structs.AclDescription, {
                principal: 'User:alice',
                host: '*',
                operation: 3,
                permissionType: 3,
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...throttle(v, 20, 0, 1),
      errorCode: 0,
      errorMessage: null,
      resources: [
        {
          resourceType: 2,
          resourceName: 'orders',
          ...(v >= 1 ? { resourcePatternType: 4 } : {}),
          acls: [{ principal: 'User:alice', host: '*', operation: 3, permissionType: 3 }],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'createAcls',
    versions: range(0, 1),
    request: CreateAclsRequest,
    response: CreateAclsResponse,
    requests: [
      {
        name: 'two creations',
        args: () => ({
          creations: [
            {
              resourceType: 2,
              resourceName: 'orders',
              resourcePatternType: 4,
              principal: 'User:alice',
              host: '*',
              operation: 3,
              permissionType: 3,
            },
            {
              resourceType: 3,
              resourceName: 'group-1',
              resourcePatternType: 3,
              principal: 'User:bob',
              host: '10.0.0.1',
              operation: 2,
              permissionType: 2,
            },
          ],
        }),
        expect: (v) =>
          fit(
            CreateAclsRequest,
            mk(CreateAclsRequest.create, {
              creations: [
                mk(CreateAclsRequest.structs.AclCreation, {
                  resourceType: 2,
                  resourceName: 'orders',
                  resourcePatternType: 4,
                  principal: 'User:alice',
                  host: '*',
                  operation: 3,
                  permissionType: 3,
                }),
                mk(CreateAclsRequest.structs.AclCreation, {
                  resourceType: 3,
                  resourceName: 'group-1',
                  resourcePatternType: 3,
                  principal: 'User:bob',
                  host: '10.0.0.1',
                  operation: 2,
                  permissionType: 2,
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(CreateAclsResponse.create, {
        throttleTimeMs: 21,
        results: [
          mk(CreateAclsResponse.structs.AclCreationResult, { errorCode: 0, errorMessage: null }),
          mk(CreateAclsResponse.structs.AclCreationResult, { errorCode: 0, errorMessage: '' }),
        ],
      }),
    expectResponse: (v) => ({
      ...throttle(v, 21, 0, 1),
      creationResponses: [
        { errorCode: 0, errorMessage: null },
        { errorCode: 0, errorMessage: '' },
      ],
    }),
  }),

  kjsCase({
    api: 'deleteAcls',
    versions: range(0, 1),
    request: DeleteAclsRequest,
    response: DeleteAclsResponse,
    requests: [
      {
        name: 'one filter',
        args: () => ({
          filters: [
            {
              resourceType: 2,
              resourceName: 'orders',
              resourcePatternType: 4,
              principal: 'User:alice',
              host: null,
              operation: 3,
              permissionType: 3,
            },
          ],
        }),
        expect: (v) =>
          fit(
            DeleteAclsRequest,
            mk(DeleteAclsRequest.create, {
              filters: [
                mk(DeleteAclsRequest.structs.DeleteAclsFilter, {
                  resourceTypeFilter: 2,
                  resourceNameFilter: 'orders',
                  patternTypeFilter: 4,
                  principalFilter: 'User:alice',
                  hostFilter: null,
                  operation: 3,
                  permissionType: 3,
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(DeleteAclsResponse.create, {
        throttleTimeMs: 22,
        filterResults: [
          mk(DeleteAclsResponse.structs.DeleteAclsFilterResult, {
            errorCode: 0,
            errorMessage: null,
            matchingAcls: [
              mk(DeleteAclsResponse.structs.DeleteAclsMatchingAcl, {
                errorCode: 0,
                errorMessage: null,
                resourceType: 2,
                resourceName: 'orders',
                patternType: 4,
                principal: 'User:alice',
                host: '*',
                operation: 3,
                permissionType: 3,
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...throttle(v, 22, 0, 1),
      filterResponses: [
        {
          errorCode: 0,
          errorMessage: null,
          matchingAcls: [
            {
              errorCode: 0,
              errorMessage: null,
              resourceType: 2,
              resourceName: 'orders',
              ...(v >= 1 ? { resourcePatternType: 4 } : {}),
              principal: 'User:alice',
              host: '*',
              operation: 3,
              permissionType: 3,
            },
          ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'describeConfigs',
    versions: range(0, 2),
    request: DescribeConfigsRequest,
    response: DescribeConfigsResponse,
    requests: [
      {
        name: 'named keys',
        args: () => ({
          includeSynonyms: true,
          resources: [
            { type: 2, name: 'orders', configNames: ['cleanup.policy', 'retention.ms'] },
            // kafkajs sends an empty list as null (all keys).
            { type: 4, name: '1' },
          ],
        }),
        expect: (v) =>
          fit(
            DescribeConfigsRequest,
            mk(DescribeConfigsRequest.create, {
              includeSynonyms: true,
              resources: [
                mk(DescribeConfigsRequest.structs.DescribeConfigsResource, {
                  resourceType: 2,
                  resourceName: 'orders',
                  configurationKeys: ['cleanup.policy', 'retention.ms'],
                }),
                mk(DescribeConfigsRequest.structs.DescribeConfigsResource, {
                  resourceType: 4,
                  resourceName: '1',
                  configurationKeys: null,
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responseValue: () =>
      mk(DescribeConfigsResponse.create, {
        throttleTimeMs: 24,
        results: [
          mk(DescribeConfigsResponse.structs.DescribeConfigsResult, {
            errorCode: 0,
            errorMessage: null,
            resourceType: 2,
            resourceName: 'orders',
            configs: [
              mk(DescribeConfigsResponse.structs.DescribeConfigsResourceResult, {
                name: 'cleanup.policy',
                value: 'compact',
                readOnly: false,
                isDefault: false,
                configSource: 1,
                isSensitive: false,
                synonyms: [
                  mk(DescribeConfigsResponse.structs.DescribeConfigsSynonym, {
                    name: 'cleanup.policy',
                    value: 'compact',
                    source: 1,
                  }),
                  mk(DescribeConfigsResponse.structs.DescribeConfigsSynonym, {
                    name: 'log.cleanup.policy',
                    value: 'delete',
                    source: 5,
                  }),
                ],
              }),
              mk(DescribeConfigsResponse.structs.DescribeConfigsResourceResult, {
                name: 'sasl.jaas.config',
                value: null,
                readOnly: true,
                isDefault: true,
                configSource: 5,
                isSensitive: true,
                synonyms: [],
              }),
            ],
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...throttle(v, 24, 0, 2),
      resources: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'orders',
          configEntries:
            v === 0
              ? [
                  // v0 has isDefault; kafkajs derives configSource from it and the resource type.
                  {
                    configName: 'cleanup.policy',
                    configValue: 'compact',
                    readOnly: false,
                    isDefault: false,
                    configSource: 1,
                    isSensitive: false,
                  },
                  {
                    configName: 'sasl.jaas.config',
                    configValue: null,
                    readOnly: true,
                    isDefault: true,
                    configSource: 5,
                    isSensitive: true,
                  },
                ]
              : [
                  {
                    configName: 'cleanup.policy',
                    configValue: 'compact',
                    readOnly: false,
                    isDefault: false,
                    configSource: 1,
                    isSensitive: false,
                    configSynonyms: [
                      { configName: 'cleanup.policy', configValue: 'compact', configSource: 1 },
                      { configName: 'log.cleanup.policy', configValue: 'delete', configSource: 5 },
                    ],
                  },
                  {
                    configName: 'sasl.jaas.config',
                    configValue: null,
                    readOnly: true,
                    isDefault: true,
                    configSource: 5,
                    isSensitive: true,
                    configSynonyms: [],
                  },
                ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'alterConfigs',
    versions: range(0, 1),
    request: AlterConfigsRequest,
    response: AlterConfigsResponse,
    requests: [
      {
        name: 'topic configs',
        args: () => ({
          validateOnly: true,
          resources: [
            {
              type: 2,
              name: 'orders',
              configEntries: [
                { name: 'cleanup.policy', value: 'compact' },
                { name: 'retention.ms', value: null },
              ],
            },
          ],
        }),
        expect: () =>
          mk(AlterConfigsRequest.create, {
            validateOnly: true,
            resources: [
              mk(AlterConfigsRequest.structs.AlterConfigsResource, {
                resourceType: 2,
                resourceName: 'orders',
                configs: [
                  mk(AlterConfigsRequest.structs.AlterableConfig, {
                    name: 'cleanup.policy',
                    value: 'compact',
                  }),
                  mk(AlterConfigsRequest.structs.AlterableConfig, { name: 'retention.ms', value: null }),
                ],
              }),
            ],
          }),
      },
    ],
    responseValue: () =>
      mk(AlterConfigsResponse.create, {
        throttleTimeMs: 25,
        responses: [
          mk(AlterConfigsResponse.structs.AlterConfigsResourceResponse, {
            errorCode: 0,
            errorMessage: null,
            resourceType: 2,
            resourceName: 'orders',
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...throttle(v, 25, 0, 1),
      resources: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' }],
    }),
  }),

  kjsCase({
    api: 'createPartitions',
    versions: range(0, 1),
    request: CreatePartitionsRequest,
    response: CreatePartitionsResponse,
    requests: [
      {
        name: 'with and without assignments',
        args: () => ({
          validateOnly: true,
          timeout: 2500,
          topicPartitions: [
            {
              topic: 'orders',
              count: 5,
              assignments: [
                [1, 2],
                [2, 3],
              ],
            },
            // kafkajs sends no assignments as null.
            { topic: 'payments', count: 3 },
          ],
        }),
        expect: () =>
          mk(CreatePartitionsRequest.create, {
            timeoutMs: 2500,
            validateOnly: true,
            topics: [
              mk(CreatePartitionsRequest.structs.CreatePartitionsTopic, {
                name: 'orders',
                count: 5,
                assignments: [
                  mk(CreatePartitionsRequest.structs.CreatePartitionsAssignment, { brokerIds: [1, 2] }),
                  mk(CreatePartitionsRequest.structs.CreatePartitionsAssignment, { brokerIds: [2, 3] }),
                ],
              }),
              mk(CreatePartitionsRequest.structs.CreatePartitionsTopic, {
                name: 'payments',
                count: 3,
                assignments: null,
              }),
            ],
          }),
      },
    ],
    responseValue: () =>
      mk(CreatePartitionsResponse.create, {
        throttleTimeMs: 26,
        results: [
          mk(CreatePartitionsResponse.structs.CreatePartitionsTopicResult, {
            name: 'orders',
            errorCode: 0,
            errorMessage: null,
          }),
          mk(CreatePartitionsResponse.structs.CreatePartitionsTopicResult, {
            name: 'payments',
            errorCode: 0,
            errorMessage: 'x',
          }),
        ],
      }),
    expectResponse: (v) => ({
      ...throttle(v, 26, 0, 1),
      topicErrors: [
        { topic: 'orders', errorCode: 0, errorMessage: null },
        { topic: 'payments', errorCode: 0, errorMessage: 'x' },
      ],
    }),
  }),

  kjsCase({
    api: 'deleteRecords',
    versions: range(0, 1),
    request: DeleteRecordsRequest,
    response: DeleteRecordsResponse,
    requests: [
      {
        name: 'two partitions',
        args: () => ({
          timeout: 3000,
          topics: [
            {
              topic: 'orders',
              partitions: [
                { partition: 0, offset: '9007199254740993' },
                { partition: 1, offset: '-1' },
              ],
            },
          ],
        }),
        expect: () =>
          mk(DeleteRecordsRequest.create, {
            timeoutMs: 3000,
            topics: [
              mk(DeleteRecordsRequest.structs.DeleteRecordsTopic, {
                name: 'orders',
                partitions: [
                  mk(DeleteRecordsRequest.structs.DeleteRecordsPartition, {
                    partitionIndex: 0,
                    offset: 9_007_199_254_740_993n,
                  }),
                  mk(DeleteRecordsRequest.structs.DeleteRecordsPartition, { partitionIndex: 1, offset: -1n }),
                ],
              }),
            ],
          }),
      },
    ],
    // kafkajs's DeleteRecords response module is a factory of the request's topics.
    responseModule: (v) =>
      (kjsResponseModule('deleteRecords', v) as (a: { topics: unknown[] }) => KjsResponse)({
        topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '1' }] }],
      }),
    responseValue: () =>
      mk(DeleteRecordsResponse.create, {
        throttleTimeMs: 27,
        topics: [
          mk(DeleteRecordsResponse.structs.DeleteRecordsTopicResult, {
            name: 'orders',
            partitions: [
              mk(DeleteRecordsResponse.structs.DeleteRecordsPartitionResult, {
                partitionIndex: 0,
                lowWatermark: 9_007_199_254_740_993n,
                errorCode: 0,
              }),
            ],
          }),
        ],
      }),
    normalizeResponse: (parsed) => {
      const topics = parsed.topics as { topic: string; partitions: Obj[] }[];
      return {
        ...parsed,
        topics: topics.map((t) => ({
          ...t,
          partitions: t.partitions.map((p) => ({ ...p, lowWatermark: String(p.lowWatermark) })),
        })),
      };
    },
    expectResponse: (v) => ({
      ...throttle(v, 27, 0, 1),
      topics: [
        { topic: 'orders', partitions: [{ partition: 0, lowWatermark: '9007199254740993', errorCode: 0 }] },
      ],
    }),
  }),

  kjsCase({
    api: 'deleteGroups',
    versions: range(0, 1),
    request: DeleteGroupsRequest,
    response: DeleteGroupsResponse,
    requests: [
      {
        // kafkajs's DeleteGroups factory takes the array itself.
        name: 'two groups',
        args: () => ['group-1', 'group-2'],
        expect: () => mk(DeleteGroupsRequest.create, { groupsNames: ['group-1', 'group-2'] }),
      },
    ],
    responseValue: () =>
      mk(DeleteGroupsResponse.create, {
        throttleTimeMs: 28,
        results: [
          mk(DeleteGroupsResponse.structs.DeletableGroupResult, { groupId: 'group-1', errorCode: 0 }),
          mk(DeleteGroupsResponse.structs.DeletableGroupResult, { groupId: 'group-2', errorCode: 0 }),
        ],
      }),
    expectResponse: (v) => ({
      throttleTimeMs: 28,
      // kafkajs quirk: v1 copies `throttleTime` from a v0 result that calls it throttleTimeMs.
      ...(v >= 1 ? { throttleTime: 0, clientSideThrottleTime: undefined } : {}),
      results: [
        { groupId: 'group-1', errorCode: 0 },
        { groupId: 'group-2', errorCode: 0 },
      ],
    }),
  }),

  kjsCase({
    api: 'alterPartitionReassignments',
    versions: [0],
    request: AlterPartitionReassignmentsRequest,
    response: AlterPartitionReassignmentsResponse,
    headerTagInBody: true,
    requests: [
      {
        name: 'two partitions',
        args: () => ({
          timeout: 5500,
          topics: [
            {
              topic: 'orders',
              partitionAssignment: [
                { partition: 0, replicas: [1, 2, 3] },
                { partition: 1, replicas: [3] },
              ],
            },
          ],
        }),
        expect: () =>
          mk(AlterPartitionReassignmentsRequest.create, {
            timeoutMs: 5500,
            topics: [
              mk(AlterPartitionReassignmentsRequest.structs.ReassignableTopic, {
                name: 'orders',
                partitions: [
                  mk(AlterPartitionReassignmentsRequest.structs.ReassignablePartition, {
                    partitionIndex: 0,
                    replicas: [1, 2, 3],
                  }),
                  mk(AlterPartitionReassignmentsRequest.structs.ReassignablePartition, {
                    partitionIndex: 1,
                    replicas: [3],
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responseValue: () =>
      mk(AlterPartitionReassignmentsResponse.create, {
        throttleTimeMs: 29,
        errorCode: 0,
        errorMessage: null,
        responses: [
          mk(AlterPartitionReassignmentsResponse.structs.ReassignableTopicResponse, {
            name: 'orders',
            partitions: [
              mk(AlterPartitionReassignmentsResponse.structs.ReassignablePartitionResponse, {
                partitionIndex: 0,
                errorCode: 0,
                errorMessage: null,
              }),
              mk(AlterPartitionReassignmentsResponse.structs.ReassignablePartitionResponse, {
                partitionIndex: 1,
                errorCode: 0,
                errorMessage: 'fine',
              }),
            ],
          }),
        ],
      }),
    expectResponse: () => ({
      throttleTime: 29,
      errorCode: 0,
      responses: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 0 },
          ],
        },
      ],
    }),
  }),

  kjsCase({
    api: 'listPartitionReassignments',
    versions: [0],
    request: ListPartitionReassignmentsRequest,
    response: ListPartitionReassignmentsResponse,
    headerTagInBody: true,
    requests: [
      {
        name: 'named partitions',
        args: () => ({ timeout: 6500, topics: [{ topic: 'orders', partitions: [0, 2] }] }),
        expect: () =>
          mk(ListPartitionReassignmentsRequest.create, {
            timeoutMs: 6500,
            topics: [
              mk(ListPartitionReassignmentsRequest.structs.ListPartitionReassignmentsTopics, {
                name: 'orders',
                partitionIndexes: [0, 2],
              }),
            ],
          }),
      },
      {
        name: 'all',
        args: () => ({ timeout: 6500, topics: null }),
        expect: () => mk(ListPartitionReassignmentsRequest.create, { timeoutMs: 6500, topics: null }),
      },
    ],
    responseValue: () =>
      mk(ListPartitionReassignmentsResponse.create, {
        throttleTimeMs: 30,
        errorCode: 0,
        errorMessage: null,
        topics: [
          mk(ListPartitionReassignmentsResponse.structs.OngoingTopicReassignment, {
            name: 'orders',
            partitions: [
              mk(ListPartitionReassignmentsResponse.structs.OngoingPartitionReassignment, {
                partitionIndex: 0,
                replicas: [1, 2, 3],
                addingReplicas: [3],
                removingReplicas: [4],
              }),
            ],
          }),
        ],
      }),
    expectResponse: () => ({
      throttleTime: 30,
      errorCode: 0,
      topics: [
        {
          name: 'orders',
          partitions: [{ partition: 0, replicas: [1, 2, 3], addingReplicas: [3], removingReplicas: [4] }],
        },
      ],
    }),
  }),
];

// ---------------------------------------------------------------------------------------------

const CLIENT_ID = 'samsa-interop';

void describe(`kafkajs ${kafkajsVersion} interop`, () => {
  void it('covers every API directory and version kafkajs implements', () => {
    assert.deepStrictEqual(cases.map((c) => c.api).sort(), kjsApis());
    for (const c of cases) assert.deepStrictEqual(c.versions, kjsVersions(c.api), c.api);
  });

  for (const c of cases) {
    void describe(c.api, () => {
      for (const v of c.versions) {
        for (const s of c.requests) {
          if (s.versions !== undefined && !s.versions.includes(v)) continue;

          void it(`v${v} request (${s.name}): kafkajs encodes, Samsa decodes`, async () => {
            const req = kjsRequest(c.api, v)(s.args(v));
            assert.equal(req.apiKey, c.request.apiKey, 'api key');
            assert.equal(req.apiVersion, v, 'api version');
            let body = (await req.encode()).buffer;
            if (c.headerTagInBody === true) {
              assert.equal(body[0], 0, 'kafkajs writes an empty header tag buffer first');
              body = body.subarray(1);
            }
            const decoded = decodeExact(c.request, body, v, `${c.api} v${v}`);
            assertSameBytes(encodeMessage(c.request, decoded, v), body, `${c.api} v${v} Samsa re-encode`);
            const compared = c.checkRequest ? await c.checkRequest(decoded, v, s.name) : decoded;
            assert.deepStrictEqual(compared, s.expect(v));
          });

          void it(`v${v} request frame (${s.name}): kafkajs header + body, Samsa decodeRequest`, async () => {
            const req = kjsRequest(c.api, v)(s.args(v));
            const correlationId = 1000 + v;
            const frame = (await kjsFrame({ correlationId, clientId: CLIENT_ID, request: req })).buffer;
            assert.equal(frame.readInt32BE(0), frame.length - 4, 'size prefix');
            const r = decodeRequest(frame.subarray(4));
            if (!r.ok) assert.fail(`decodeRequest: ${r.error.message}`);
            assert.equal(r.end, frame.length - 4, 'whole frame consumed');
            assert.equal(r.value.codec, c.request);
            assert.deepStrictEqual(
              { ...r.value.header, unknownTaggedFields: undefined },
              {
                requestApiKey: c.request.apiKey,
                requestApiVersion: v,
                correlationId,
                clientId: CLIENT_ID,
                unknownTaggedFields: undefined,
              },
            );
            const samsaFrame = concat(
              encodeRequestFrame(c.request, r.value.body, {
                apiVersion: v,
                correlationId,
                clientId: CLIENT_ID,
              }),
            );
            assertSameBytes(samsaFrame, frame, `${c.api} v${v} Samsa request frame`);
          });
        }

        void it(`v${v} response: Samsa encodes, kafkajs decodes`, async () => {
          const value = fit(c.response, c.responseValue(v), v);
          const correlationId = 2000 + v;
          const frame = concat(
            encodeResponseFrame(c.response, value, {
              apiKey: c.request.apiKey!,
              apiVersion: v,
              correlationId,
            }),
          );
          assert.equal(frame.readInt32BE(0), frame.length - 4, 'size prefix');
          assert.equal(frame.readInt32BE(4), correlationId, 'correlation id');
          // kafkajs's connection strips size and correlation id and hands the rest to decode.
          const mod = c.responseModule ? c.responseModule(v) : (kjsResponseModule(c.api, v) as KjsResponse);
          const decoded = await mod.decode(frame.subarray(8));
          const parsed = await mod.parse(decoded);
          const actual = c.normalizeResponse ? c.normalizeResponse(parsed, v) : parsed;
          assert.deepStrictEqual(actual, c.expectResponse(v));
        });
      }
    });
  }
});
