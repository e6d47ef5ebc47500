/**
 * IncrementalAlterConfigs (key 44), versions 0-1.
 *
 * TOPIC resources: the operations are applied, in order, to the topic's current overrides —
 * SET (0) sets a key, DELETE (1) removes the override (the key reverts to its default), APPEND
 * (2) and SUBTRACT (3) add or remove items of a list-typed key (`cleanup.policy`) — and the
 * result is validated and stored as CreateTopics / AlterConfigs do (unknown key or bad value →
 * INVALID_CONFIG naming the key; validateOnly writes nothing). The whole resource succeeds or
 * fails together. Unknown topic → UNKNOWN_TOPIC_OR_PARTITION; illegal name →
 * INVALID_TOPIC_EXCEPTION. The replica manager applies a committed change to the open logs before
 * the response goes out. A read-modify-write runs alone among the config changes of this broker.
 * Request checks as Kafka's ConfigAdminManager: a resource named twice → INVALID_REQUEST for both;
 * a key given twice in one resource → INVALID_REQUEST "Error due to duplicate config keys"; a null
 * value for anything but DELETE → INVALID_REQUEST; an unknown operation → INVALID_REQUEST;
 * APPEND/SUBTRACT on a key that is not a list → INVALID_CONFIG "Can't APPEND to key K because its
 * type is not LIST." (the controller's text).
 * BROKER resources: name = this node's id or '' (else INVALID_REQUEST). Samsa has no dynamic
 * broker configs yet: SET/APPEND/SUBTRACT get Kafka's read-only-key answer, INVALID_REQUEST
 * "Cannot update these configs dynamically: Set(…)"; DELETEs alone succeed (nothing is set).
 * BROKER_LOGGER: Samsa has no log4j loggers, so SET/DELETE of any logger get Kafka's
 * INVALID_CONFIG "Logger X does not exist!" and APPEND/SUBTRACT Kafka's INVALID_REQUEST.
 * Deviations: APPEND/SUBTRACT on a key without an override start from its effective value (the
 * broker's log.cleanup.policy if set) where Kafka starts from the topic config's built-in default;
 * CLIENT_METRICS and GROUP resources → INVALID_REQUEST "Unknown resource type" (Kafka 3.7+
 * accepts them; Samsa has neither).
 */
import { ConfigResourceType } from '../../metadata/image.js';
import { topicNameProblem, type ApiError } from '../../metadata/controller.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { IncrementalAlterConfigsRequest } from '../../protocol/generated/message/IncrementalAlterConfigsRequest.js';
import type { IncrementalAlterConfigsResponse } from '../../protocol/generated/message/IncrementalAlterConfigsResponse.js';
import { formatLogConfigValue, logConfigDefinition, type LogConfig } from '../../storage/log-config.js';
import type { BrokerServices } from '../services.js';
import { BROKER_LOGGER_RESOURCE, brokerIdProblem } from './32-describe-configs.js';
import {
  DUPLICATE_KEYS,
  DUPLICATE_RESOURCE,
  NO_ERROR,
  apiError,
  brokerConfigsNotDynamic,
  brokerResourceProblem,
  duplicateResources,
  hasDuplicates,
  nullValues,
  serializeConfigChange,
  unknownResourceType,
} from './33-alter-configs.js';
import { defineHandler } from './types.js';

type AlterableConfig = IncrementalAlterConfigsRequest.AlterableConfig;

/** Kafka's AlterConfigOp.OpType ids. */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'] as const;

