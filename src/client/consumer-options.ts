/**
 * The consumer's options, resolved as Kafka's ConsumerConfig resolves them: defaults, and checks
 * whose errors name the option and the value given (group rules, heartbeat below session timeout,
 * known assignors).
 */
import { isAssignorName, type AssignorName } from './assignors.js';
import { ConfigError } from './errors.js';
import type { IsolationLevel, OffsetResetStrategy } from './fetcher.js';
import { boolOption, enumOption, intOption } from './options.js';

export interface ConsumerOptions {
  /** The consumer group; without it the consumer can only assign() and cannot commit. */
  groupId?: string;
  /** Static membership (KIP-345): a stable identity that survives restarts within sessionTimeoutMs. */
  groupInstanceId?: string;
  /** Where to start without a committed offset, or after an out-of-range one. Default 'latest'. */
  autoOffsetReset?: OffsetResetStrategy;
  /** Default true with a groupId (false, and not allowed, without one). */
  enableAutoCommit?: boolean;
  /** Default 5000. */
  autoCommitIntervalMs?: number;
  /** Default 45000. */
  sessionTimeoutMs?: number;
  /** Default 3000; must be below sessionTimeoutMs. */
  heartbeatIntervalMs?: number;
  /** The longest the application may go between polls before leaving the group. Default 300000. */
  maxPollIntervalMs?: number;
  /** Default 500. */
  maxPollRecords?: number;
  /** Default 1. */
  fetchMinBytes?: number;
  /** Default 500. */
  fetchMaxWaitMs?: number;
  /** Default 52428800 (50 MiB). */
  fetchMaxBytes?: number;
  /** Default 1048576 (1 MiB). */
  maxPartitionFetchBytes?: number;
  /** Default 'read_uncommitted'. */
  isolationLevel?: IsolationLevel;
  /** In order of preference. Default ['range', 'cooperative-sticky'] (Kafka 3+). */
  partitionAssignmentStrategy?: AssignorName[];
}

export interface ResolvedConsumerOptions {
  groupId: string | null;
  groupInstanceId: string | null;
  autoOffsetReset: OffsetResetStrategy;
  enableAutoCommit: boolean;
  autoCommitIntervalMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  maxPollRecords: number;
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytes: number;
  maxPartitionFetchBytes: number;
  isolationLevel: IsolationLevel;
  partitionAssignmentStrategy: AssignorName[];
}

const INT32_MAX = 0x7fffffff;

/** Validates consumer options; errors name the option and the value given. */
export function resolveConsumerOptions(o: ConsumerOptions): ResolvedConsumerOptions {
  const groupId = o.groupId ?? null;
  if (groupId !== null && (typeof groupId !== 'string' || groupId.length === 0)) {
    throw new ConfigError(`groupId must be a non-empty string, got ${JSON.stringify(groupId)}`);
  }
  const groupInstanceId = o.groupInstanceId ?? null;
  if (groupInstanceId !== null) {
    if (typeof groupInstanceId !== 'string' || groupInstanceId.length === 0) {
      throw new ConfigError(
        `groupInstanceId must be a non-empty string, got ${JSON.stringify(groupInstanceId)}`,
      );
    }
    if (groupId === null) throw new ConfigError(`groupInstanceId ${groupInstanceId} needs a groupId`);
  }
  const enableAutoCommit = boolOption('enableAutoCommit', o.enableAutoCommit, groupId !== null);
  if (enableAutoCommit && groupId === null) {
    throw new ConfigError(
      'enableAutoCommit cannot be true without a groupId (there is no group to commit to)',
    );
  }
  const sessionTimeoutMs = intOption('sessionTimeoutMs', o.sessionTimeoutMs, 45_000, 1, INT32_MAX);
  const heartbeatIntervalMs = intOption('heartbeatIntervalMs', o.heartbeatIntervalMs, 3000, 1, INT32_MAX);
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be lower than sessionTimeoutMs (${sessionTimeoutMs})`,
    );
  }
  const strategy: unknown = o.partitionAssignmentStrategy ?? ['range', 'cooperative-sticky'];
  if (
    !Array.isArray(strategy) ||
    strategy.length === 0 ||
    !strategy.every(isAssignorName) ||
    new Set(strategy).size !== strategy.length
  ) {
    throw new ConfigError(
      `partitionAssignmentStrategy must be a non-empty list of distinct names from range, roundrobin, cooperative-sticky; got ${JSON.stringify(strategy)}`,
    );
  }
  return {
    groupId,
    groupInstanceId,
    autoOffsetReset: enumOption(
      'autoOffsetReset',
      o.autoOffsetReset,
      ['earliest', 'latest', 'none'],
      'latest',
    ),
    enableAutoCommit,
    autoCommitIntervalMs: intOption('autoCommitIntervalMs', o.autoCommitIntervalMs, 5000, 0, INT32_MAX),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    maxPollIntervalMs: intOption('maxPollIntervalMs', o.maxPollIntervalMs, 300_000, 1, INT32_MAX),
    maxPollRecords: intOption('maxPollRecords', o.maxPollRecords, 500, 1, INT32_MAX),
    fetchMinBytes: intOption('fetchMinBytes', o.fetchMinBytes, 1, 0, INT32_MAX),
    fetchMaxWaitMs: intOption('fetchMaxWaitMs', o.fetchMaxWaitMs, 500, 0, INT32_MAX),
    fetchMaxBytes: intOption('fetchMaxBytes', o.fetchMaxBytes, 52_428_800, 0, INT32_MAX),
    maxPartitionFetchBytes: intOption(
      'maxPartitionFetchBytes',
      o.maxPartitionFetchBytes,
      1_048_576,
      0,
      INT32_MAX,
    ),
    isolationLevel: enumOption(
      'isolationLevel',
      o.isolationLevel,
      ['read_uncommitted', 'read_committed'],
      'read_uncommitted',
    ),
    partitionAssignmentStrategy: [...strategy],
  };
}
