/**
 * Helpers Admin's topic, config, group and record operations share: finding one resource's
 * result, version negotiation, duplicate checks and grouping of topic-partitions.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { BrokerConnection } from './connection.js';
import { ConfigError, NO_RETRY, resultError } from './errors.js';
import type { TopicPartition } from './topic-partition.js';

/** The result for one resource in a response list; a missing one is the broker's fault, and final. */
export function findResult<T>(results: readonly T[], isIt: (r: T) => boolean, context: string): T {
  const r = results.find(isIt);
  if (r === undefined)
    throw resultError(ErrorCode.UNKNOWN_SERVER_ERROR, context, 'no result in the response', NO_RETRY);
  return r;
}

/** Versions this client and the broker share for an API, or a final UNSUPPORTED_VERSION naming it. */
export function versionFor(conn: BrokerConnection, apiKey: number, name: string, maxWanted?: number): number {
  const v = conn.version(apiKey, maxWanted);
  if (v < 0) {
    throw resultError(
      ErrorCode.UNSUPPORTED_VERSION,
      `${name} to ${conn.address}`,
      'no version both sides support',
      NO_RETRY,
    );
  }
  return v;
}

export function tpName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function groupByTopic<T extends TopicPartition>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    let list = out.get(item.topic);
    if (list === undefined) out.set(item.topic, (list = []));
    list.push(item);
  }
  return out;
}

export function rejectDuplicates(what: string, items: readonly TopicPartition[]): void {
  const seen = new Set<string>();
  for (const tp of items) {
    const key = `${tp.partition}:${tp.topic}`;
    if (seen.has(key)) throw new ConfigError(`${what}: ${tpName(tp.topic, tp.partition)} is given twice`);
    seen.add(key);
  }
}
