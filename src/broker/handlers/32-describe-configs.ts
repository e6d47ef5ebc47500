/**
 * DescribeConfigs (key 32), versions 0-4.
 *
 * TOPIC resources: every topic config Samsa knows with its effective value printed as Kafka
 * prints it, its source (TOPIC_CONFIG for an override, STATIC_BROKER_CONFIG when a broker key in
 * server.properties supplied it, DEFAULT_CONFIG otherwise), readOnly false, its type and
 * documentation, and Kafka's synonyms: the override, then the chain of the topic config's first
 * broker key, static values before defaults, cut (as Kafka's dropWhile does) before that key's
 * first appearance — so `retention.ms` lists no broker synonyms unless log.retention.ms is set
 * (`synonyms={}` in kafka-configs), while `cleanup.policy` lists log.cleanup.policy=delete.
 * Unknown topic → UNKNOWN_TOPIC_OR_PARTITION; illegal name → INVALID_TOPIC_EXCEPTION.
 * BROKER resources: this node's id gives every broker key Samsa knows (all readOnly: no dynamic
 * broker configs yet); '' (the cluster-wide dynamic defaults) gives an empty list, as Kafka does
 * when none are set; another id or a non-integer → INVALID_REQUEST, as Kafka.
 * BROKER_LOGGER: Samsa has no log4j loggers, so this node's id gives an empty list.
 *
 * `configurationKeys` null or empty means all keys (Kafka's rule). v0 has no sources: `isDefault`
 * is true for anything but a topic override (a broker: anything not set in server.properties),
 * which is how clients map it back to sources. Synonyms only with includeSynonyms (v1+);
 * documentation only with includeDocumentation (v3+), otherwise null.
 * Deviations: a topic value supplied by a lower broker synonym (log.retention.hours with
 * log.retention.ms unset) reports STATIC_BROKER_CONFIG; Kafka, having cut the synonyms to none,
 * reports DEFAULT_CONFIG. CLIENT_METRICS (16), GROUP (32) and unknown resource types get
 * INVALID_REQUEST per resource (Kafka serves the first two; for an unknown type it fails the
 * whole request with INVALID_REQUEST). Topics list only the configs Samsa implements (see
 * storage/log-config.ts), not Kafka's remote-storage, throttling or message-format keys.
 */
import { brokerConfigEntries, type BrokerConfig, type BrokerConfigEntry } from '../config.js';
import { topicNameProblem } from '../../metadata/controller.js';
import { ConfigResourceType } from '../../metadata/image.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { DescribeConfigsRequest } from '../../protocol/generated/message/DescribeConfigsRequest.js';
import type { DescribeConfigsResponse } from '../../protocol/generated/message/DescribeConfigsResponse.js';
import {
  CONFIG_SOURCE_ID,
  logConfigDefinition,
  logConfigEntries,
  type LogConfigEntry,
} from '../../storage/log-config.js';
import { defineHandler, type RequestContext } from './types.js';

type Result = DescribeConfigsResponse.DescribeConfigsResult;
type Entry = DescribeConfigsResponse.DescribeConfigsResourceResult;
type Synonym = DescribeConfigsResponse.DescribeConfigsSynonym;

/** Kafka's ConfigResource.Type ids beyond those the metadata image stores. */
export const BROKER_LOGGER_RESOURCE = 8;

/** Kafka's names for resource type ids, for error messages. */
export function resourceTypeName(type: number): string {
  switch (type) {
    case ConfigResourceType.TOPIC:
      return 'TOPIC';
    case ConfigResourceType.BROKER:
      return 'BROKER';
    case BROKER_LOGGER_RESOURCE:
      return 'BROKER_LOGGER';
    case 16:
      return 'CLIENT_METRICS';
    case 32:
      return 'GROUP';
    default:
      return 'UNKNOWN';
  }
}

/**
 * Checks that a BROKER / BROKER_LOGGER resource names this node, with Kafka's messages (`idWord`
 * is "Broker" or "Node", `expected` what the message says was expected). Null when it does.
 */
export function brokerIdProblem(
  name: string,
  nodeId: number,
  idWord = 'Broker',
  expected = String(nodeId),
): string | null {
  if (!/^[+-]?\d+$/.test(name)) return `${idWord} id must be an integer, but it is: ${name}`;
  if (Number(name) !== nodeId) return `Unexpected broker id, expected ${expected}, but received ${name}`;
  return null;
}

const brokerEntriesCache = new WeakMap<BrokerConfig, ReadonlyMap<string, BrokerConfigEntry>>();

/** The broker's DescribeConfigs rows by key (a pure function of the config, so computed once). */
function brokerEntries(config: BrokerConfig): ReadonlyMap<string, BrokerConfigEntry> {
  let m = brokerEntriesCache.get(config);
  if (m === undefined) {
    m = new Map(brokerConfigEntries(config).map((e) => [e.name, e]));
    brokerEntriesCache.set(config, m);
  }
  return m;
}

function wanted(keys: string[] | null): (name: string) => boolean {
  if (keys === null || keys.length === 0) return () => true;
  const set = new Set(keys);
  return (name) => set.has(name);
}

function failed(
  r: DescribeConfigsRequest.DescribeConfigsResource,
  errorCode: number,
  message: string | null,
): Result {
  return {
    errorCode,
    errorMessage: message,
    resourceType: r.resourceType,
    resourceName: r.resourceName,
    configs: [],
    unknownTaggedFields: undefined,
  };
}

