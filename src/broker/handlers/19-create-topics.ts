/**
 * CreateTopics (key 19), versions 0-7 (flexible from 5). Topics go to the controller, which
 * validates them (name, existence, '.'/'_' collisions, partitions, replication factor, manual
 * assignments, configs) and commits them; the answer leaves once the new partitions are hosted,
 * so `timeoutMs` is accepted and there is nothing left to wait for. `validateOnly` (v1+)
 * validates without creating. v5+ results carry the partition count, replication factor and
 * every topic config with its source (KIP-525); v7 the topic id.
 *
 * As in Kafka (ControllerApis.createTopics): a name given more than once in one request gets a
 * single INVALID_REQUEST "Duplicate topic name." result and none of its entries is created;
 * `__cluster_metadata` is refused with INVALID_REQUEST; a config with a null value is
 * INVALID_CONFIG; a request adding more than 10,000 partitions in all is refused whole, every
 * entry answered POLICY_VIOLATION (Kafka's MAX_PARTITIONS_PER_BATCH).
 * Numbers of -1 mean the broker defaults at every version: Kafka's broker accepts them whatever
 * the version (only the Java client refuses to send them below v4), and kafkajs, which speaks
 * v0-v3, sends -1 when the caller gives no value.
 * Deviations: results come in request order (Kafka appends duplicates last); no quotas, so never
 * THROTTLING_QUOTA_EXCEEDED (v6+) and a throttle time of 0; no ACLs, so never
 * TOPIC_AUTHORIZATION_FAILED and configs are always returned.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { CreateTopicsRequest } from '../../protocol/generated/message/CreateTopicsRequest.js';
import type { CreateTopicsResponse } from '../../protocol/generated/message/CreateTopicsResponse.js';
import { topicNameProblem, type NewTopic, type TopicCreation } from '../../metadata/controller.js';
import { METADATA_TOPIC } from '../../metadata/metadata-log.js';
import { logConfigEntries, type LogConfig } from '../../storage/log-config.js';
import { defineHandler } from './types.js';

type TopicResult = CreateTopicsResponse.CreatableTopicResult;

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka's MAX_PARTITIONS_PER_BATCH: the most partitions one CreateTopics (or CreatePartitions) request may add. */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;
export const TOO_MANY_PARTITIONS_MESSAGE = 'Excessively large number of partitions per request.';

function failed(name: string, errorCode: number, errorMessage: string): TopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode,
    errorMessage,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
    unknownTaggedFields: undefined,
  };
}

/** Every topic config with its effective value, in name order (Kafka's KIP-525 answer). */
function configResults(config: LogConfig): CreateTopicsResponse.CreatableTopicConfigs[] {
  return logConfigEntries(config)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => ({
      name: e.name,
      value: e.value,
      readOnly: false,
      configSource: e.sourceId,
      isSensitive: false,
      unknownTaggedFields: undefined,
    }));
}

function fromController(r: TopicCreation): TopicResult {
  if (r.errorCode !== ErrorCode.NONE) return failed(r.name, r.errorCode, r.errorMessage ?? '');
  return {
    name: r.name,
    topicId: r.topicId,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: r.numPartitions,
    replicationFactor: r.replicationFactor,
    configs: r.config === null ? [] : configResults(r.config),
    unknownTaggedFields: undefined,
  };
}

export const createTopicsHandler = defineHandler<CreateTopicsRequest, CreateTopicsResponse>({
  api: apis.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, req) {
    const b = ctx.broker;
    const image = b.image();
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);

    // Kafka's validateTotalNumberOfPartitions: past the cap, the whole request is refused.
    let total = 0;
    for (const t of req.topics) {
      if (seen.get(t.name)! > 1 || t.name === METADATA_TOPIC) continue;
      if (t.assignments.length > 0) total += t.assignments.length;
      else if (t.numPartitions === -1) total += b.config.numPartitions;
      else if (t.numPartitions > 0) total += t.numPartitions;
    }
    if (total > MAX_PARTITIONS_PER_REQUEST) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) =>
          failed(t.name, ErrorCode.POLICY_VIOLATION, TOO_MANY_PARTITIONS_MESSAGE),
        ),
        unknownTaggedFields: undefined,
      };
    }

    // Each name answered once, at its first position; refused entries never reach the controller.
    const results = new Map<string, TopicResult | null>();
    const toCreate: NewTopic[] = [];
    for (const t of req.topics) {
      if (results.has(t.name)) continue;
      if (seen.get(t.name)! > 1) {
        results.set(t.name, failed(t.name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
        continue;
      }
      if (t.name === METADATA_TOPIC) {
        results.set(
          t.name,
          failed(
            t.name,
            ErrorCode.INVALID_REQUEST,
            `Creation of internal topic ${METADATA_TOPIC} is prohibited.`,
          ),
        );
        continue;
      }
      const nullConfigs = t.configs.filter((c) => c.value === null).map((c) => c.name);
      // Kafka checks names and existence before configs; leave those to the controller.
      if (nullConfigs.length > 0 && topicNameProblem(t.name) === null && !image.topicsByName.has(t.name)) {
        results.set(
          t.name,
          failed(
            t.name,
            ErrorCode.INVALID_CONFIG,
            `Null value not supported for topic configs: ${nullConfigs.join(',')}`,
          ),
        );
        continue;
      }
      results.set(t.name, null);
      toCreate.push({
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: a.brokerIds })),
        configs: t.configs.map((c) => ({ name: c.name, value: c.value })),
      });
    }

    if (toCreate.length > 0) {
      const validateOnly = ctx.apiVersion >= 1 && req.validateOnly;
      for (const r of await b.controller.createTopics(toCreate, validateOnly)) {
        results.set(r.name, fromController(r));
        if (r.errorCode === ErrorCode.NONE && !validateOnly) {
          b.log(`created topic ${r.name} with ${r.numPartitions} partition(s)`);
        }
      }
    }

    return {
      throttleTimeMs: 0,
      topics: [...results.entries()].map(
        ([name, r]) => r ?? failed(name, ErrorCode.UNKNOWN_SERVER_ERROR, 'no result from the controller'),
      ),
      unknownTaggedFields: undefined,
    };
  },
});