/** The items of a list value: comma-separated, blanks ignored (as Samsa parses lists). */
function listItems(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Applies the operations of one resource to a topic's overrides. `effective` supplies the
 * starting value of a list key that has no override.
 */
export function applyTopicOperations(
  overrides: ReadonlyMap<string, string>,
  effective: LogConfig,
  ops: readonly AlterableConfig[],
): Map<string, string> | ApiError {
  const next = new Map(overrides);
  for (const op of ops) {
    switch (op.configOperation) {
      case ConfigOperation.SET:
        next.set(op.name, op.value!);
        break;
      case ConfigOperation.DELETE:
        next.delete(op.name);
        break;
      case ConfigOperation.APPEND:
      case ConfigOperation.SUBTRACT: {
        const def = logConfigDefinition(op.name);
        if (def?.type !== 'list') {
          return apiError(
            ErrorCode.INVALID_CONFIG,
            `Can't ${OP_NAMES[op.configOperation]} to key ${op.name} because its type is not LIST.`,
          );
        }
        let items = listItems(next.get(op.name) ?? formatLogConfigValue(effective, def));
        const given = listItems(op.value!);
        if (op.configOperation === ConfigOperation.APPEND) {
          for (const v of given) if (!items.includes(v)) items.push(v);
        } else {
          items = items.filter((v) => !given.includes(v));
        }
        next.set(op.name, items.join(','));
        break;
      }
    }
  }
  return next;
}

function alterBroker(b: BrokerServices, r: IncrementalAlterConfigsRequest.AlterConfigsResource): ApiError {
  const problem = brokerResourceProblem(b, r.resourceName);
  if (problem !== null) return problem;
  const changed = r.configs.filter((c) => c.configOperation !== ConfigOperation.DELETE).map((c) => c.name);
  return changed.length > 0 ? brokerConfigsNotDynamic(changed) : NO_ERROR;
}

function alterBrokerLogger(
  b: BrokerServices,
  r: IncrementalAlterConfigsRequest.AlterConfigsResource,
): ApiError {
  const problem = brokerIdProblem(r.resourceName, b.nodeId, 'Node');
  if (problem !== null) return apiError(ErrorCode.INVALID_REQUEST, problem);
  for (const c of r.configs) {
    if (c.configOperation === ConfigOperation.APPEND || c.configOperation === ConfigOperation.SUBTRACT) {
      return apiError(
        ErrorCode.INVALID_REQUEST,
        `${OP_NAMES[c.configOperation]} operation is not allowed for the BROKER_LOGGER resource`,
      );
    }
  }
  const first = r.configs[0];
  return first === undefined
    ? NO_ERROR
    : apiError(ErrorCode.INVALID_CONFIG, `Logger ${first.name} does not exist! (Samsa has no log4j loggers)`);
}

async function alterResource(
  b: BrokerServices,
  r: IncrementalAlterConfigsRequest.AlterConfigsResource,
  validateOnly: boolean,
): Promise<ApiError> {
  if (hasDuplicates(r.configs.map((c) => c.name))) return DUPLICATE_KEYS;
  const nulls = r.configs
    .filter((c) => c.configOperation !== ConfigOperation.DELETE && c.value === null)
    .map((c) => c.name);
  if (nulls.length > 0) return nullValues(nulls);
  const unknownOp = r.configs.find((c) => OP_NAMES[c.configOperation] === undefined);
  if (unknownOp !== undefined) {
    return apiError(ErrorCode.INVALID_REQUEST, `Unknown operations type ${unknownOp.configOperation}`);
  }
  switch (r.resourceType) {
    case ConfigResourceType.TOPIC: {
      const topic = r.resourceName;
      const problem = topicNameProblem(topic);
      if (problem !== null) return apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
      return serializeConfigChange(b, async () => {
        // The controller reports an unknown topic (after the operations, as Kafka's controller).
        const next = applyTopicOperations(
          b.image().topicConfig(topic),
          b.controller.topicConfig(topic),
          r.configs,
        );
        if (!(next instanceof Map)) return next;
        return b.controller.setTopicConfig(topic, next, validateOnly);
      });
    }
    case ConfigResourceType.BROKER:
      return alterBroker(b, r);
    case BROKER_LOGGER_RESOURCE:
      return alterBrokerLogger(b, r);
    default:
      return unknownResourceType(r.resourceType);
  }
}

export const incrementalAlterConfigsHandler = defineHandler<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse
>({
  api: apis.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const dup = duplicateResources(req.resources);
    const responses = await Promise.all(
      req.resources.map(
        async (r, i): Promise<IncrementalAlterConfigsResponse.AlterConfigsResourceResponse> => {
          const e = dup.has(i) ? DUPLICATE_RESOURCE : await alterResource(ctx.broker, r, req.validateOnly);
          if (
            e.errorCode === ErrorCode.NONE &&
            !req.validateOnly &&
            r.resourceType === ConfigResourceType.TOPIC
          ) {
            const ops = r.configs.map((c) => `${OP_NAMES[c.configOperation]} ${c.name}`).join(', ');
            ctx.broker.log(`altered the configs of topic ${r.resourceName}: ${ops}`);
          }
          return {
            errorCode: e.errorCode,
            errorMessage: e.errorMessage,
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            unknownTaggedFields: undefined,
          };
        },
      ),
    );
    return { throttleTimeMs: 0, responses, unknownTaggedFields: undefined };
  },
});