function ok(r: DescribeConfigsRequest.DescribeConfigsResource, configs: Entry[]): Result {
  return { ...failed(r, ErrorCode.NONE, null), configs };
}

interface Options {
  version: number;
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}

function entry(
  o: Options,
  name: string,
  value: string | null,
  sourceId: number,
  isDefault: boolean,
  readOnly: boolean,
  synonyms: Synonym[],
  typeId: number,
  documentation: string,
): Entry {
  return {
    name,
    value,
    readOnly,
    // The field exists in v0 only (the codec refuses a true in later versions).
    isDefault: o.version === 0 ? isDefault : false,
    configSource: o.version >= 1 ? sourceId : -1,
    isSensitive: false,
    synonyms: o.version >= 1 && o.includeSynonyms ? synonyms : [],
    configType: o.version >= 3 ? typeId : 0,
    documentation: o.version >= 3 && o.includeDocumentation ? documentation : null,
    unknownTaggedFields: undefined,
  };
}

function synonym(name: string, value: string | null, source: number): Synonym {
  return { name, value, source, unknownTaggedFields: undefined };
}

/** Kafka's synonyms of a topic config: the override, then its broker keys' chain. */
function topicSynonyms(e: LogConfigEntry, brokers: ReadonlyMap<string, BrokerConfigEntry>): Synonym[] {
  const out: Synonym[] = [];
  if (e.sourceId === CONFIG_SOURCE_ID.DYNAMIC_TOPIC_CONFIG) {
    out.push(synonym(e.name, e.value, CONFIG_SOURCE_ID.DYNAMIC_TOPIC_CONFIG));
  }
  const firstBrokerKey = logConfigDefinition(e.name)?.brokerKeys[0]?.name;
  const broker = firstBrokerKey === undefined ? undefined : brokers.get(firstBrokerKey);
  for (const s of broker?.synonyms ?? []) out.push(synonym(s.name, s.value, s.sourceId));
  return out;
}

function describeTopic(
  ctx: RequestContext,
  o: Options,
  r: DescribeConfigsRequest.DescribeConfigsResource,
): Result {
  const problem = topicNameProblem(r.resourceName);
  if (problem !== null) return failed(r, ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  const b = ctx.broker;
  if (!b.image().topicsByName.has(r.resourceName)) {
    return failed(r, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${r.resourceName}' does not exist.`);
  }
  const brokers = brokerEntries(b.config);
  const include = wanted(r.configurationKeys);
  const configs = logConfigEntries(b.controller.topicConfig(r.resourceName))
    .filter((e) => include(e.name))
    .map((e) =>
      entry(
        o,
        e.name,
        e.value,
        e.sourceId,
        e.sourceId !== CONFIG_SOURCE_ID.DYNAMIC_TOPIC_CONFIG,
        false,
        topicSynonyms(e, brokers),
        e.typeId,
        e.documentation,
      ),
    );
  return ok(r, configs);
}

function describeBroker(
  ctx: RequestContext,
  o: Options,
  r: DescribeConfigsRequest.DescribeConfigsResource,
): Result {
  // '' is the cluster-wide dynamic defaults: Samsa has none.
  if (r.resourceName === '') return ok(r, []);
  const nodeId = ctx.broker.nodeId;
  const problem = brokerIdProblem(r.resourceName, nodeId, 'Broker', `${nodeId} or empty string`);
  if (problem !== null) return failed(r, ErrorCode.INVALID_REQUEST, problem);
  const include = wanted(r.configurationKeys);
  const configs = [...brokerEntries(ctx.broker.config).values()]
    .filter((e) => include(e.name))
    .map((e) =>
      entry(
        o,
        e.name,
        e.value,
        e.sourceId,
        e.isDefault,
        e.readOnly,
        e.synonyms.map((s) => synonym(s.name, s.value, s.sourceId)),
        e.typeId,
        e.documentation,
      ),
    );
  return ok(r, configs);
}

function describeBrokerLogger(
  ctx: RequestContext,
  r: DescribeConfigsRequest.DescribeConfigsResource,
): Result {
  if (r.resourceName === '') return failed(r, ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
  const problem = brokerIdProblem(r.resourceName, ctx.broker.nodeId);
  if (problem !== null) return failed(r, ErrorCode.INVALID_REQUEST, problem);
  return ok(r, []);
}

export const describeConfigsHandler = defineHandler<DescribeConfigsRequest, DescribeConfigsResponse>({
  api: apis.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req) {
    const o: Options = {
      version: ctx.apiVersion,
      includeSynonyms: req.includeSynonyms,
      includeDocumentation: req.includeDocumentation,
    };
    const results = req.resources.map((r): Result => {
      switch (r.resourceType) {
        case ConfigResourceType.TOPIC:
          return describeTopic(ctx, o, r);
        case ConfigResourceType.BROKER:
          return describeBroker(ctx, o, r);
        case BROKER_LOGGER_RESOURCE:
          return describeBrokerLogger(ctx, r);
        default:
          return failed(
            r,
            ErrorCode.INVALID_REQUEST,
            `Unsupported resource type: ${resourceTypeName(r.resourceType)} (${r.resourceType})`,
          );
      }
    });
    return { throttleTimeMs: 0, results, unknownTaggedFields: undefined };
  },
});
