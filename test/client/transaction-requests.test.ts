/**
 * A transactional producer's requests, against a scripted broker that is leader, transaction
 * coordinator and group coordinator at once: InitProducerId sent again to a moved (looked up
 * again), loading or busy coordinator; partitions of one sendBatch joining in one
 * AddPartitionsToTxn before their first batch; transactional batches with the producer's id and
 * epoch; AddOffsetsToTxn then TxnOffsetCommit to the group's coordinator with the group's
 * generation, member and instance; EndTxn; no EndTxn for an empty transaction.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ApiKey, apis } from '../../src/protocol/generated/api-keys.js';
import type { AddOffsetsToTxnRequest } from '../../src/protocol/generated/message/AddOffsetsToTxnRequest.js';
import type { AddPartitionsToTxnRequest } from '../../src/protocol/generated/message/AddPartitionsToTxnRequest.js';
import type { EndTxnRequest } from '../../src/protocol/generated/message/EndTxnRequest.js';
import type { FindCoordinatorRequest } from '../../src/protocol/generated/message/FindCoordinatorRequest.js';
import type { InitProducerIdRequest } from '../../src/protocol/generated/message/InitProducerIdRequest.js';
import type { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import type { TxnOffsetCommitRequest } from '../../src/protocol/generated/message/TxnOffsetCommitRequest.js';
import type { MessageCodec } from '../../src/protocol/primitives/codec.js';
import { BatchField, TRANSACTIONAL_BIT } from '../../src/protocol/records/batch-view.js';
import { apiVersionsBody, respond, ScriptedServer, type Received } from './support.js';

/** Answers the requests of a transactional producer; `script` may answer differently first. */
async function scriptedCoordinator(
  script: (r: Received, apiKey: number) => unknown,
): Promise<ScriptedServer> {
  const server = await ScriptedServer.start();
  let nextOffset = 0n;
  server.onRequest = (r) => {
    const key = r.header.requestApiKey;
    const scripted = script(r, key);
    const send = <T>(codec: { response: MessageCodec<T> }, body: T): void =>
      void r.socket.write(respond(r, codec.response, body));
    if (scripted !== undefined) {
      const api = Object.values(apis).find((a) => a.apiKey === key)!;
      r.socket.write(respond(r, api.response as MessageCodec<unknown>, scripted));
      return;
    }
    switch (key) {
      case ApiKey.ApiVersions:
        send(
          apis.ApiVersions,
          apiVersionsBody(ErrorCode.NONE, [
            [ApiKey.ApiVersions, 0, 3],
            [ApiKey.Metadata, 0, 12],
            [ApiKey.Produce, 3, 9],
            [ApiKey.FindCoordinator, 0, 4],
            [ApiKey.InitProducerId, 0, 4],
            [ApiKey.AddPartitionsToTxn, 0, 3],
            [ApiKey.AddOffsetsToTxn, 0, 3],
            [ApiKey.EndTxn, 0, 3],
            [ApiKey.TxnOffsetCommit, 0, 3],
          ]),
        );
        return;
      case ApiKey.Metadata:
        send(apis.Metadata, {
          ...apis.Metadata.response.create(),
          brokers: [{ nodeId: 0, host: '127.0.0.1', port: server.port, rack: null }],
          controllerId: 0,
          topics: [
            {
              ...apis.Metadata.response.structs.MetadataResponseTopic(),
              name: 't',
              partitions: [0, 1, 2].map((partitionIndex) => ({
                ...apis.Metadata.response.structs.MetadataResponsePartition(),
                partitionIndex,
                leaderId: 0,
                replicaNodes: [0],
                isrNodes: [0],
              })),
            },
          ],
        });
        return;
      case ApiKey.FindCoordinator: {
        const keys = (r.body as FindCoordinatorRequest).coordinatorKeys;
        send(apis.FindCoordinator, {
          ...apis.FindCoordinator.response.create(),
          coordinators: keys.map((k) => ({
            ...apis.FindCoordinator.response.structs.Coordinator(),
            key: k,
            nodeId: 0,
            host: '127.0.0.1',
            port: server.port,
          })),
        });
        return;
      }
      case ApiKey.InitProducerId:
        send(apis.InitProducerId, {
          ...apis.InitProducerId.response.create(),
          producerId: 77n,
          producerEpoch: 3,
        });
        return;
      case ApiKey.AddPartitionsToTxn: {
        const req = r.body as AddPartitionsToTxnRequest;
        send(apis.AddPartitionsToTxn, {
          ...apis.AddPartitionsToTxn.response.create(),
          resultsByTopicV3AndBelow: req.v3AndBelowTopics.map((t) => ({
            name: t.name,
            resultsByPartition: t.partitions.map((partitionIndex) => ({
              partitionIndex,
              partitionErrorCode: 0,
            })),
          })),
        });
        return;
      }
      case ApiKey.AddOffsetsToTxn:
        send(apis.AddOffsetsToTxn, apis.AddOffsetsToTxn.response.create());
        return;
      case ApiKey.TxnOffsetCommit: {
        const req = r.body as TxnOffsetCommitRequest;
        send(apis.TxnOffsetCommit, {
          ...apis.TxnOffsetCommit.response.create(),
          topics: req.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: 0 })),
          })),
        });
        return;
      }
      case ApiKey.EndTxn:
        send(apis.EndTxn, apis.EndTxn.response.create());
        return;
      case ApiKey.Produce: {
        const req = r.body as ProduceRequest;
        send(apis.Produce, {
          ...apis.Produce.response.create(),
          responses: req.topicData.map((t) => ({
            name: t.name,
            partitionResponses: t.partitionData.map((p) => {
              const baseOffset = nextOffset;
              nextOffset += BigInt(p.records!.readInt32BE(BatchField.recordCount));
              return {
                ...apis.Produce.response.structs.PartitionProduceResponse(),
                index: p.index,
                baseOffset,
              };
            }),
          })),
        });
        return;
      }
    }
  };
  return server;
}

