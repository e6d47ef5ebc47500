/**
 * AlterConfigs (key 33), versions 0-2 — the legacy, non-incremental API.
 *
 * TOPIC resources: the configs given become the topic's whole set of overrides; every key not
 * given reverts to its default (Kafka's semantics), validated as CreateTopics validates them
 * (unknown key or bad value → INVALID_CONFIG with a message naming the key). With validateOnly
 * nothing is written. Unknown topic → UNKNOWN_TOPIC_OR_PARTITION; illegal name →
 * INVALID_TOPIC_EXCEPTION. Changes go through the controller into the metadata log, so they
 * survive a restart, and the replica manager hands them to the open logs before the response is
 * sent (a produce right after sees the new max.message.bytes).
 * Request checks as Kafka's ConfigAdminManager: a resource named twice → INVALID_REQUEST for
 * both; a key given twice or a null value → INVALID_REQUEST.
 * BROKER resources: the name must be this node's id or '' (else INVALID_REQUEST, as Kafka).
 * Samsa has no dynamic broker configs yet, so any key is refused the way Kafka refuses a
 * read-only broker key: INVALID_REQUEST "Cannot update these configs dynamically: Set(…)". An
 * empty set (clear all dynamic configs) succeeds, there being none.
 * Other resource types (BROKER_LOGGER included: legacy AlterConfigs never supported it) →
 * INVALID_REQUEST "Unknown resource type N", as Kafka.
 * Deviation: CLIENT_METRICS and GROUP resources, which Kafka 3.7+ accepts, are refused the same
 * way (Samsa has neither client metrics nor group configs).
 */
import { ConfigResourceType } from '../../metadata/image.js';
import { topicNameProblem, type ApiError } from '../../metadata/controller.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { AlterConfigsRequest } from '../../protocol/generated/message/AlterConfigsRequest.js';
import type { AlterConfigsResponse } from '../../protocol/generated/message/AlterConfigsResponse.js';
import type { BrokerServices } from '../services.js';
import { brokerIdProblem } from './32-describe-configs.js';
import { defineHandler } from './types.js';

export const NO_ERROR: ApiError = { errorCode: ErrorCode.NONE, errorMessage: null };

export function apiError(errorCode: number, errorMessage: string): ApiError {
  return { errorCode, errorMessage };
}

const queues = new WeakMap<BrokerServices, Promise<unknown>>();

/**
 * Runs config changes made through this broker one at a time, so an incremental change's
 * read-modify-write of a topic's overrides cannot interleave with another change.
 */
export function serializeConfigChange<T>(broker: BrokerServices, op: () => Promise<T>): Promise<T> {
  const run = (queues.get(broker) ?? Promise.resolve()).then(op);
  queues.set(
    broker,
    run.catch(() => undefined),
  );
  return run;
}

/** Marks every resource named more than once (by type and name), as Kafka does. */
export function duplicateResources(
  resources: readonly { resourceType: number; resourceName: string }[],
): Set<number> {
  const first = new Map<string, number>();
  const dup = new Set<number>();
  resources.forEach((r, i) => {
    const key = `${r.resourceType}:${r.resourceName}`;
    const seen = first.get(key);
    if (seen === undefined) first.set(key, i);
    else dup.add(seen).add(i);
  });
  return dup;
}

export const DUPLICATE_RESOURCE = apiError(
  ErrorCode.INVALID_REQUEST,
  'Each resource must appear at most once.',
);
export const DUPLICATE_KEYS = apiError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');

export function hasDuplicates(names: readonly string[]): boolean {
  return new Set(names).size !== names.length;
}

export function nullValues(names: readonly string[]): ApiError {
  return apiError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${names.join(', ')}`);
}

/** The answer to changing broker keys: Samsa has no dynamic broker configs (Kafka's read-only key error). */
export function brokerConfigsNotDynamic(keys: readonly string[]): ApiError {
  return apiError(
    ErrorCode.INVALID_REQUEST,
    `Cannot update these configs dynamically: Set(${keys.join(', ')}) (Samsa has no dynamic broker configs yet; set them in server.properties)`,
  );
}

/** Checks a BROKER resource's name (this node's id, or '' for the cluster default); null when fine. */
export function brokerResourceProblem(broker: BrokerServices, name: string): ApiError | null {
  if (name === '') return null;
  const problem = brokerIdProblem(name, broker.nodeId, 'Node');
  return problem === null ? null : apiError(ErrorCode.INVALID_REQUEST, problem);
}

export function unknownResourceType(type: number): ApiError {
  return apiError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${type}`);
}

async function alterResource(
  b: BrokerServices,
  r: AlterConfigsRequest.AlterConfigsResource,
  validateOnly: boolean,
): Promise<ApiError> {
  const names = r.configs.map((c) => c.name);
  if (hasDuplicates(names)) return DUPLICATE_KEYS;
  const nulls = r.configs.filter((c) => c.value === null).map((c) => c.name);
  if (nulls.length > 0) return nullValues(nulls);
  switch (r.resourceType) {
    case ConfigResourceType.TOPIC: {
      const problem = topicNameProblem(r.resourceName);
      if (problem !== null) return apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
      const overrides = new Map(r.configs.map((c) => [c.name, c.value!]));
      return serializeConfigChange(b, () =>
        b.controller.setTopicConfig(r.resourceName, overrides, validateOnly),
      );
    }
    case ConfigResourceType.BROKER:
      return (
        brokerResourceProblem(b, r.resourceName) ??
        (names.length > 0 ? brokerConfigsNotDynamic(names) : NO_ERROR)
      );
    default:
      return unknownResourceType(r.resourceType);
  }
}

export const alterConfigsHandler = defineHandler<AlterConfigsRequest, AlterConfigsResponse>({
  api: apis.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const dup = duplicateResources(req.resources);
    const responses = await Promise.all(
      req.resources.map(async (r, i): Promise<AlterConfigsResponse.AlterConfigsResourceResponse> => {
        const e = dup.has(i) ? DUPLICATE_RESOURCE : await alterResource(ctx.broker, r, req.validateOnly);
        if (
          e.errorCode === ErrorCode.NONE &&
          !req.validateOnly &&
          r.resourceType === ConfigResourceType.TOPIC
        ) {
          ctx.broker.log(
            `replaced the config overrides of topic ${r.resourceName}: ${r.configs.map((c) => c.name).join(', ') || 'none'}`,
          );
        }
        return {
          errorCode: e.errorCode,
          errorMessage: e.errorMessage,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          unknownTaggedFields: undefined,
        };
      }),
    );
    return { throttleTimeMs: 0, responses, unknownTaggedFields: undefined };
  },
});
