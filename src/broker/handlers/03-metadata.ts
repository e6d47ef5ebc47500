/**
 * Metadata (key 3), versions 0-12. Brokers, controller, topics with ids and partitions, from
 * the metadata image. Unknown topics are created when the request allows it (v4+, always
 * before) and auto.create.topics.enable is on, with the broker's default partitions and
 * replication factor, as Kafka does. Authorized operations are not tracked (no ACLs): -2147483648.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import { MetadataRequest } from '../../protocol/generated/message/MetadataRequest.js';
import { MetadataResponse } from '../../protocol/generated/message/MetadataResponse.js';
import { topicNameProblem } from '../../metadata/controller.js';
import type { TopicImage } from '../../metadata/image.js';
import { defineHandler, type RequestContext } from './types.js';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** Topics whose names start with "__" are Kafka's internal topics (offsets, transactions). */
export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets' || name === '__transaction_state';
}

function topicResponse(t: TopicImage): MetadataResponse.MetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: isInternalTopic(t.name),
    partitions: [...t.partitions.values()]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex: p.partition,
        leaderId: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: [...p.replicas],
        isrNodes: [...p.isr],
        offlineReplicas: [],
        unknownTaggedFields: undefined,
      })),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    unknownTaggedFields: undefined,
  };
}

function missing(
  name: string | null,
  topicId: string,
  errorCode: number,
): MetadataResponse.MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    unknownTaggedFields: undefined,
  };
}

async function autoCreate(ctx: RequestContext, names: string[]): Promise<Map<string, number>> {
  const results = await ctx.broker.controller.createTopics(
    names.map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] })),
    false,
  );
  const errors = new Map<string, number>();
  for (const r of results) {
    if (r.errorCode === ErrorCode.NONE) {
      ctx.broker.log(`auto-created topic ${r.name} with ${r.numPartitions} partition(s)`);
      // Kafka answers LEADER_NOT_AVAILABLE while a new topic's leaders are elected; here they already are.
    } else if (r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) errors.set(r.name, r.errorCode);
  }
  return errors;
}

export const metadataHandler = defineHandler<MetadataRequest, MetadataResponse>({
  api: apis.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(ctx, req) {
    const b = ctx.broker;
    let image = b.image();
    const topics: MetadataResponse.MetadataResponseTopic[] = [];
    // v0 sends an empty list for "all topics"; v1+ sends null.
    const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
    if (all) {
      for (const t of image.topicsByName.values()) topics.push(topicResponse(t));
    } else {
      const allowCreate =
        (ctx.apiVersion < 4 || req.allowAutoTopicCreation) && b.config.autoCreateTopicsEnable;
      const toCreate = req
        .topics!.filter(
          (t) => t.name !== null && !image.topicsByName.has(t.name) && topicNameProblem(t.name) === null,
        )
        .map((t) => t.name!);
      let createErrors = new Map<string, number>();
      if (allowCreate && toCreate.length > 0) {
        createErrors = await autoCreate(ctx, [...new Set(toCreate)]);
        image = b.image();
      }
      for (const t of req.topics!) {
        if (t.name === null) {
          const byId = image.topicsById.get(t.topicId);
          topics.push(byId ? topicResponse(byId) : missing(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID));
          continue;
        }
        const found = image.topicsByName.get(t.name);
        if (found !== undefined) topics.push(topicResponse(found));
        else if (topicNameProblem(t.name) !== null)
          topics.push(missing(t.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION));
        else
          topics.push(
            missing(t.name, ZERO_UUID, createErrors.get(t.name) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
          );
      }
    }
    const brokers = [...image.brokers.values()]
      .filter((br) => !br.fenced)
      .map((br) => {
        const ep = br.brokerId === b.nodeId ? b.advertised : (br.endpoints[0] ?? { host: '', port: 0 });
        return {
          nodeId: br.brokerId,
          host: ep.host,
          port: ep.port,
          rack: br.rack,
          unknownTaggedFields: undefined,
        };
      });
    return {
      throttleTimeMs: 0,
      brokers,
      clusterId: b.clusterId,
      controllerId: b.nodeId,
      topics,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      unknownTaggedFields: undefined,
    };
  },
});