void describe('transactional producer against a scripted coordinator', { timeout: 30_000 }, () => {
  void test('retries a moved, loading and busy coordinator; one AddPartitionsToTxn for a sendBatch; offsets to the group coordinator; EndTxn', async () => {
    const initAnswers = [
      ErrorCode.NOT_COORDINATOR,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
      ErrorCode.CONCURRENT_TRANSACTIONS,
    ];
    const server = await scriptedCoordinator((r, key) => {
      if (key !== ApiKey.InitProducerId) return undefined;
      const code = initAnswers.shift();
      return code === undefined ? undefined : { ...apis.InitProducerId.response.create(), errorCode: code };
    });
    const p = new Producer({
      bootstrapServers: `127.0.0.1:${server.port}`,
      transactionalId: 'scripted-tx',
      transactionTimeoutMs: 12_345,
      retryBackoffMs: 5,
      lingerMs: 0,
    });
    const of = (key: number): Received[] => server.requests.filter((r) => r.header.requestApiKey === key);
    try {
      await p.initTransactions();
      const inits = of(ApiKey.InitProducerId).map((r) => r.body as InitProducerIdRequest);
      assert.equal(inits.length, 4, 'InitProducerId sent until the coordinator answered it');
      assert.deepEqual(
        inits.map((b) => [b.transactionalId, b.transactionTimeoutMs, b.producerId]),
        inits.map(() => ['scripted-tx', 12_345, -1n]),
      );
      const finds = of(ApiKey.FindCoordinator).map((r) => r.body as FindCoordinatorRequest);
      assert.equal(finds.length, 2, 'NOT_COORDINATOR made the producer look the coordinator up again');
      assert.deepEqual([finds[0]!.keyType, finds[0]!.coordinatorKeys], [1, ['scripted-tx']]);
      assert.deepEqual(p.producerIdentity, { producerId: 77n, producerEpoch: 3 });

      p.beginTransaction();
      await p.sendBatch([0, 1, 2, 0].map((partition, i) => ({ topic: 't', partition, value: `v${i}` })));
      const adds = of(ApiKey.AddPartitionsToTxn).map((r) => r.body as AddPartitionsToTxnRequest);
      assert.equal(adds.length, 1, 'the three partitions joined in one request');
      assert.deepEqual(
        [adds[0]!.v3AndBelowTransactionalId, adds[0]!.v3AndBelowProducerId, adds[0]!.v3AndBelowProducerEpoch],
        ['scripted-tx', 77n, 3],
      );
      assert.deepEqual(
        adds[0]!.v3AndBelowTopics.map((t) => [t.name, [...t.partitions].sort()]),
        [['t', [0, 1, 2]]],
      );
      const produceIndex = server.requests.findIndex((r) => r.header.requestApiKey === ApiKey.Produce);
      const addIndex = server.requests.findIndex((r) => r.header.requestApiKey === ApiKey.AddPartitionsToTxn);
      assert.ok(addIndex < produceIndex, 'the partitions joined before their first batch was sent');
      for (const r of of(ApiKey.Produce)) {
        const req = r.body as ProduceRequest;
        assert.equal(req.transactionalId, 'scripted-tx');
        for (const t of req.topicData) {
          for (const part of t.partitionData) {
            const b = part.records!;
            assert.equal(b.readBigInt64BE(BatchField.producerId), 77n);
            assert.equal(b.readInt16BE(BatchField.producerEpoch), 3);
            assert.ok(
              (b.readUInt16BE(BatchField.attributes) & TRANSACTIONAL_BIT) !== 0,
              'a transactional batch',
            );
          }
        }
      }

      await p.sendOffsetsToTransaction([{ topic: 'in', partition: 4, offset: 40n, metadata: 'meta' }], {
        groupId: 'g1',
        generationId: 9,
        memberId: 'member-1',
        groupInstanceId: 'static-1',
      });
      const [addOffsets] = of(ApiKey.AddOffsetsToTxn).map((r) => r.body as AddOffsetsToTxnRequest);
      assert.deepEqual(
        [addOffsets?.transactionalId, addOffsets?.producerId, addOffsets?.producerEpoch, addOffsets?.groupId],
        ['scripted-tx', 77n, 3, 'g1'],
      );
      const [commit] = of(ApiKey.TxnOffsetCommit).map((r) => r.body as TxnOffsetCommitRequest);
      assert.deepEqual(
        [
          commit?.groupId,
          commit?.generationId,
          commit?.memberId,
          commit?.groupInstanceId,
          commit?.producerEpoch,
        ],
        ['g1', 9, 'member-1', 'static-1', 3],
      );
      assert.deepEqual(
        commit?.topics.map((t) => [
          t.name,
          t.partitions.map((x) => [x.partitionIndex, x.committedOffset, x.committedMetadata]),
        ]),
        [['in', [[4, 40n, 'meta']]]],
      );
      const groupFind = of(ApiKey.FindCoordinator)
        .map((r) => r.body as FindCoordinatorRequest)
        .at(-1);
      assert.deepEqual(
        [groupFind?.keyType, groupFind?.coordinatorKeys],
        [0, ['g1']],
        'the group coordinator was found',
      );

      await p.commitTransaction();
      const ends = of(ApiKey.EndTxn).map((r) => r.body as EndTxnRequest);
      assert.deepEqual(
        ends.map((e) => [e.transactionalId, e.producerId, e.producerEpoch, e.committed]),
        [['scripted-tx', 77n, 3, true]],
      );
      // A transaction with nothing in it ends without the coordinator.
      p.beginTransaction();
      await p.abortTransaction();
      assert.equal(of(ApiKey.EndTxn).length, 1, 'no EndTxn for an empty transaction');
    } finally {
      await p.close({ timeoutMs: 1000 });
      await server.stop();
    }
  });
});
