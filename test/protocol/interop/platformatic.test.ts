/**
 * Cross-checks Samsa's generated codecs against @platformatic/kafka 1.x, an independent
 * implementation that speaks mostly flexible (tagged-field) versions.
 *
 * For every per-API module in dist/apis/<group>/<api>-v<N>.js whose API version Samsa's specs cover:
 *  - request: createRequest(...) is encoded by platformatic; Samsa decodes the body (every byte
 *    consumed) and must see the arguments (spec names); Samsa's re-encoding gives the same bytes.
 *  - request frame: the header platformatic's Connection.send writes (api key, version,
 *    correlation id, non-compact client id, and a tagged-field byte when the module says so) must
 *    be the header version Samsa expects; decodeRequest reads the frame and encodeRequestFrame
 *    rebuilds it byte for byte.
 *  - response: Samsa encodes a response frame; it is parsed as platformatic's Connection#onData
 *    does (size, correlation id, one header tag byte when the module says so, then parseResponse),
 *    and the result must be the values Samsa wrote, by spec name, with uuids in platformatic's
 *    dashed-hex form. Error codes are 0 (parseResponse throws on errors). The bytes the parser
 *    leaves unread are checked too: platformatic never reads a message's final tag buffer, so one
 *    byte (0x00) is left for flexible versions and none otherwise, unless a case says why not.
 *
 * Mismatches that are platformatic's own (its parser or encoder disagrees with Kafka's JSON
 * specs) are in KNOWN below, each with the reason and the failure it must produce; such a test
 * runs, fails as described, and is reported as skipped. If it starts passing, the test fails
 * so the entry gets removed. Platformatic also never decodes tagged fields (Reader.readTaggedFields
 * reads a zig-zag varint count and skips that many bytes), so responses with tagged fields
 * set are misread; Samsa only writes tagged fields that differ from their defaults, which keeps
 * ordinary responses readable (the "tagged" response scenarios pin the limitation down).
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';

import { createRecordsBatch, readRecordsBatches, type RecordsBatch } from '@platformatic/kafka';

import { decodeRequest, encodeRequestFrame, encodeResponseFrame } from '../../../src/protocol/frame.js';
import {
  apiByKey,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../src/protocol/generated/api-keys.js';
import { encodeMessage } from '../../../src/protocol/message.js';
import type { MessageCodec } from '../../../src/protocol/primitives/codec.js';
import { uuidFromHex, uuidToHex } from '../../../src/protocol/primitives/uuid.js';
import {
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  AlterConfigsRequest,
  AlterConfigsResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  AlterPartitionRequest,
  AlterPartitionResponse,
  AlterReplicaLogDirsRequest,
  AlterReplicaLogDirsResponse,
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  ApiVersionsRequest,
  ApiVersionsResponse,
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
  CreateAclsRequest,
  CreateAclsResponse,
  CreateDelegationTokenRequest,
  CreateDelegationTokenResponse,
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
  DescribeClientQuotasRequest,
  DescribeClientQuotasResponse,
  DescribeClusterRequest,
  DescribeClusterResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  DescribeDelegationTokenRequest,
  DescribeDelegationTokenResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  DescribeProducersRequest,
  DescribeProducersResponse,
  DescribeQuorumRequest,
  DescribeQuorumResponse,
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse,
  EndTxnRequest,
  EndTxnResponse,
  EnvelopeRequest,
  EnvelopeResponse,
  ExpireDelegationTokenRequest,
  ExpireDelegationTokenResponse,
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  GetTelemetrySubscriptionsRequest,
  GetTelemetrySubscriptionsResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListClientMetricsResourcesRequest,
  ListClientMetricsResourcesResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  ListTransactionsRequest,
  ListTransactionsResponse,
  MetadataRequest,
  MetadataResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetDeleteRequest,
  OffsetDeleteResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
  ProduceRequest,
  ProduceResponse,
  PushTelemetryRequest,
  PushTelemetryResponse,
  RenewDelegationTokenRequest,
  RenewDelegationTokenResponse,
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
  SyncGroupRequest,
  SyncGroupResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
  UnregisterBrokerRequest,
  UnregisterBrokerResponse,
  UpdateFeaturesRequest,
  UpdateFeaturesResponse,
} from '../../../src/protocol/generated/index.js';
import {
  capture,
  loadPlat,
  platFiles,
  platParseResponse,
  platRequestFrame,
  platformaticVersion,
  Reader,
  type PlatModule,
} from './support/platformatic.js';
import { assertSameBytes, concat, decodeExact, fit, mk, project } from './support/samsa.js';

type Obj = Record<string, unknown>;

interface RequestScenario<Req> {
  name: string;
  versions?: number[];
  /** Positional arguments to the module's createRequest. */
  args: (v: number) => unknown[];
  /** What Samsa must decode. */
  expect: (v: number) => Req;
}

interface ResponseScenario<Res> {
  name: string;
  versions?: number[];
  /** Samsa's response value (fitted to the version before encoding). */
  value: (v: number) => Res;
  /** What parseResponse must return; default: project() of what was sent. */
  expect?: (v: number, sent: Res) => Obj;
  /** Body bytes parseResponse leaves unread; default 1 (the final tag buffer) when flexible, else 0. */
  unread?: (v: number, sent: Res) => number;
}

interface PlatCase<Req, Res> {
  /** Module path without the version suffix, e.g. 'consumer/fetch'. */
  module: string;
  request: MessageCodec<Req>;
  response: MessageCodec<Res>;
  requests: RequestScenario<Req>[];
  /** Checks what deep equality cannot (record sets), returning a copy to compare with `expect`. */
  checkRequest?: (decoded: Req, v: number, scenario: string) => Req;
  responses: ResponseScenario<Res>[];
  /** Turns parts of platformatic's result that are not plain data into comparable summaries. */
  normalizeResponse?: (parsed: Obj, v: number) => Obj;
}

function platCase<Req, Res>(c: PlatCase<Req, Res>): PlatCase<unknown, unknown> {
  return c as unknown as PlatCase<unknown, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Known platformatic quirks: "<module>-v<N> <test title>" → why, and the failure it must produce.

interface Quirk {
  reason: string;
  /** The assertion message the quirk produces (guards against hiding a different failure). */
  fails: RegExp;
}

const KNOWN: Record<string, Quirk> = {
  'metadata/metadata-v11 request (topics)': {
    reason:
      'platformatic writes include_cluster_authorized_operations in Metadata v11, but the field is v8-10 only ' +
      '(MetadataRequest.json): include_topic_authorized_operations=true then lands where the tag count belongs',
    fails: /tagged field count 1 exceeds the bytes left/,
  },
  'metadata/metadata-v11 request frame (topics)': {
    reason: 'same extra include_cluster_authorized_operations byte as the body',
    fails: /tagged field count 1 exceeds the bytes left/,
  },
  'metadata/metadata-v11 request (all topics)': {
    reason: 'same extra include_cluster_authorized_operations byte: one byte is left over after the message',
    fails: /Samsa decoded \d+ of \d+ bytes/,
  },
  'metadata/metadata-v11 request frame (all topics)': {
    reason: 'same extra include_cluster_authorized_operations byte as the body',
    fails: /whole frame consumed/,
  },
  'consumer/fetch-v12 request (forgotten topics)': {
    reason:
      'platformatic writes Fetch v12 forgotten_topics_data topic as a UUID (appendUUID of the name, i.e. 0 bytes for a ' +
      'non-hex name); v12 carries the topic name as a compact string (topic ids start at v13)',
    fails: /Samsa could not decode|Samsa decoded \d+ of \d+ bytes|strictly deep-equal/,
  },
  'consumer/fetch-v12 request frame (forgotten topics)': {
    reason: 'same forgotten-topic encoding as the body',
    fails: /decodeRequest|whole frame consumed|bytes differ/,
  },
  'consumer/offset-for-leader-epoch-v4 response': {
    reason:
      'platformatic reads EpochEndOffset as partition (int32) then error_code (int16); the spec order is ' +
      'ErrorCode then Partition, so a non-zero partition index surfaces as an error code',
    fails: /ResponseError|Received response with error|strictly deep-equal/,
  },
  'admin/describe-configs-v2 request (two keys)': {
    reason: 'platformatic writes include_documentation in DescribeConfigs v2; the field is v3+',
    fails: /Samsa decoded \d+ of \d+ bytes|strictly deep-equal/,
  },
  'admin/describe-configs-v2 request frame (two keys)': {
    reason: 'same extra include_documentation byte as the body',
    fails: /whole frame consumed|bytes differ/,
  },
  'admin/describe-configs-v2 response': {
    reason: 'platformatic reads config_type and documentation (v3+ fields) from DescribeConfigs v2 responses',
    fails: /strictly deep-equal|Out of bounds|unread/,
  },
  'admin/alter-partition-v3 request (one partition)': {
    reason:
      'platformatic writes AlterPartition v3 topic_id as a compact string (appendString); since v2 it is a UUID',
    fails: /Samsa could not decode|Samsa decoded \d+ of \d+ bytes|strictly deep-equal/,
  },
  'admin/alter-partition-v3 request frame (one partition)': {
    reason: 'same topic_id encoding as the body',
    fails: /decodeRequest|whole frame consumed|bytes differ/,
  },
  'admin/alter-partition-v3 response': {
    reason:
      'platformatic reads AlterPartition v3 topic_id as a string (it is a UUID) and isr as one int32 (it is an array)',
    fails: /strictly deep-equal|Out of bounds|unread/,
  },
  'admin/alter-user-scram-credentials-v0 request (one of each)': {
    reason: 'platformatic appends the top-level tag buffer twice, leaving one extra byte after the message',
    fails: /Samsa decoded \d+ of \d+ bytes/,
  },
  'admin/alter-user-scram-credentials-v0 request frame (one of each)': {
    reason: 'same doubled tag buffer as the body',
    fails: /whole frame consumed/,
  },
  'admin/consumer-group-describe-v0 response': {
    reason:
      'platformatic reads Member.SubscribedTopicNames as one string (it is an array of strings) and does not read the ' +
      'tag buffers of the Assignment/TargetAssignment structs, so members are misread',
    fails: /strictly deep-equal|Out of bounds|unread/,
  },
  'producer/produce-v10 response (tagged current leader)': {
    reason:
      'platformatic cannot skip tagged fields (readTaggedFields reads a zig-zag count, skips that many bytes)',
    fails: /strictly deep-equal|Out of bounds|unread/,
  },
  'producer/produce-v11 response (tagged current leader)': {
    reason:
      'platformatic cannot skip tagged fields (readTaggedFields reads a zig-zag count, skips that many bytes)',
    fails: /strictly deep-equal|Out of bounds|unread/,
  },
};

/** Modules not exercised, and why. */
const UNCOVERED: Record<string, string> = {
  'admin/alter-partition-reassignments-v1':
    "AlterPartitionReassignments v1 (allow_replication_factor_change) is newer than Samsa's specs (max v0)",
  'admin/list-transactions-v2':
    "ListTransactions v2 (transactional_id_pattern) is newer than Samsa's specs (max v1)",
};

/** Modules whose file name and declared api version differ (the declared one is used). */
const MISNAMED: Record<string, number> = {
  // dist/apis/admin/describe-client-quotas-v0.js calls createAPI(48, 1, ...): it is DescribeClientQuotas v1.
  'admin/describe-client-quotas-v0': 1,
};

// ---------------------------------------------------------------------------------------------
// Shared values.

const TS = 1_700_000_000_000n;
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const hexUuid = (u: string): string =>
  uuidToHex(u).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
const TOPIC_ID_HEX = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const TOPIC_ID = uuidFromHex(TOPIC_ID_HEX);
const TOPIC2_ID_HEX = 'a1b2c3d4-0000-4000-8000-00000000beef';
const TOPIC2_ID = uuidFromHex(TOPIC2_ID_HEX);
/** Non-ASCII names (Kafka strings are length-prefixed UTF-8 bytes, not characters). */
const UTF8_TOPIC = 'tópico-日本-🚀';
/** Longer than 127 bytes, so compact lengths need a two-byte varint. */
const LONG_UTF8 = 'é'.repeat(150);
const plain = <T>(codec: MessageCodec<T>, value: T, v: number): Obj => project(codec, value, v, hexUuid);
const list = (o: Obj, k: string): Obj[] => o[k] as Obj[];

/** Record batch written by platformatic's own encoder, used in Fetch responses. */
const FETCH_BATCH = createRecordsBatch(
  [
    { topic: 'orders', key: bytes('k1'), value: bytes('v1'), timestamp: TS },
    { topic: 'orders', key: bytes('k2'), value: bytes('v2'), timestamp: TS + 5n },
  ],
  {},
).buffer;

function summarizeBatches(batches: RecordsBatch[]): Obj[] {
  return batches.map((b) => ({
    firstOffset: b.firstOffset,
    producerId: b.producerId,
    transactional: (b.attributes & 0x10) !== 0,
    records: b.records.map((r) => ({ key: r.key?.toString() ?? null, value: r.value?.toString() ?? null })),
  }));
}

/** Stands in for record sets that checkRequest verified with platformatic's own decoder. */
const RECORDS_CHECKED = Buffer.from('<records checked by platformatic decoder>');

// ---------------------------------------------------------------------------------------------
// The cases, one per API (all versions platformatic has of it).

const cases: PlatCase<unknown, unknown>[] = [
  // ---- metadata ----
  platCase({
    module: 'metadata/api-versions',
    request: ApiVersionsRequest,
    response: ApiVersionsResponse,
    requests: [
      {
        name: 'client software',
        args: () => ['samsa-interop', '1.2.3'],
        expect: () =>
          mk(ApiVersionsRequest.create, {
            clientSoftwareName: 'samsa-interop',
            clientSoftwareVersion: '1.2.3',
          }),
      },
    ],
    responses: [
      {
        name: 'two apis',
        value: () =>
          mk(ApiVersionsResponse.create, {
            errorCode: 0,
            throttleTimeMs: 5,
            apiKeys: [
              mk(ApiVersionsResponse.structs.ApiVersion, { apiKey: 0, minVersion: 3, maxVersion: 11 }),
              mk(ApiVersionsResponse.structs.ApiVersion, { apiKey: 18, minVersion: 0, maxVersion: 4 }),
            ],
          }),
        expect: () => ({
          errorCode: 0,
          apiKeys: [
            { apiKey: 0, name: 'Produce', minVersion: 3, maxVersion: 11 },
            { apiKey: 18, name: 'ApiVersions', minVersion: 0, maxVersion: 4 },
          ],
          throttleTimeMs: 5,
        }),
      },
      {
        // What real brokers send: features are tagged fields at the end, which platformatic leaves unread.
        name: 'with features (tagged)',
        value: () =>
          mk(ApiVersionsResponse.create, {
            errorCode: 0,
            throttleTimeMs: 5,
            apiKeys: [
              mk(ApiVersionsResponse.structs.ApiVersion, { apiKey: 1, minVersion: 4, maxVersion: 17 }),
            ],
            supportedFeatures: [
              mk(ApiVersionsResponse.structs.SupportedFeatureKey, {
                name: 'metadata.version',
                minVersion: 1,
                maxVersion: 21,
              }),
            ],
            finalizedFeaturesEpoch: 42n,
            finalizedFeatures: [
              mk(ApiVersionsResponse.structs.FinalizedFeatureKey, {
                name: 'metadata.version',
                maxVersionLevel: 21,
                minVersionLevel: 21,
              }),
            ],
          }),
        expect: () => ({
          errorCode: 0,
          apiKeys: [{ apiKey: 1, name: 'Fetch', minVersion: 4, maxVersion: 17 }],
          throttleTimeMs: 5,
        }),
        unread: (v, sent) =>
          encodeMessage(ApiVersionsResponse, sent, v).length -
          encodeMessage(
            ApiVersionsResponse,
            { ...sent, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [] },
            v,
          ).length +
          1,
      },
    ],
  }),

  platCase({
    module: 'metadata/metadata',
    request: MetadataRequest,
    response: MetadataResponse,
    requests: [
      {
        name: 'topics',
        args: () => [['orders', UTF8_TOPIC], true, true],
        expect: (v) =>
          fit(
            MetadataRequest,
            mk(MetadataRequest.create, {
              topics: ['orders', UTF8_TOPIC].map((name) =>
                mk(MetadataRequest.structs.MetadataRequestTopic, { name }),
              ),
              allowAutoTopicCreation: true,
              includeClusterAuthorizedOperations: false,
              includeTopicAuthorizedOperations: true,
            }),
            v,
          ),
      },
      {
        name: 'all topics',
        args: () => [null],
        expect: () => mk(MetadataRequest.create, { topics: null, allowAutoTopicCreation: false }),
      },
    ],
    responses: [
      {
        name: 'one topic',
        value: () =>
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
                name: 'orders',
                topicId: TOPIC_ID,
                isInternal: false,
                topicAuthorizedOperations: 0x0ff8,
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
                ],
              }),
              mk(MetadataResponse.structs.MetadataResponseTopic, {
                errorCode: 0,
                name: UTF8_TOPIC,
                topicId: TOPIC2_ID,
                isInternal: true,
                // More than 127 entries: compact array lengths need a two-byte varint.
                partitions: Array.from({ length: 200 }, (_, i) =>
                  mk(MetadataResponse.structs.MetadataResponsePartition, {
                    errorCode: 0,
                    partitionIndex: i,
                    leaderId: i % 3,
                    leaderEpoch: i,
                    replicaNodes: [i % 3, (i + 1) % 3],
                    isrNodes: [i % 3],
                    offlineReplicas: [],
                  }),
                ),
              }),
            ],
            clusterAuthorizedOperations: 0x0ff8,
          }),
        expect: (v, sent) => {
          const p = plain(MetadataResponse, sent, v);
          // platformatic skips cluster_authorized_operations (reading it as a boolean, see `unread`)...
          delete p.clusterAuthorizedOperations;
          // ...and in v9, which has no topic ids, reports the name as topicId.
          if (v === 9) p.topics = list(p, 'topics').map((t) => ({ ...t, topicId: t.name }));
          return p;
        },
        // v9-10: platformatic reads the int32 cluster_authorized_operations as a 1-byte boolean, leaving
        // 3 bytes and the tag buffer; v11 reads that "boolean" from the final tag buffer (0 left).
        unread: (v) => (v <= 10 ? 4 : v === 11 ? 0 : 1),
      },
    ],
  }),

  platCase({
    module: 'metadata/find-coordinator',
    request: FindCoordinatorRequest,
    response: FindCoordinatorResponse,
    requests: [
      {
        name: 'transactions',
        args: () => [1, ['txn-1', 'txn-2']],
        expect: () => mk(FindCoordinatorRequest.create, { keyType: 1, coordinatorKeys: ['txn-1', 'txn-2'] }),
      },
    ],
    responses: [
      {
        name: 'two coordinators',
        value: () =>
          mk(FindCoordinatorResponse.create, {
            throttleTimeMs: 3,
            coordinators: [
              mk(FindCoordinatorResponse.structs.Coordinator, {
                key: 'txn-1',
                nodeId: 7,
                host: 'broker-7',
                port: 19092,
                errorCode: 0,
                errorMessage: null,
              }),
              mk(FindCoordinatorResponse.structs.Coordinator, {
                key: 'txn-2',
                nodeId: 8,
                host: 'broker-8',
                port: 19093,
                errorCode: 0,
                errorMessage: '',
              }),
            ],
          }),
      },
    ],
  }),

  // ---- consumer ----
  platCase({
    module: 'consumer/heartbeat',
    request: HeartbeatRequest,
    response: HeartbeatResponse,
    requests: [
      {
        name: 'static member',
        args: () => ['group-1', 12, 'member-1', 'instance-1'],
        expect: () =>
          mk(HeartbeatRequest.create, {
            groupId: 'group-1',
            generationId: 12,
            memberId: 'member-1',
            groupInstanceId: 'instance-1',
          }),
      },
      {
        name: 'dynamic member',
        args: () => ['group-1', -1, '', null],
        expect: () =>
          mk(HeartbeatRequest.create, {
            groupId: 'group-1',
            generationId: -1,
            memberId: '',
            groupInstanceId: null,
          }),
      },
    ],
    responses: [
      { name: 'ok', value: () => mk(HeartbeatResponse.create, { throttleTimeMs: 6, errorCode: 0 }) },
    ],
  }),

  platCase({
    module: 'consumer/join-group',
    request: JoinGroupRequest,
    response: JoinGroupResponse,
    requests: [
      {
        name: 'consumer protocols',
        args: () => [
          'group-1',
          30000,
          60000,
          'member-1',
          'instance-1',
          'consumer',
          [
            { name: 'range', metadata: bytes('range-meta') },
            { name: 'cooperative-sticky', metadata: null },
          ],
          'rejoin',
        ],
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
                  name: 'cooperative-sticky',
                  metadata: Buffer.alloc(0),
                }),
              ],
              reason: 'rejoin',
            }),
            v,
          ),
      },
    ],
    responses: [
      {
        name: 'leader',
        value: () =>
          mk(JoinGroupResponse.create, {
            throttleTimeMs: 8,
            errorCode: 0,
            generationId: 12,
            protocolType: 'consumer',
            protocolName: 'range',
            leader: 'member-1',
            skipAssignment: true,
            memberId: 'member-1',
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
        // Fields a version lacks come back as platformatic's placeholders.
        expect: (v, sent) => ({
          ...(v < 7 ? { protocolType: '' } : {}),
          ...(v < 9 ? { skipAssignment: false } : {}),
          ...plain(JoinGroupResponse, sent, v),
        }),
      },
    ],
  }),

  platCase({
    module: 'consumer/sync-group',
    request: SyncGroupRequest,
    response: SyncGroupResponse,
    requests: [
      {
        name: 'leader assignments',
        args: () => [
          'group-1',
          12,
          'member-1',
          'instance-1',
          'consumer',
          'range',
          [
            { memberId: 'member-1', assignment: bytes('a1') },
            { memberId: 'member-2', assignment: bytes('a2') },
          ],
        ],
        expect: (v) =>
          fit(
            SyncGroupRequest,
            mk(SyncGroupRequest.create, {
              groupId: 'group-1',
              generationId: 12,
              memberId: 'member-1',
              groupInstanceId: 'instance-1',
              protocolType: 'consumer',
              protocolName: 'range',
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
    responses: [
      {
        name: 'assignment',
        value: () =>
          mk(SyncGroupResponse.create, {
            throttleTimeMs: 4,
            errorCode: 0,
            protocolType: 'consumer',
            protocolName: 'range',
            assignment: bytes('my-assignment'),
          }),
        expect: (v, sent) => ({
          ...(v < 5 ? { protocolType: null, protocolName: null } : {}),
          ...plain(SyncGroupResponse, sent, v),
        }),
      },
    ],
  }),

  platCase({
    module: 'consumer/leave-group',
    request: LeaveGroupRequest,
    response: LeaveGroupResponse,
    requests: [
      {
        name: 'batch',
        args: () => [
          'group-1',
          [
            { memberId: 'member-1', groupInstanceId: 'instance-1', reason: 'shutdown' },
            { memberId: 'member-2', groupInstanceId: null, reason: null },
          ],
        ],
        expect: (v) =>
          fit(
            LeaveGroupRequest,
            mk(LeaveGroupRequest.create, {
              groupId: 'group-1',
              members: [
                mk(LeaveGroupRequest.structs.MemberIdentity, {
                  memberId: 'member-1',
                  groupInstanceId: 'instance-1',
                  reason: 'shutdown',
                }),
                mk(LeaveGroupRequest.structs.MemberIdentity, {
                  memberId: 'member-2',
                  groupInstanceId: null,
                  reason: null,
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responses: [
      {
        name: 'two members',
        value: () =>
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
      },
    ],
  }),

  platCase({
    module: 'consumer/list-offsets',
    request: ListOffsetsRequest,
    response: ListOffsetsResponse,
    requests: [
      {
        name: 'latest and by time',
        args: () => [
          -1,
          1,
          [
            {
              name: 'orders',
              partitions: [
                { partitionIndex: 0, currentLeaderEpoch: 4, timestamp: -1n },
                { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: TS },
              ],
            },
          ],
        ],
        expect: () =>
          mk(ListOffsetsRequest.create, {
            replicaId: -1,
            isolationLevel: 1,
            topics: [
              mk(ListOffsetsRequest.structs.ListOffsetsTopic, {
                name: 'orders',
                partitions: [
                  mk(ListOffsetsRequest.structs.ListOffsetsPartition, {
                    partitionIndex: 0,
                    currentLeaderEpoch: 4,
                    timestamp: -1n,
                  }),
                  mk(ListOffsetsRequest.structs.ListOffsetsPartition, {
                    partitionIndex: 1,
                    currentLeaderEpoch: -1,
                    timestamp: TS,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'one partition',
        value: () =>
          mk(ListOffsetsResponse.create, {
            throttleTimeMs: 5,
            topics: [
              mk(ListOffsetsResponse.structs.ListOffsetsTopicResponse, {
                name: 'orders',
                partitions: [
                  mk(ListOffsetsResponse.structs.ListOffsetsPartitionResponse, {
                    partitionIndex: 0,
                    errorCode: 0,
                    timestamp: TS,
                    offset: 9_007_199_254_740_993n,
                    leaderEpoch: 4,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'consumer/offset-commit',
    request: OffsetCommitRequest,
    response: OffsetCommitResponse,
    requests: [
      {
        name: 'two partitions',
        args: () => [
          'group-1',
          12,
          'member-1',
          'instance-1',
          [
            {
              name: 'orders',
              partitions: [
                {
                  partitionIndex: 0,
                  committedOffset: 9_007_199_254_740_993n,
                  committedLeaderEpoch: 3,
                  committedMetadata: 'meta',
                },
                { partitionIndex: 1, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
              ],
            },
          ],
        ],
        expect: () =>
          mk(OffsetCommitRequest.create, {
            groupId: 'group-1',
            generationIdOrMemberEpoch: 12,
            memberId: 'member-1',
            groupInstanceId: 'instance-1',
            topics: [
              mk(OffsetCommitRequest.structs.OffsetCommitRequestTopic, {
                name: 'orders',
                partitions: [
                  mk(OffsetCommitRequest.structs.OffsetCommitRequestPartition, {
                    partitionIndex: 0,
                    committedOffset: 9_007_199_254_740_993n,
                    committedLeaderEpoch: 3,
                    committedMetadata: 'meta',
                  }),
                  mk(OffsetCommitRequest.structs.OffsetCommitRequestPartition, {
                    partitionIndex: 1,
                    committedOffset: 0n,
                    committedLeaderEpoch: -1,
                    committedMetadata: null,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'two partitions',
        value: () =>
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
      },
    ],
  }),

  platCase({
    module: 'consumer/offset-fetch',
    request: OffsetFetchRequest,
    response: OffsetFetchResponse,
    requests: [
      {
        name: 'two groups',
        args: () => [
          [
            {
              groupId: 'group-1',
              memberId: 'member-1',
              memberEpoch: 5,
              topics: [{ name: 'orders', partitionIndexes: [0, 1] }],
            },
            { groupId: 'group-2', memberId: null, memberEpoch: -1, topics: null },
          ],
          true,
        ],
        expect: (v) =>
          fit(
            OffsetFetchRequest,
            mk(OffsetFetchRequest.create, {
              groups: [
                mk(OffsetFetchRequest.structs.OffsetFetchRequestGroup, {
                  groupId: 'group-1',
                  memberId: 'member-1',
                  memberEpoch: 5,
                  topics: [
                    mk(OffsetFetchRequest.structs.OffsetFetchRequestTopics, {
                      name: 'orders',
                      partitionIndexes: [0, 1],
                    }),
                  ],
                }),
                mk(OffsetFetchRequest.structs.OffsetFetchRequestGroup, {
                  groupId: 'group-2',
                  memberId: null,
                  memberEpoch: -1,
                  topics: null,
                }),
              ],
              requireStable: true,
            }),
            v,
          ),
      },
    ],
    responses: [
      {
        name: 'one group',
        value: () =>
          mk(OffsetFetchResponse.create, {
            throttleTimeMs: 10,
            groups: [
              mk(OffsetFetchResponse.structs.OffsetFetchResponseGroup, {
                groupId: 'group-1',
                errorCode: 0,
                topics: [
                  mk(OffsetFetchResponse.structs.OffsetFetchResponseTopics, {
                    name: 'orders',
                    partitions: [
                      mk(OffsetFetchResponse.structs.OffsetFetchResponsePartitions, {
                        partitionIndex: 0,
                        committedOffset: 9_007_199_254_740_993n,
                        committedLeaderEpoch: 3,
                        metadata: 'meta',
                        errorCode: 0,
                      }),
                      mk(OffsetFetchResponse.structs.OffsetFetchResponsePartitions, {
                        partitionIndex: 1,
                        committedOffset: -1n,
                        committedLeaderEpoch: -1,
                        metadata: null,
                        errorCode: 0,
                      }),
                    ],
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'consumer/offset-for-leader-epoch',
    request: OffsetForLeaderEpochRequest,
    response: OffsetForLeaderEpochResponse,
    requests: [
      {
        name: 'one partition',
        args: () => [
          -1,
          [{ name: 'orders', partitions: [{ partitionIndex: 3, currentLeaderEpoch: 5, leaderEpoch: 4 }] }],
        ],
        expect: () =>
          mk(OffsetForLeaderEpochRequest.create, {
            replicaId: -1,
            topics: [
              mk(OffsetForLeaderEpochRequest.structs.OffsetForLeaderTopic, {
                topic: 'orders',
                partitions: [
                  mk(OffsetForLeaderEpochRequest.structs.OffsetForLeaderPartition, {
                    partition: 3,
                    currentLeaderEpoch: 5,
                    leaderEpoch: 4,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'one partition',
        value: () =>
          mk(OffsetForLeaderEpochResponse.create, {
            throttleTimeMs: 7,
            topics: [
              mk(OffsetForLeaderEpochResponse.structs.OffsetForLeaderTopicResult, {
                topic: 'orders',
                partitions: [
                  mk(OffsetForLeaderEpochResponse.structs.EpochEndOffset, {
                    errorCode: 0,
                    partition: 3,
                    leaderEpoch: 4,
                    endOffset: 1000n,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'consumer/consumer-group-heartbeat',
    request: ConsumerGroupHeartbeatRequest,
    response: ConsumerGroupHeartbeatResponse,
    requests: [
      {
        name: 'full',
        args: () => [
          'group-1',
          'member-1',
          5,
          'instance-1',
          'rack-a',
          45000,
          ['orders', 'payments'],
          'pay.*',
          'uniform',
          [{ topicId: TOPIC_ID_HEX, partitions: [0, 1] }],
        ],
        expect: (v) =>
          fit(
            ConsumerGroupHeartbeatRequest,
            mk(ConsumerGroupHeartbeatRequest.create, {
              groupId: 'group-1',
              memberId: 'member-1',
              memberEpoch: 5,
              instanceId: 'instance-1',
              rackId: 'rack-a',
              rebalanceTimeoutMs: 45000,
              subscribedTopicNames: ['orders', 'payments'],
              subscribedTopicRegex: 'pay.*',
              serverAssignor: 'uniform',
              topicPartitions: [
                mk(ConsumerGroupHeartbeatRequest.structs.TopicPartitions, {
                  topicId: TOPIC_ID,
                  partitions: [0, 1],
                }),
              ],
            }),
            v,
          ),
      },
      {
        name: 'nulls',
        args: () => ['group-1', 'member-1', 6, null, null, -1, null, null, null, null],
        expect: () =>
          mk(ConsumerGroupHeartbeatRequest.create, {
            groupId: 'group-1',
            memberId: 'member-1',
            memberEpoch: 6,
            instanceId: null,
            rackId: null,
            rebalanceTimeoutMs: -1,
            subscribedTopicNames: null,
            subscribedTopicRegex: null,
            serverAssignor: null,
            topicPartitions: null,
          }),
      },
    ],
    responses: [
      {
        name: 'with assignment',
        value: () =>
          mk(ConsumerGroupHeartbeatResponse.create, {
            throttleTimeMs: 1,
            errorCode: 0,
            errorMessage: null,
            memberId: 'member-1',
            memberEpoch: 6,
            heartbeatIntervalMs: 3000,
            assignment: mk(ConsumerGroupHeartbeatResponse.structs.Assignment, {
              topicPartitions: [
                mk(ConsumerGroupHeartbeatResponse.structs.TopicPartitions, {
                  topicId: TOPIC_ID,
                  partitions: [0, 1],
                }),
                mk(ConsumerGroupHeartbeatResponse.structs.TopicPartitions, {
                  topicId: TOPIC2_ID,
                  partitions: [],
                }),
              ],
            }),
          }),
        // platformatic does not read the Assignment struct's own tag buffer: it is left with the final one.
        unread: () => 2,
      },
      {
        name: 'no assignment',
        value: () =>
          mk(ConsumerGroupHeartbeatResponse.create, {
            throttleTimeMs: 1,
            errorCode: 0,
            memberId: null,
            memberEpoch: 6,
            heartbeatIntervalMs: 3000,
            assignment: null,
          }),
      },
    ],
  }),

  platCase({
    module: 'consumer/fetch',
    request: FetchRequest,
    response: FetchResponse,
    requests: [
      {
        name: 'one partition',
        args: (v) => [
          500,
          1,
          10_485_760,
          1,
          77,
          3,
          [
            {
              // platformatic passes the topic name in topicId for v12.
              topicId: v === 12 ? 'orders' : TOPIC_ID_HEX,
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: 4,
                  fetchOffset: 9_007_199_254_740_993n,
                  lastFetchedEpoch: 3,
                  partitionMaxBytes: 65536,
                },
                {
                  partition: 5,
                  currentLeaderEpoch: -1,
                  fetchOffset: 0n,
                  lastFetchedEpoch: -1,
                  partitionMaxBytes: 1024,
                },
              ],
            },
          ],
          [],
          'rack-a',
        ],
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
              topics: [
                mk(FetchRequest.structs.FetchTopic, {
                  topic: 'orders',
                  topicId: TOPIC_ID,
                  partitions: [
                    mk(FetchRequest.structs.FetchPartition, {
                      partition: 0,
                      currentLeaderEpoch: 4,
                      fetchOffset: 9_007_199_254_740_993n,
                      lastFetchedEpoch: 3,
                      logStartOffset: -1n,
                      partitionMaxBytes: 65536,
                    }),
                    mk(FetchRequest.structs.FetchPartition, {
                      partition: 5,
                      currentLeaderEpoch: -1,
                      fetchOffset: 0n,
                      lastFetchedEpoch: -1,
                      logStartOffset: -1n,
                      partitionMaxBytes: 1024,
                    }),
                  ],
                }),
              ],
              forgottenTopicsData: [],
            }),
            v,
          ),
      },
      {
        name: 'forgotten topics',
        args: (v) => [
          500,
          1,
          1024,
          0,
          77,
          4,
          [],
          [{ topic: v === 12 ? 'old' : TOPIC2_ID_HEX, partitions: [1, 2] }],
          '',
        ],
        expect: (v) =>
          fit(
            FetchRequest,
            mk(FetchRequest.create, {
              replicaId: -1,
              maxWaitMs: 500,
              minBytes: 1,
              maxBytes: 1024,
              isolationLevel: 0,
              sessionId: 77,
              sessionEpoch: 4,
              rackId: '',
              topics: [],
              forgottenTopicsData: [
                mk(FetchRequest.structs.ForgottenTopic, {
                  topic: 'old',
                  topicId: TOPIC2_ID,
                  partitions: [1, 2],
                }),
              ],
            }),
            v,
          ),
      },
    ],
    responses: [
      {
        name: 'records',
        value: () =>
          mk(FetchResponse.create, {
            throttleTimeMs: 41,
            errorCode: 0,
            sessionId: 77,
            responses: [
              mk(FetchResponse.structs.FetchableTopicResponse, {
                topic: 'orders',
                topicId: TOPIC_ID,
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
                    records: FETCH_BATCH,
                  }),
                  mk(FetchResponse.structs.PartitionData, {
                    partitionIndex: 1,
                    errorCode: 0,
                    highWatermark: 0n,
                    lastStableOffset: 0n,
                    logStartOffset: 0n,
                    abortedTransactions: [],
                    preferredReadReplica: -1,
                    records: null,
                  }),
                ],
              }),
            ],
          }),
        expect: (v, sent) => {
          const p = plain(FetchResponse, sent, v);
          p.responses = list(p, 'responses').map((t) => {
            // v12 has no topic ids; platformatic reports the name under topicId.
            const { topic, ...rest } = t;
            return {
              ...(v === 12 ? { ...rest, topicId: topic } : rest),
              partitions: list(t, 'partitions').map((part) => {
                const { records, ...others } = part;
                return records === null
                  ? others
                  : {
                      ...others,
                      records: [
                        {
                          firstOffset: 0n,
                          producerId: -1n,
                          transactional: false,
                          records: [
                            { key: 'k1', value: 'v1' },
                            { key: 'k2', value: 'v2' },
                          ],
                        },
                      ],
                    };
              }),
            };
          });
          return p;
        },
      },
    ],
    normalizeResponse: (parsed) => ({
      ...parsed,
      responses: list(parsed, 'responses').map((t) => ({
        ...t,
        partitions: list(t, 'partitions').map((p) =>
          p.records === undefined ? p : { ...p, records: summarizeBatches(p.records as RecordsBatch[]) },
        ),
      })),
    }),
  }),

  // ---- producer ----
  platCase({
    module: 'producer/produce',
    request: ProduceRequest,
    response: ProduceResponse,
    requests: [
      {
        name: 'transactional',
        args: () => [
          -1,
          30000,
          [
            { topic: 'orders', partition: 3, key: bytes('k1'), value: bytes('v1'), timestamp: TS },
            { topic: 'orders', partition: 3, key: bytes('k2'), value: bytes('v2'), timestamp: TS + 5n },
          ],
          { transactionalId: 'txn-1', producerId: 4000n, producerEpoch: 2 },
        ],
        expect: () =>
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
      },
      {
        name: 'two topics',
        args: () => [
          1,
          1000,
          [
            { topic: 'a', partition: 0, key: bytes('k1'), value: bytes('v1'), timestamp: TS },
            { topic: 'b', partition: 1, value: bytes('v2'), timestamp: TS },
          ],
          {},
        ],
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
    checkRequest: (decoded, _v, scenario) => {
      const txn = scenario === 'transactional';
      const expected = txn
        ? [
            [
              { key: 'k1', value: 'v1' },
              { key: 'k2', value: 'v2' },
            ],
          ]
        : [[{ key: 'k1', value: 'v1' }], [{ key: null, value: 'v2' }]];
      decoded.topicData.forEach((t, i) => {
        const records = t.partitionData[0]?.records;
        assert.ok(records instanceof Buffer, 'records');
        assert.deepStrictEqual(summarizeBatches(readRecordsBatches(Reader.from(records))), [
          { firstOffset: 0n, producerId: txn ? 4000n : -1n, transactional: txn, records: expected[i] },
        ]);
      });
      return {
        ...decoded,
        topicData: decoded.topicData.map((t) => ({
          ...t,
          partitionData: t.partitionData.map((p) => ({ ...p, records: RECORDS_CHECKED })),
        })),
      };
    },
    responses: [
      {
        name: 'one partition',
        value: () =>
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
                    logAppendTimeMs: -1n,
                    logStartOffset: 12n,
                    recordErrors: [],
                    errorMessage: null,
                  }),
                ],
              }),
            ],
          }),
        expect: (v, sent) => {
          const p = plain(ProduceResponse, sent, v);
          if (v < 8) {
            // v7 lacks record_errors and error_message; platformatic fills in placeholders.
            p.responses = list(p, 'responses').map((t) => ({
              ...t,
              partitionResponses: list(t, 'partitionResponses').map((pr) => ({
                ...pr,
                recordErrors: [],
                errorMessage: null,
              })),
            }));
          }
          return p;
        },
      },
      {
        // A NOT_LEADER-style response carries the tagged current_leader (and node_endpoints) from v10.
        name: 'tagged current leader',
        versions: [10, 11],
        value: () =>
          mk(ProduceResponse.create, {
            throttleTimeMs: 31,
            responses: [
              mk(ProduceResponse.structs.TopicProduceResponse, {
                name: 'orders',
                partitionResponses: [
                  mk(ProduceResponse.structs.PartitionProduceResponse, {
                    index: 3,
                    errorCode: 0,
                    baseOffset: 10n,
                    currentLeader: mk(ProduceResponse.structs.LeaderIdAndEpoch, {
                      leaderId: 2,
                      leaderEpoch: 9,
                    }),
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'producer/init-producer-id',
    request: InitProducerIdRequest,
    response: InitProducerIdResponse,
    requests: [
      {
        name: 'transactional',
        args: () => ['txn-1', 60000, 4000n, 2],
        expect: () =>
          mk(InitProducerIdRequest.create, {
            transactionalId: 'txn-1',
            transactionTimeoutMs: 60000,
            producerId: 4000n,
            producerEpoch: 2,
          }),
      },
      {
        name: 'idempotent',
        args: () => [null, 30000, -1n, -1],
        expect: () =>
          mk(InitProducerIdRequest.create, {
            transactionalId: null,
            transactionTimeoutMs: 30000,
            producerId: -1n,
            producerEpoch: -1,
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(InitProducerIdResponse.create, {
            throttleTimeMs: 15,
            errorCode: 0,
            producerId: 9_007_199_254_740_993n,
            producerEpoch: 3,
          }),
      },
    ],
  }),

  platCase({
    module: 'producer/add-partitions-to-txn',
    request: AddPartitionsToTxnRequest,
    response: AddPartitionsToTxnResponse,
    requests: [
      {
        name: 'one transaction',
        args: () => [
          [
            {
              transactionalId: 'txn-1',
              producerId: 4000n,
              producerEpoch: 2,
              verifyOnly: true,
              topics: [
                { name: 'orders', partitions: [0, 1] },
                { name: 'payments', partitions: [4] },
              ],
            },
          ],
        ],
        expect: (v) => {
          const topics = [
            mk(AddPartitionsToTxnRequest.structs.AddPartitionsToTxnTopic, {
              name: 'orders',
              partitions: [0, 1],
            }),
            mk(AddPartitionsToTxnRequest.structs.AddPartitionsToTxnTopic, {
              name: 'payments',
              partitions: [4],
            }),
          ];
          return v <= 3
            ? mk(AddPartitionsToTxnRequest.create, {
                v3AndBelowTransactionalId: 'txn-1',
                v3AndBelowProducerId: 4000n,
                v3AndBelowProducerEpoch: 2,
                v3AndBelowTopics: topics,
              })
            : mk(AddPartitionsToTxnRequest.create, {
                transactions: [
                  mk(AddPartitionsToTxnRequest.structs.AddPartitionsToTxnTransaction, {
                    transactionalId: 'txn-1',
                    producerId: 4000n,
                    producerEpoch: 2,
                    verifyOnly: true,
                    topics,
                  }),
                ],
              });
        },
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () => {
          const topicResults = [
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
          ];
          return mk(AddPartitionsToTxnResponse.create, {
            throttleTimeMs: 16,
            errorCode: 0,
            resultsByTopicV3AndBelow: topicResults,
            resultsByTransaction: [
              mk(AddPartitionsToTxnResponse.structs.AddPartitionsToTxnResult, {
                transactionalId: 'txn-1',
                topicResults,
              }),
            ],
          });
        },
        expect: (v, sent) => {
          if (v >= 4) return plain(AddPartitionsToTxnResponse, sent, v);
          // platformatic presents v3's results_by_topic as one transaction with an empty id.
          const p = plain(AddPartitionsToTxnResponse, sent, v);
          return {
            throttleTimeMs: p.throttleTimeMs,
            errorCode: 0,
            resultsByTransaction: [{ transactionalId: '', topicResults: p.resultsByTopicV3AndBelow }],
          };
        },
      },
    ],
  }),

  platCase({
    module: 'producer/add-offsets-to-txn',
    request: AddOffsetsToTxnRequest,
    response: AddOffsetsToTxnResponse,
    requests: [
      {
        name: 'group',
        args: () => ['txn-1', 4000n, 2, 'group-1'],
        expect: () =>
          mk(AddOffsetsToTxnRequest.create, {
            transactionalId: 'txn-1',
            producerId: 4000n,
            producerEpoch: 2,
            groupId: 'group-1',
          }),
      },
    ],
    responses: [
      { name: 'ok', value: () => mk(AddOffsetsToTxnResponse.create, { throttleTimeMs: 17, errorCode: 0 }) },
    ],
  }),

  platCase({
    module: 'producer/end-txn',
    request: EndTxnRequest,
    response: EndTxnResponse,
    requests: [
      {
        name: 'commit',
        args: () => ['txn-1', 4000n, 2, true],
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
        args: () => ['txn-1', 4000n, 2, false],
        expect: () =>
          mk(EndTxnRequest.create, {
            transactionalId: 'txn-1',
            producerId: 4000n,
            producerEpoch: 2,
            committed: false,
          }),
      },
    ],
    responses: [{ name: 'ok', value: () => mk(EndTxnResponse.create, { throttleTimeMs: 18, errorCode: 0 }) }],
  }),

  platCase({
    module: 'producer/txn-offset-commit',
    request: TxnOffsetCommitRequest,
    response: TxnOffsetCommitResponse,
    requests: [
      {
        name: 'member',
        args: () => [
          'txn-1',
          'group-1',
          4000n,
          2,
          12,
          'member-1',
          'instance-1',
          [
            {
              name: 'orders',
              partitions: [
                { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 3, committedMetadata: 'm' },
              ],
            },
          ],
        ],
        expect: () =>
          mk(TxnOffsetCommitRequest.create, {
            transactionalId: 'txn-1',
            groupId: 'group-1',
            producerId: 4000n,
            producerEpoch: 2,
            generationId: 12,
            memberId: 'member-1',
            groupInstanceId: 'instance-1',
            topics: [
              mk(TxnOffsetCommitRequest.structs.TxnOffsetCommitRequestTopic, {
                name: 'orders',
                partitions: [
                  mk(TxnOffsetCommitRequest.structs.TxnOffsetCommitRequestPartition, {
                    partitionIndex: 0,
                    committedOffset: 42n,
                    committedLeaderEpoch: 3,
                    committedMetadata: 'm',
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
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
      },
    ],
  }),

  // ---- security ----
  platCase({
    module: 'security/sasl-handshake',
    request: SaslHandshakeRequest,
    response: SaslHandshakeResponse,
    requests: [
      {
        name: 'PLAIN',
        args: () => ['PLAIN'],
        expect: () => mk(SaslHandshakeRequest.create, { mechanism: 'PLAIN' }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(SaslHandshakeResponse.create, { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] }),
      },
    ],
  }),

  platCase({
    module: 'security/sasl-authenticate',
    request: SaslAuthenticateRequest,
    response: SaslAuthenticateResponse,
    requests: [
      {
        name: 'token',
        args: () => [bytes('\0user\0secret')],
        expect: () => mk(SaslAuthenticateRequest.create, { authBytes: bytes('\0user\0secret') }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(SaslAuthenticateResponse.create, {
            errorCode: 0,
            errorMessage: null,
            authBytes: bytes('server-final'),
            sessionLifetimeMs: 3_600_000n,
          }),
      },
    ],
  }),

  // ---- telemetry ----
  platCase({
    module: 'telemetry/get-telemetry-subscriptions',
    request: GetTelemetrySubscriptionsRequest,
    response: GetTelemetrySubscriptionsResponse,
    requests: [
      {
        name: 'instance id',
        args: () => [TOPIC_ID_HEX],
        expect: () => mk(GetTelemetrySubscriptionsRequest.create, { clientInstanceId: TOPIC_ID }),
      },
    ],
    responses: [
      {
        name: 'subscription',
        value: () =>
          mk(GetTelemetrySubscriptionsResponse.create, {
            throttleTimeMs: 1,
            errorCode: 0,
            clientInstanceId: TOPIC2_ID,
            subscriptionId: 99,
            acceptedCompressionTypes: [0, 3, 4],
            pushIntervalMs: 30000,
            telemetryMaxBytes: 1_048_576,
            deltaTemporality: true,
            requestedMetrics: ['org.apache.kafka.producer.'],
          }),
      },
    ],
  }),

  platCase({
    module: 'telemetry/push-telemetry',
    request: PushTelemetryRequest,
    response: PushTelemetryResponse,
    requests: [
      {
        name: 'metrics',
        args: () => [TOPIC_ID_HEX, 99, true, 4, bytes('otlp-metrics')],
        expect: () =>
          mk(PushTelemetryRequest.create, {
            clientInstanceId: TOPIC_ID,
            subscriptionId: 99,
            terminating: true,
            compressionType: 4,
            metrics: bytes('otlp-metrics'),
          }),
      },
    ],
    responses: [
      { name: 'ok', value: () => mk(PushTelemetryResponse.create, { throttleTimeMs: 2, errorCode: 0 }) },
    ],
  }),

  platCase({
    module: 'telemetry/list-client-metrics-resources',
    request: ListClientMetricsResourcesRequest,
    response: ListClientMetricsResourcesResponse,
    requests: [{ name: 'empty', args: () => [], expect: () => ListClientMetricsResourcesRequest.create() }],
    responses: [
      {
        name: 'two',
        value: () =>
          mk(ListClientMetricsResourcesResponse.create, {
            throttleTimeMs: 3,
            errorCode: 0,
            clientMetricsResources: [
              mk(ListClientMetricsResourcesResponse.structs.ClientMetricsResource, { name: 'm1' }),
              mk(ListClientMetricsResourcesResponse.structs.ClientMetricsResource, { name: 'm2' }),
            ],
          }),
      },
    ],
  }),

  // ---- admin ----
  platCase({
    module: 'admin/create-topics',
    request: CreateTopicsRequest,
    response: CreateTopicsResponse,
    requests: [
      {
        name: 'two topics',
        args: () => [
          [
            {
              name: 'orders',
              numPartitions: -1,
              replicationFactor: -1,
              assignments: [
                { partitionIndex: 0, brokerIds: [1, 2] },
                { partitionIndex: 1, brokerIds: [2, 3] },
              ],
              configs: [
                { name: 'cleanup.policy', value: 'compact' },
                { name: 'retention.ms', value: null },
                { name: 'x.long', value: LONG_UTF8 },
              ],
            },
            { name: UTF8_TOPIC, numPartitions: 3, replicationFactor: 2, assignments: [], configs: [] },
          ],
          1234,
          true,
        ],
        expect: () =>
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
                  mk(CreateTopicsRequest.structs.CreatableTopicConfig, { name: 'retention.ms', value: null }),
                  mk(CreateTopicsRequest.structs.CreatableTopicConfig, { name: 'x.long', value: LONG_UTF8 }),
                ],
              }),
              mk(CreateTopicsRequest.structs.CreatableTopic, {
                name: UTF8_TOPIC,
                numPartitions: 3,
                replicationFactor: 2,
                assignments: [],
                configs: [],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'created',
        value: () =>
          mk(CreateTopicsResponse.create, {
            throttleTimeMs: 11,
            topics: [
              mk(CreateTopicsResponse.structs.CreatableTopicResult, {
                name: 'orders',
                topicId: TOPIC_ID,
                errorCode: 0,
                errorMessage: null,
                numPartitions: 2,
                replicationFactor: 2,
                configs: [
                  mk(CreateTopicsResponse.structs.CreatableTopicConfigs, {
                    name: 'cleanup.policy',
                    value: 'compact',
                    readOnly: false,
                    configSource: 1,
                    isSensitive: false,
                  }),
                  mk(CreateTopicsResponse.structs.CreatableTopicConfigs, {
                    name: 'sasl.jaas.config',
                    value: null,
                    readOnly: true,
                    configSource: 5,
                    isSensitive: true,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/delete-topics',
    request: DeleteTopicsRequest,
    response: DeleteTopicsResponse,
    requests: [
      {
        name: 'by name and id',
        args: () => [[{ name: 'orders', topicId: TOPIC_ID_HEX }, { name: 'payments' }], 4000],
        expect: () =>
          mk(DeleteTopicsRequest.create, {
            timeoutMs: 4000,
            topics: [
              mk(DeleteTopicsRequest.structs.DeleteTopicState, { name: 'orders', topicId: TOPIC_ID }),
              mk(DeleteTopicsRequest.structs.DeleteTopicState, {
                name: 'payments',
                topicId: uuidFromHex('0'.repeat(32)),
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'deleted',
        value: () =>
          mk(DeleteTopicsResponse.create, {
            throttleTimeMs: 12,
            responses: [
              mk(DeleteTopicsResponse.structs.DeletableTopicResult, {
                name: 'orders',
                topicId: TOPIC_ID,
                errorCode: 0,
                errorMessage: null,
              }),
              mk(DeleteTopicsResponse.structs.DeletableTopicResult, {
                name: null,
                topicId: TOPIC2_ID,
                errorCode: 0,
                errorMessage: 'x',
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/create-partitions',
    request: CreatePartitionsRequest,
    response: CreatePartitionsResponse,
    requests: [
      {
        name: 'assignments',
        args: () => [
          [
            { name: 'orders', count: 5, assignments: [{ brokerIds: [1, 2] }, { brokerIds: [2, 3] }] },
            { name: 'payments', count: 3, assignments: null },
          ],
          2500,
          true,
        ],
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
    responses: [
      {
        name: 'ok',
        value: () =>
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
      },
    ],
  }),

  platCase({
    module: 'admin/delete-records',
    request: DeleteRecordsRequest,
    response: DeleteRecordsResponse,
    requests: [
      {
        name: 'two partitions',
        args: () => [
          [
            {
              name: 'orders',
              partitions: [
                { partitionIndex: 0, offset: 9_007_199_254_740_993n },
                { partitionIndex: 1, offset: -1n },
              ],
            },
          ],
          3000,
        ],
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
    responses: [
      {
        name: 'ok',
        value: () =>
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
      },
    ],
  }),

  platCase({
    module: 'admin/delete-groups',
    request: DeleteGroupsRequest,
    response: DeleteGroupsResponse,
    requests: [
      {
        name: 'two groups',
        args: () => [['group-1', 'group-2']],
        expect: () => mk(DeleteGroupsRequest.create, { groupsNames: ['group-1', 'group-2'] }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(DeleteGroupsResponse.create, {
            throttleTimeMs: 28,
            results: [
              mk(DeleteGroupsResponse.structs.DeletableGroupResult, { groupId: 'group-1', errorCode: 0 }),
              mk(DeleteGroupsResponse.structs.DeletableGroupResult, { groupId: 'group-2', errorCode: 0 }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-groups',
    request: DescribeGroupsRequest,
    response: DescribeGroupsResponse,
    requests: [
      {
        name: 'two groups',
        args: () => [['group-1', 'group-2'], true],
        expect: () =>
          mk(DescribeGroupsRequest.create, {
            groups: ['group-1', 'group-2'],
            includeAuthorizedOperations: true,
          }),
      },
    ],
    responses: [
      {
        name: 'stable',
        value: () =>
          mk(DescribeGroupsResponse.create, {
            throttleTimeMs: 13,
            groups: [
              mk(DescribeGroupsResponse.structs.DescribedGroup, {
                errorCode: 0,
                groupId: 'group-1',
                groupState: 'Stable',
                protocolType: 'consumer',
                protocolData: 'range',
                authorizedOperations: 0x0ff8,
                members: [
                  mk(DescribeGroupsResponse.structs.DescribedGroupMember, {
                    memberId: 'member-1',
                    groupInstanceId: 'instance-1',
                    clientId: 'client-1',
                    clientHost: '/10.0.0.1',
                    memberMetadata: bytes('meta'),
                    memberAssignment: bytes('assign'),
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/list-groups',
    request: ListGroupsRequest,
    response: ListGroupsResponse,
    requests: [
      {
        name: 'filters',
        args: () => [['Stable', 'Empty'], ['consumer']],
        expect: (v) =>
          fit(
            ListGroupsRequest,
            mk(ListGroupsRequest.create, { statesFilter: ['Stable', 'Empty'], typesFilter: ['consumer'] }),
            v,
          ),
      },
    ],
    responses: [
      {
        name: 'two groups',
        value: () =>
          mk(ListGroupsResponse.create, {
            throttleTimeMs: 14,
            errorCode: 0,
            groups: [
              mk(ListGroupsResponse.structs.ListedGroup, {
                groupId: 'group-1',
                protocolType: 'consumer',
                groupState: 'Stable',
                groupType: 'classic',
              }),
              mk(ListGroupsResponse.structs.ListedGroup, {
                groupId: 'group-2',
                protocolType: '',
                groupState: 'Empty',
                groupType: 'consumer',
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-configs',
    request: DescribeConfigsRequest,
    response: DescribeConfigsResponse,
    requests: [
      {
        name: 'two keys',
        args: () => [
          [
            {
              resourceType: 2,
              resourceName: 'orders',
              configurationKeys: ['cleanup.policy', 'retention.ms'],
            },
          ],
          true,
          true,
        ],
        expect: (v) =>
          fit(
            DescribeConfigsRequest,
            mk(DescribeConfigsRequest.create, {
              includeSynonyms: true,
              includeDocumentation: true,
              resources: [
                mk(DescribeConfigsRequest.structs.DescribeConfigsResource, {
                  resourceType: 2,
                  resourceName: 'orders',
                  configurationKeys: ['cleanup.policy', 'retention.ms'],
                }),
              ],
            }),
            v,
          ),
      },
      {
        name: 'all keys',
        versions: [3, 4],
        args: () => [[{ resourceType: 4, resourceName: '1', configurationKeys: null }], false, false],
        expect: () =>
          mk(DescribeConfigsRequest.create, {
            resources: [
              mk(DescribeConfigsRequest.structs.DescribeConfigsResource, {
                resourceType: 4,
                resourceName: '1',
                configurationKeys: null,
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'two configs',
        value: () =>
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
                        value: null,
                        source: 5,
                      }),
                    ],
                    configType: 2,
                    documentation: LONG_UTF8,
                  }),
                  mk(DescribeConfigsResponse.structs.DescribeConfigsResourceResult, {
                    name: 'sasl.jaas.config',
                    value: null,
                    readOnly: true,
                    configSource: 5,
                    isSensitive: true,
                    synonyms: [],
                    configType: 9,
                    documentation: null,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/alter-configs',
    request: AlterConfigsRequest,
    response: AlterConfigsResponse,
    requests: [
      {
        name: 'topic configs',
        args: () => [
          [
            {
              resourceType: 2,
              resourceName: 'orders',
              configs: [
                { name: 'cleanup.policy', value: 'compact' },
                { name: 'retention.ms', value: null },
              ],
            },
          ],
          true,
        ],
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
    responses: [
      {
        name: 'ok',
        value: () =>
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
      },
    ],
  }),

  platCase({
    module: 'admin/incremental-alter-configs',
    request: IncrementalAlterConfigsRequest,
    response: IncrementalAlterConfigsResponse,
    requests: [
      {
        name: 'set and delete',
        args: () => [
          [
            {
              resourceType: 2,
              resourceName: 'orders',
              configs: [
                { name: 'cleanup.policy', configOperation: 0, value: 'compact' },
                { name: 'retention.ms', configOperation: 1, value: null },
              ],
            },
          ],
          true,
        ],
        expect: () =>
          mk(IncrementalAlterConfigsRequest.create, {
            validateOnly: true,
            resources: [
              mk(IncrementalAlterConfigsRequest.structs.AlterConfigsResource, {
                resourceType: 2,
                resourceName: 'orders',
                configs: [
                  mk(IncrementalAlterConfigsRequest.structs.AlterableConfig, {
                    name: 'cleanup.policy',
                    configOperation: 0,
                    value: 'compact',
                  }),
                  mk(IncrementalAlterConfigsRequest.structs.AlterableConfig, {
                    name: 'retention.ms',
                    configOperation: 1,
                    value: null,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(IncrementalAlterConfigsResponse.create, {
            throttleTimeMs: 25,
            responses: [
              mk(IncrementalAlterConfigsResponse.structs.AlterConfigsResourceResponse, {
                errorCode: 0,
                errorMessage: null,
                resourceType: 2,
                resourceName: 'orders',
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/create-acls',
    request: CreateAclsRequest,
    response: CreateAclsResponse,
    requests: [
      {
        name: 'one acl',
        args: () => [
          [
            {
              resourceType: 2,
              resourceName: 'orders',
              resourcePatternType: 4,
              principal: 'User:alice',
              host: '*',
              operation: 3,
              permissionType: 3,
            },
          ],
        ],
        expect: () =>
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
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(CreateAclsResponse.create, {
            throttleTimeMs: 21,
            results: [mk(CreateAclsResponse.structs.AclCreationResult, { errorCode: 0, errorMessage: null })],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-acls',
    request: DescribeAclsRequest,
    response: DescribeAclsResponse,
    requests: [
      {
        name: 'filter',
        args: () => [
          {
            resourceType: 2,
            resourceName: 'orders',
            resourcePatternType: 4,
            principal: null,
            host: '*',
            operation: 3,
            permissionType: 3,
          },
        ],
        expect: () =>
          mk(DescribeAclsRequest.create, {
            resourceTypeFilter: 2,
            resourceNameFilter: 'orders',
            patternTypeFilter: 4,
            principalFilter: null,
            hostFilter: '*',
            operation: 3,
            permissionType: 3,
          }),
      },
    ],
    responses: [
      {
        name: 'one resource',
        value: () =>
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
        // platformatic names DescribeAclsResource.PatternType "resourcePatternType".
        expect: (v, sent) => {
          const p = plain(DescribeAclsResponse, sent, v);
          p.resources = list(p, 'resources').map(({ patternType, ...r }) => ({
            ...r,
            resourcePatternType: patternType,
          }));
          return p;
        },
      },
    ],
  }),

  platCase({
    module: 'admin/delete-acls',
    request: DeleteAclsRequest,
    response: DeleteAclsResponse,
    requests: [
      {
        name: 'one filter',
        args: () => [
          [
            {
              resourceType: 2,
              resourceName: null,
              resourcePatternType: 1,
              principal: 'User:alice',
              host: null,
              operation: 1,
              permissionType: 1,
            },
          ],
        ],
        expect: () =>
          mk(DeleteAclsRequest.create, {
            filters: [
              mk(DeleteAclsRequest.structs.DeleteAclsFilter, {
                resourceTypeFilter: 2,
                resourceNameFilter: null,
                patternTypeFilter: 1,
                principalFilter: 'User:alice',
                hostFilter: null,
                operation: 1,
                permissionType: 1,
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'one match',
        value: () =>
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
        // platformatic names DeleteAclsMatchingAcl.PatternType "resourcePatternType".
        expect: (v, sent) => {
          const p = plain(DeleteAclsResponse, sent, v);
          p.filterResults = list(p, 'filterResults').map((f) => ({
            ...f,
            matchingAcls: list(f, 'matchingAcls').map(({ patternType, ...m }) => ({
              ...m,
              resourcePatternType: patternType,
            })),
          }));
          return p;
        },
      },
    ],
  }),

  platCase({
    module: 'admin/describe-cluster',
    request: DescribeClusterRequest,
    response: DescribeClusterResponse,
    requests: [
      {
        name: 'controllers',
        args: () => [true, 2],
        expect: (v) =>
          fit(
            DescribeClusterRequest,
            mk(DescribeClusterRequest.create, { includeClusterAuthorizedOperations: true, endpointType: 2 }),
            v,
          ),
      },
    ],
    responses: [
      {
        name: 'two brokers',
        value: () =>
          mk(DescribeClusterResponse.create, {
            throttleTimeMs: 3,
            errorCode: 0,
            errorMessage: null,
            endpointType: 2,
            clusterId: 'cluster-xyz',
            controllerId: 1,
            brokers: [
              mk(DescribeClusterResponse.structs.DescribeClusterBroker, {
                brokerId: 1,
                host: 'b1',
                port: 9092,
                rack: 'r1',
              }),
              mk(DescribeClusterResponse.structs.DescribeClusterBroker, {
                brokerId: 2,
                host: 'b2',
                port: 9093,
                rack: null,
              }),
            ],
            clusterAuthorizedOperations: 0x0ff8,
          }),
        expect: (v, sent) => ({
          ...(v < 1 ? { endpointType: 0 } : {}),
          ...plain(DescribeClusterResponse, sent, v),
        }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-log-dirs',
    request: DescribeLogDirsRequest,
    response: DescribeLogDirsResponse,
    requests: [
      {
        name: 'one topic',
        args: () => [[{ name: 'orders', partitions: [0, 1] }]],
        expect: () =>
          mk(DescribeLogDirsRequest.create, {
            topics: [
              mk(DescribeLogDirsRequest.structs.DescribableLogDirTopic, {
                topic: 'orders',
                partitions: [0, 1],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'one dir',
        value: () =>
          mk(DescribeLogDirsResponse.create, {
            throttleTimeMs: 4,
            errorCode: 0,
            results: [
              mk(DescribeLogDirsResponse.structs.DescribeLogDirsResult, {
                errorCode: 0,
                logDir: '/data/kafka',
                totalBytes: 1_000_000_000_000n,
                usableBytes: 500_000_000_000n,
                topics: [
                  mk(DescribeLogDirsResponse.structs.DescribeLogDirsTopic, {
                    name: 'orders',
                    partitions: [
                      mk(DescribeLogDirsResponse.structs.DescribeLogDirsPartition, {
                        partitionIndex: 0,
                        partitionSize: 123_456n,
                        offsetLag: 0n,
                        isFutureKey: false,
                      }),
                    ],
                  }),
                ],
              }),
            ],
          }),
        // Fields a version lacks come back as platformatic's placeholders.
        expect: (v, sent) => {
          const p = plain(DescribeLogDirsResponse, sent, v);
          const results =
            v < 4 ? list(p, 'results').map((r) => ({ ...r, totalBytes: 0n, usableBytes: 0n })) : p.results;
          return { ...(v < 3 ? { errorCode: 0 } : {}), ...p, results };
        },
      },
    ],
  }),

  platCase({
    module: 'admin/alter-replica-log-dirs',
    request: AlterReplicaLogDirsRequest,
    response: AlterReplicaLogDirsResponse,
    requests: [
      {
        name: 'one dir',
        args: () => [[{ path: '/data/b', topics: [{ name: 'orders', partitions: [0, 1] }] }]],
        expect: () =>
          mk(AlterReplicaLogDirsRequest.create, {
            dirs: [
              mk(AlterReplicaLogDirsRequest.structs.AlterReplicaLogDir, {
                path: '/data/b',
                topics: [
                  mk(AlterReplicaLogDirsRequest.structs.AlterReplicaLogDirTopic, {
                    name: 'orders',
                    partitions: [0, 1],
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(AlterReplicaLogDirsResponse.create, {
            throttleTimeMs: 5,
            results: [
              mk(AlterReplicaLogDirsResponse.structs.AlterReplicaLogDirTopicResult, {
                topicName: 'orders',
                partitions: [
                  mk(AlterReplicaLogDirsResponse.structs.AlterReplicaLogDirPartitionResult, {
                    partitionIndex: 0,
                    errorCode: 0,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/alter-partition-reassignments',
    request: AlterPartitionReassignmentsRequest,
    response: AlterPartitionReassignmentsResponse,
    requests: [
      {
        name: 'two partitions',
        args: () => [
          5500,
          false,
          [
            {
              name: 'orders',
              partitions: [
                { partitionIndex: 0, replicas: [1, 2, 3] },
                { partitionIndex: 1, replicas: null },
              ],
            },
          ],
        ],
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
                    replicas: null,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
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
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/list-partition-reassignments',
    request: ListPartitionReassignmentsRequest,
    response: ListPartitionReassignmentsResponse,
    requests: [
      {
        name: 'named',
        args: () => [6500, [{ name: 'orders', partitionIndexes: [0, 2] }]],
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
        args: () => [6500, null],
        expect: () => mk(ListPartitionReassignmentsRequest.create, { timeoutMs: 6500, topics: null }),
      },
    ],
    responses: [
      {
        name: 'one partition',
        value: () =>
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
      },
    ],
  }),

  platCase({
    module: 'admin/alter-partition',
    request: AlterPartitionRequest,
    response: AlterPartitionResponse,
    requests: [
      {
        name: 'one partition',
        args: () => [
          1,
          10n,
          [
            {
              topicId: TOPIC_ID_HEX,
              partitions: [
                {
                  partitionIndex: 0,
                  leaderEpoch: 4,
                  newIsrWithEpochs: [{ brokerId: 1, brokerEpoch: 10n }],
                  leaderRecoveryState: 0,
                  partitionEpoch: 7,
                },
              ],
            },
          ],
        ],
        expect: () =>
          mk(AlterPartitionRequest.create, {
            brokerId: 1,
            brokerEpoch: 10n,
            topics: [
              mk(AlterPartitionRequest.structs.TopicData, {
                topicId: TOPIC_ID,
                partitions: [
                  mk(AlterPartitionRequest.structs.PartitionData, {
                    partitionIndex: 0,
                    leaderEpoch: 4,
                    newIsrWithEpochs: [
                      mk(AlterPartitionRequest.structs.BrokerState, { brokerId: 1, brokerEpoch: 10n }),
                    ],
                    leaderRecoveryState: 0,
                    partitionEpoch: 7,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(AlterPartitionResponse.create, {
            throttleTimeMs: 1,
            errorCode: 0,
            topics: [
              mk(AlterPartitionResponse.structs.TopicData, {
                topicId: TOPIC_ID,
                partitions: [
                  mk(AlterPartitionResponse.structs.PartitionData, {
                    partitionIndex: 0,
                    errorCode: 0,
                    leaderId: 1,
                    leaderEpoch: 4,
                    isr: [1, 2],
                    leaderRecoveryState: 0,
                    partitionEpoch: 8,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/offset-delete',
    request: OffsetDeleteRequest,
    response: OffsetDeleteResponse,
    requests: [
      {
        name: 'two partitions',
        args: () => [
          'group-1',
          [{ name: 'orders', partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] }],
        ],
        expect: () =>
          mk(OffsetDeleteRequest.create, {
            groupId: 'group-1',
            topics: [
              mk(OffsetDeleteRequest.structs.OffsetDeleteRequestTopic, {
                name: 'orders',
                partitions: [
                  mk(OffsetDeleteRequest.structs.OffsetDeleteRequestPartition, { partitionIndex: 0 }),
                  mk(OffsetDeleteRequest.structs.OffsetDeleteRequestPartition, { partitionIndex: 1 }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(OffsetDeleteResponse.create, {
            errorCode: 0,
            throttleTimeMs: 3,
            topics: [
              mk(OffsetDeleteResponse.structs.OffsetDeleteResponseTopic, {
                name: 'orders',
                partitions: [
                  mk(OffsetDeleteResponse.structs.OffsetDeleteResponsePartition, {
                    partitionIndex: 0,
                    errorCode: 0,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-producers',
    request: DescribeProducersRequest,
    response: DescribeProducersResponse,
    requests: [
      {
        name: 'one topic',
        args: () => [[{ name: 'orders', partitionIndexes: [0, 1] }]],
        expect: () =>
          mk(DescribeProducersRequest.create, {
            topics: [
              mk(DescribeProducersRequest.structs.TopicRequest, { name: 'orders', partitionIndexes: [0, 1] }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'one producer',
        value: () =>
          mk(DescribeProducersResponse.create, {
            throttleTimeMs: 2,
            topics: [
              mk(DescribeProducersResponse.structs.TopicResponse, {
                name: 'orders',
                partitions: [
                  mk(DescribeProducersResponse.structs.PartitionResponse, {
                    partitionIndex: 0,
                    errorCode: 0,
                    errorMessage: null,
                    activeProducers: [
                      mk(DescribeProducersResponse.structs.ProducerState, {
                        producerId: 4000n,
                        producerEpoch: 2,
                        lastSequence: 41,
                        lastTimestamp: TS,
                        coordinatorEpoch: 3,
                        currentTxnStartOffset: 100n,
                      }),
                    ],
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-transactions',
    request: DescribeTransactionsRequest,
    response: DescribeTransactionsResponse,
    requests: [
      {
        name: 'two ids',
        args: () => [['txn-1', 'txn-2']],
        expect: () => mk(DescribeTransactionsRequest.create, { transactionalIds: ['txn-1', 'txn-2'] }),
      },
    ],
    responses: [
      {
        name: 'ongoing',
        value: () =>
          mk(DescribeTransactionsResponse.create, {
            throttleTimeMs: 1,
            transactionStates: [
              mk(DescribeTransactionsResponse.structs.TransactionState, {
                errorCode: 0,
                transactionalId: 'txn-1',
                transactionState: 'Ongoing',
                transactionTimeoutMs: 60000,
                transactionStartTimeMs: TS,
                producerId: 4000n,
                producerEpoch: 2,
                topics: [
                  mk(DescribeTransactionsResponse.structs.TopicData, { topic: 'orders', partitions: [0, 1] }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/list-transactions',
    request: ListTransactionsRequest,
    response: ListTransactionsResponse,
    requests: [
      {
        name: 'filters',
        args: () => [['Ongoing'], [4000n, 4001n], 60000n, null],
        expect: (v) =>
          fit(
            ListTransactionsRequest,
            mk(ListTransactionsRequest.create, {
              stateFilters: ['Ongoing'],
              producerIdFilters: [4000n, 4001n],
              durationFilter: 60000n,
            }),
            v,
          ),
      },
    ],
    responses: [
      {
        name: 'one',
        value: () =>
          mk(ListTransactionsResponse.create, {
            throttleTimeMs: 1,
            errorCode: 0,
            unknownStateFilters: ['Bogus'],
            transactionStates: [
              mk(ListTransactionsResponse.structs.TransactionState, {
                transactionalId: 'txn-1',
                producerId: 4000n,
                transactionState: 'Ongoing',
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-topic-partitions',
    request: DescribeTopicPartitionsRequest,
    response: DescribeTopicPartitionsResponse,
    requests: [
      {
        name: 'with cursor',
        args: () => [
          [{ name: 'orders' }, { name: 'payments' }],
          100,
          { topicName: 'orders', partitionIndex: 5 },
        ],
        expect: () =>
          mk(DescribeTopicPartitionsRequest.create, {
            topics: [
              mk(DescribeTopicPartitionsRequest.structs.TopicRequest, { name: 'orders' }),
              mk(DescribeTopicPartitionsRequest.structs.TopicRequest, { name: 'payments' }),
            ],
            responsePartitionLimit: 100,
            cursor: mk(DescribeTopicPartitionsRequest.structs.Cursor, {
              topicName: 'orders',
              partitionIndex: 5,
            }),
          }),
      },
      {
        name: 'no cursor',
        args: () => [[{ name: 'orders' }], 2000],
        expect: () =>
          mk(DescribeTopicPartitionsRequest.create, {
            topics: [mk(DescribeTopicPartitionsRequest.structs.TopicRequest, { name: 'orders' })],
            responsePartitionLimit: 2000,
            cursor: null,
          }),
      },
    ],
    responses: [
      {
        name: 'with next cursor',
        value: () =>
          mk(DescribeTopicPartitionsResponse.create, {
            throttleTimeMs: 2,
            topics: [
              mk(DescribeTopicPartitionsResponse.structs.DescribeTopicPartitionsResponseTopic, {
                errorCode: 0,
                name: 'orders',
                topicId: TOPIC_ID,
                isInternal: false,
                topicAuthorizedOperations: 0x0ff8,
                partitions: [
                  mk(DescribeTopicPartitionsResponse.structs.DescribeTopicPartitionsResponsePartition, {
                    errorCode: 0,
                    partitionIndex: 0,
                    leaderId: 1,
                    leaderEpoch: 4,
                    replicaNodes: [1, 2, 3],
                    isrNodes: [1, 2],
                    eligibleLeaderReplicas: [3],
                    lastKnownElr: [],
                    offlineReplicas: [],
                  }),
                ],
              }),
            ],
            nextCursor: mk(DescribeTopicPartitionsResponse.structs.Cursor, {
              topicName: 'orders',
              partitionIndex: 1,
            }),
          }),
        // platformatic does not read the cursor struct's tag buffer.
        unread: () => 2,
      },
      {
        name: 'last page',
        value: () =>
          mk(DescribeTopicPartitionsResponse.create, {
            throttleTimeMs: 2,
            topics: [],
            nextCursor: null,
          }),
        expect: (v, sent) => {
          const { nextCursor: _absent, ...p } = plain(DescribeTopicPartitionsResponse, sent, v);
          return p;
        },
      },
    ],
  }),

  platCase({
    module: 'admin/describe-quorum',
    request: DescribeQuorumRequest,
    response: DescribeQuorumResponse,
    requests: [
      {
        name: 'metadata log',
        args: () => [[{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }]],
        expect: () =>
          mk(DescribeQuorumRequest.create, {
            topics: [
              mk(DescribeQuorumRequest.structs.TopicData, {
                topicName: '__cluster_metadata',
                partitions: [mk(DescribeQuorumRequest.structs.PartitionData, { partitionIndex: 0 })],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'quorum',
        value: () =>
          mk(DescribeQuorumResponse.create, {
            errorCode: 0,
            errorMessage: null,
            topics: [
              mk(DescribeQuorumResponse.structs.TopicData, {
                topicName: '__cluster_metadata',
                partitions: [
                  mk(DescribeQuorumResponse.structs.PartitionData, {
                    partitionIndex: 0,
                    errorCode: 0,
                    errorMessage: null,
                    leaderId: 1,
                    leaderEpoch: 9,
                    highWatermark: 1234n,
                    currentVoters: [
                      mk(DescribeQuorumResponse.structs.ReplicaState, {
                        replicaId: 1,
                        replicaDirectoryId: TOPIC_ID,
                        logEndOffset: 1234n,
                        lastFetchTimestamp: TS,
                        lastCaughtUpTimestamp: TS,
                      }),
                    ],
                    observers: [],
                  }),
                ],
              }),
            ],
            nodes: [
              mk(DescribeQuorumResponse.structs.Node, {
                nodeId: 1,
                listeners: [
                  mk(DescribeQuorumResponse.structs.Listener, {
                    name: 'CONTROLLER',
                    host: 'c1',
                    port: 65000,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-client-quotas',
    request: DescribeClientQuotasRequest,
    response: DescribeClientQuotasResponse,
    requests: [
      {
        name: 'user',
        args: () => [[{ entityType: 'user', matchType: 0, match: 'alice' }], true],
        expect: () =>
          mk(DescribeClientQuotasRequest.create, {
            strict: true,
            components: [
              mk(DescribeClientQuotasRequest.structs.ComponentData, {
                entityType: 'user',
                matchType: 0,
                match: 'alice',
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'one entry',
        value: () =>
          mk(DescribeClientQuotasResponse.create, {
            throttleTimeMs: 1,
            errorCode: 0,
            errorMessage: null,
            entries: [
              mk(DescribeClientQuotasResponse.structs.EntryData, {
                entity: [
                  mk(DescribeClientQuotasResponse.structs.EntityData, {
                    entityType: 'user',
                    entityName: 'alice',
                  }),
                ],
                values: [
                  mk(DescribeClientQuotasResponse.structs.ValueData, {
                    key: 'producer_byte_rate',
                    value: 1024.5,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/alter-client-quotas',
    request: AlterClientQuotasRequest,
    response: AlterClientQuotasResponse,
    requests: [
      {
        name: 'set and remove',
        args: () => [
          [
            {
              entities: [{ entityType: 'user', entityName: 'alice' }],
              ops: [
                { key: 'producer_byte_rate', value: 1024.5, remove: false },
                { key: 'consumer_byte_rate', value: 0, remove: true },
              ],
            },
          ],
          true,
        ],
        expect: () =>
          mk(AlterClientQuotasRequest.create, {
            validateOnly: true,
            entries: [
              mk(AlterClientQuotasRequest.structs.EntryData, {
                entity: [
                  mk(AlterClientQuotasRequest.structs.EntityData, {
                    entityType: 'user',
                    entityName: 'alice',
                  }),
                ],
                ops: [
                  mk(AlterClientQuotasRequest.structs.OpData, {
                    key: 'producer_byte_rate',
                    value: 1024.5,
                    remove: false,
                  }),
                  mk(AlterClientQuotasRequest.structs.OpData, {
                    key: 'consumer_byte_rate',
                    value: 0,
                    remove: true,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(AlterClientQuotasResponse.create, {
            throttleTimeMs: 1,
            entries: [
              mk(AlterClientQuotasResponse.structs.EntryData, {
                errorCode: 0,
                errorMessage: null,
                entity: [
                  mk(AlterClientQuotasResponse.structs.EntityData, { entityType: 'user', entityName: null }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-user-scram-credentials',
    request: DescribeUserScramCredentialsRequest,
    response: DescribeUserScramCredentialsResponse,
    requests: [
      {
        name: 'two users',
        args: () => [[{ name: 'alice' }, { name: 'bob' }]],
        expect: () =>
          mk(DescribeUserScramCredentialsRequest.create, {
            users: [
              mk(DescribeUserScramCredentialsRequest.structs.UserName, { name: 'alice' }),
              mk(DescribeUserScramCredentialsRequest.structs.UserName, { name: 'bob' }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'one user',
        value: () =>
          mk(DescribeUserScramCredentialsResponse.create, {
            throttleTimeMs: 1,
            errorCode: 0,
            errorMessage: null,
            results: [
              mk(DescribeUserScramCredentialsResponse.structs.DescribeUserScramCredentialsResult, {
                user: 'alice',
                errorCode: 0,
                errorMessage: null,
                credentialInfos: [
                  mk(DescribeUserScramCredentialsResponse.structs.CredentialInfo, {
                    mechanism: 1,
                    iterations: 8192,
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/alter-user-scram-credentials',
    request: AlterUserScramCredentialsRequest,
    response: AlterUserScramCredentialsResponse,
    requests: [
      {
        name: 'one of each',
        args: () => [
          [{ name: 'alice', mechanism: 1 }],
          [
            {
              name: 'bob',
              mechanism: 2,
              iterations: 8192,
              salt: bytes('salt'),
              saltedPassword: bytes('salted'),
            },
          ],
        ],
        expect: () =>
          mk(AlterUserScramCredentialsRequest.create, {
            deletions: [
              mk(AlterUserScramCredentialsRequest.structs.ScramCredentialDeletion, {
                name: 'alice',
                mechanism: 1,
              }),
            ],
            upsertions: [
              mk(AlterUserScramCredentialsRequest.structs.ScramCredentialUpsertion, {
                name: 'bob',
                mechanism: 2,
                iterations: 8192,
                salt: bytes('salt'),
                saltedPassword: bytes('salted'),
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(AlterUserScramCredentialsResponse.create, {
            throttleTimeMs: 1,
            results: [
              mk(AlterUserScramCredentialsResponse.structs.AlterUserScramCredentialsResult, {
                user: 'bob',
                errorCode: 0,
                errorMessage: null,
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/create-delegation-token',
    request: CreateDelegationTokenRequest,
    response: CreateDelegationTokenResponse,
    requests: [
      {
        name: 'for owner',
        args: () => ['User', 'alice', [{ principalType: 'User', principalName: 'bob' }], 86_400_000n],
        expect: () =>
          mk(CreateDelegationTokenRequest.create, {
            ownerPrincipalType: 'User',
            ownerPrincipalName: 'alice',
            renewers: [
              mk(CreateDelegationTokenRequest.structs.CreatableRenewers, {
                principalType: 'User',
                principalName: 'bob',
              }),
            ],
            maxLifetimeMs: 86_400_000n,
          }),
      },
    ],
    responses: [
      {
        name: 'token',
        value: () =>
          mk(CreateDelegationTokenResponse.create, {
            errorCode: 0,
            principalType: 'User',
            principalName: 'alice',
            tokenRequesterPrincipalType: 'User',
            tokenRequesterPrincipalName: 'admin',
            issueTimestampMs: TS,
            expiryTimestampMs: TS + 1000n,
            maxTimestampMs: TS + 2000n,
            tokenId: 'token-1',
            hmac: bytes('hmac'),
            throttleTimeMs: 1,
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/describe-delegation-token',
    request: DescribeDelegationTokenRequest,
    response: DescribeDelegationTokenResponse,
    requests: [
      {
        name: 'one owner',
        args: () => [[{ principalType: 'User', principalName: 'alice' }]],
        expect: () =>
          mk(DescribeDelegationTokenRequest.create, {
            owners: [
              mk(DescribeDelegationTokenRequest.structs.DescribeDelegationTokenOwner, {
                principalType: 'User',
                principalName: 'alice',
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'one token',
        value: () =>
          mk(DescribeDelegationTokenResponse.create, {
            errorCode: 0,
            throttleTimeMs: 1,
            tokens: [
              mk(DescribeDelegationTokenResponse.structs.DescribedDelegationToken, {
                principalType: 'User',
                principalName: 'alice',
                tokenRequesterPrincipalType: 'User',
                tokenRequesterPrincipalName: 'admin',
                issueTimestamp: TS,
                expiryTimestamp: TS + 1000n,
                maxTimestamp: TS + 2000n,
                tokenId: 'token-1',
                hmac: bytes('hmac'),
                renewers: [
                  mk(DescribeDelegationTokenResponse.structs.DescribedDelegationTokenRenewer, {
                    principalType: 'User',
                    principalName: 'bob',
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/renew-delegation-token',
    request: RenewDelegationTokenRequest,
    response: RenewDelegationTokenResponse,
    requests: [
      {
        name: 'renew',
        args: () => [bytes('hmac'), 3_600_000n],
        expect: () =>
          mk(RenewDelegationTokenRequest.create, { hmac: bytes('hmac'), renewPeriodMs: 3_600_000n }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(RenewDelegationTokenResponse.create, { errorCode: 0, expiryTimestampMs: TS, throttleTimeMs: 1 }),
      },
    ],
  }),

  platCase({
    module: 'admin/expire-delegation-token',
    request: ExpireDelegationTokenRequest,
    response: ExpireDelegationTokenResponse,
    requests: [
      {
        name: 'expire',
        args: () => [bytes('hmac'), -1n],
        expect: () =>
          mk(ExpireDelegationTokenRequest.create, { hmac: bytes('hmac'), expiryTimePeriodMs: -1n }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(ExpireDelegationTokenResponse.create, {
            errorCode: 0,
            expiryTimestampMs: TS,
            throttleTimeMs: 1,
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/envelope',
    request: EnvelopeRequest,
    response: EnvelopeResponse,
    requests: [
      {
        name: 'forwarded',
        args: () => [bytes('inner-request'), bytes('principal'), Buffer.from([10, 0, 0, 1])],
        expect: () =>
          mk(EnvelopeRequest.create, {
            requestData: bytes('inner-request'),
            requestPrincipal: bytes('principal'),
            clientHostAddress: Buffer.from([10, 0, 0, 1]),
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () => mk(EnvelopeResponse.create, { responseData: bytes('inner-response'), errorCode: 0 }),
      },
    ],
  }),

  platCase({
    module: 'admin/unregister-broker',
    request: UnregisterBrokerRequest,
    response: UnregisterBrokerResponse,
    requests: [
      {
        name: 'broker 3',
        args: () => [3],
        expect: () => mk(UnregisterBrokerRequest.create, { brokerId: 3 }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(UnregisterBrokerResponse.create, { throttleTimeMs: 1, errorCode: 0, errorMessage: null }),
      },
    ],
  }),

  platCase({
    module: 'admin/update-features',
    request: UpdateFeaturesRequest,
    response: UpdateFeaturesResponse,
    requests: [
      {
        name: 'upgrade',
        args: () => [5000, [{ feature: 'metadata.version', maxVersionLevel: 20, upgradeType: 1 }], true],
        expect: () =>
          mk(UpdateFeaturesRequest.create, {
            timeoutMs: 5000,
            validateOnly: true,
            featureUpdates: [
              mk(UpdateFeaturesRequest.structs.FeatureUpdateKey, {
                feature: 'metadata.version',
                maxVersionLevel: 20,
                upgradeType: 1,
              }),
            ],
          }),
      },
    ],
    responses: [
      {
        name: 'ok',
        value: () =>
          mk(UpdateFeaturesResponse.create, {
            throttleTimeMs: 1,
            errorCode: 0,
            errorMessage: null,
            results: [
              mk(UpdateFeaturesResponse.structs.UpdatableFeatureResult, {
                feature: 'metadata.version',
                errorCode: 0,
                errorMessage: null,
              }),
            ],
          }),
      },
    ],
  }),

  platCase({
    module: 'admin/consumer-group-describe',
    request: ConsumerGroupDescribeRequest,
    response: ConsumerGroupDescribeResponse,
    requests: [
      {
        name: 'one group',
        args: () => [['group-1'], true],
        expect: () =>
          mk(ConsumerGroupDescribeRequest.create, {
            groupIds: ['group-1'],
            includeAuthorizedOperations: true,
          }),
      },
    ],
    responses: [
      {
        name: 'one member',
        value: () =>
          mk(ConsumerGroupDescribeResponse.create, {
            throttleTimeMs: 1,
            groups: [
              mk(ConsumerGroupDescribeResponse.structs.DescribedGroup, {
                errorCode: 0,
                errorMessage: null,
                groupId: 'group-1',
                groupState: 'Stable',
                groupEpoch: 5,
                assignmentEpoch: 5,
                assignorName: 'uniform',
                authorizedOperations: 0x0ff8,
                members: [
                  mk(ConsumerGroupDescribeResponse.structs.Member, {
                    memberId: 'member-1',
                    instanceId: null,
                    rackId: 'rack-a',
                    memberEpoch: 5,
                    clientId: 'client-1',
                    clientHost: '/10.0.0.1',
                    subscribedTopicNames: ['orders'],
                    subscribedTopicRegex: null,
                    assignment: mk(ConsumerGroupDescribeResponse.structs.Assignment, {
                      topicPartitions: [
                        mk(ConsumerGroupDescribeResponse.structs.TopicPartitions, {
                          topicId: TOPIC_ID,
                          topicName: 'orders',
                          partitions: [0, 1],
                        }),
                      ],
                    }),
                    targetAssignment: mk(ConsumerGroupDescribeResponse.structs.Assignment, {
                      topicPartitions: [],
                    }),
                  }),
                ],
              }),
            ],
          }),
      },
    ],
  }),
];

// ---------------------------------------------------------------------------------------------

const CLIENT_ID = 'samsa-interop';

/** Runs `check`; for a KNOWN quirk, requires the described failure and reports the test as skipped. */
async function run(t: TestContext, key: string, check: () => void | Promise<void>): Promise<void> {
  const quirk = KNOWN[key];
  if (quirk === undefined) return check();
  try {
    await check();
  } catch (e) {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    assert.match(message, quirk.fails, `${key} failed differently than its KNOWN entry says`);
    t.skip(`known platformatic quirk: ${quirk.reason}`);
    return;
  }
  assert.fail(`${key} is listed in KNOWN but passes now: remove the entry`);
}

interface Loaded {
  file: string;
  version: number;
  mod: PlatModule;
}

const files = platFiles();
const loaded: Loaded[] = await Promise.all(
  files.map(async (file) => {
    const mod = await loadPlat(file);
    return { file, version: mod.api.version, mod };
  }),
);

function modulesOf(c: PlatCase<unknown, unknown>): Loaded[] {
  return loaded
    .filter((l) => l.file.replace(/-v\d+$/, '') === c.module && UNCOVERED[l.file] === undefined)
    .sort((a, b) => a.version - b.version);
}

void describe(`@platformatic/kafka ${platformaticVersion} interop`, () => {
  void it('covers every per-API module (or says why not)', () => {
    const covered = new Set(cases.flatMap((c) => modulesOf(c).map((l) => l.file)));
    for (const l of loaded) {
      if (UNCOVERED[l.file] !== undefined) {
        const api = apiByKey(l.mod.api.key);
        assert.ok(
          api === undefined || l.version > api.maxVersion,
          `${l.file} is in UNCOVERED but Samsa covers it`,
        );
        continue;
      }
      assert.ok(covered.has(l.file), `${l.file} has no case`);
      const declared = Number(/-v(\d+)$/.exec(l.file)![1]);
      assert.equal(l.version, MISNAMED[l.file] ?? declared, `${l.file} declares version ${l.version}`);
    }
    for (const key of Object.keys(KNOWN)) {
      const file = key.split(' ')[0]!;
      assert.ok(files.includes(file), `KNOWN entry for a missing module: ${key}`);
    }
  });

  for (const c of cases) {
    void describe(c.module, () => {
      const mods = modulesOf(c);
      void it('has modules', () => assert.ok(mods.length > 0, `no module files for ${c.module}`));

      for (const { file, version: v, mod } of mods) {
        const flexible = c.request.flexibleMinVersion !== null && v >= c.request.flexibleMinVersion;

        for (const s of c.requests) {
          if (s.versions !== undefined && !s.versions.includes(v)) continue;

          const reqTitle = `request (${s.name})`;
          void it(`v${v} ${reqTitle}: platformatic encodes, Samsa decodes`, async (t) => {
            await run(t, `${file} ${reqTitle}`, () => {
              const sent = capture(mod, s.args(v));
              assert.equal(sent.apiKey, c.request.apiKey, 'api key');
              assert.equal(sent.apiVersion, v, 'api version');
              const body = sent.payload.buffer;
              const decoded = decodeExact(c.request, body, v, `${file}`);
              assertSameBytes(encodeMessage(c.request, decoded, v), body, `${file} Samsa re-encode`);
              const compared = c.checkRequest ? c.checkRequest(decoded, v, s.name) : decoded;
              assert.deepStrictEqual(compared, s.expect(v));
            });
          });

          const frameTitle = `request frame (${s.name})`;
          void it(`v${v} ${frameTitle}: platformatic header + body, Samsa decodeRequest`, async (t) => {
            await run(t, `${file} ${frameTitle}`, () => {
              const sent = capture(mod, s.args(v));
              const apiKey = c.request.apiKey!;
              assert.equal(
                sent.requestHeaderTaggedFields,
                requestHeaderVersion(apiKey, v) === 2,
                `request header v${requestHeaderVersion(apiKey, v)} expected`,
              );
              assert.equal(
                sent.responseHeaderTaggedFields,
                responseHeaderVersion(apiKey, v) === 1,
                `response header v${responseHeaderVersion(apiKey, v)} expected`,
              );
              const correlationId = 3000 + v;
              const frame = platRequestFrame(sent, correlationId, CLIENT_ID);
              assert.equal(frame.readInt32BE(0), frame.length - 4, 'size prefix');
              const r = decodeRequest(frame.subarray(4));
              if (!r.ok) assert.fail(`decodeRequest: ${r.error.message}`);
              assert.equal(r.end, frame.length - 4, 'whole frame consumed');
              assert.deepStrictEqual(
                { ...r.value.header, unknownTaggedFields: undefined },
                {
                  requestApiKey: apiKey,
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
              assertSameBytes(samsaFrame, frame, `${file} Samsa request frame`);
            });
          });
        }

        for (const rs of c.responses) {
          if (rs.versions !== undefined && !rs.versions.includes(v)) continue;
          const title = c.responses.length === 1 ? 'response' : `response (${rs.name})`;
          void it(`v${v} ${title}: Samsa encodes, platformatic parses`, async (t) => {
            await run(t, `${file} ${title}`, () => {
              const sent = capture(mod, c.requests[0]!.args(v));
              const value = fit(c.response, rs.value(v), v);
              const correlationId = 4000 + v;
              const frame = concat(
                encodeResponseFrame(c.response, value, {
                  apiKey: c.request.apiKey!,
                  apiVersion: v,
                  correlationId,
                }),
              );
              const out = platParseResponse(sent, frame);
              assert.equal(out.correlationId, correlationId, 'correlation id');
              const parsed = out.parsed as Obj;
              const actual = c.normalizeResponse ? c.normalizeResponse(parsed, v) : parsed;
              const expected = rs.expect ? rs.expect(v, value) : plain(c.response, value, v);
              assert.deepStrictEqual(actual, expected);
              const unread = rs.unread ? rs.unread(v, value) : flexible ? 1 : 0;
              assert.equal(
                out.unread.length,
                unread,
                `parser left ${out.unread.length} bytes unread (${out.unread.toString('hex')})`,
              );
              if (unread > 0)
                assert.equal(
                  out.unread[out.unread.length - 1],
                  0,
                  'the last unread byte is the final empty tag buffer',
                );
            });
          });
        }
      }
    });
  }
});
