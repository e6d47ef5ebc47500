/**
 * The producer's options, resolved as Kafka's ProducerConfig resolves them: defaults, checks
 * whose errors name the option and the value, and the idempotence rules of Kafka 3.
 */
import { CompressionCodec } from '../protocol/compression/index.js';
import { ConfigError } from './errors.js';
import { boolOption, intOption } from './options.js';

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProducerOptions {
  /** Acknowledgements the leader waits for: 0 none, 1 the leader, -1/'all' every in-sync replica. Default 'all'. */
  acks?: 0 | 1 | -1 | 'all';
  /** How long a batch waits for more records before it is sent. Default 5 (Kafka 4). */
  lingerMs?: number;
  /** Upper bound of a batch's uncompressed size in bytes; 0 sends every record alone. Default 16384. */
  batchSize?: number;
  /** Codec for every batch. Default 'none'. */
  compression?: CompressionName;
  /** Bytes of records not yet acknowledged before send waits. Default 33554432 (32 MiB). */
  bufferMemory?: number;
  /** Largest Produce request, and so the largest record, in bytes. Default 1048576. */
  maxRequestSize?: number;
  /** How long send may wait for metadata and buffer memory. Default 60000. */
  maxBlockMs?: number;
  /** Time from a record's batch being created to its outcome, retries included. Default 120000. */
  deliveryTimeoutMs?: number;
  /** Retries of a failed batch (deliveryTimeoutMs bounds them too). Default 2147483647. */
  retries?: number;
  /** Produce requests in flight per broker. Default 5 (at most 5 with idempotence). */
  maxInFlightRequestsPerConnection?: number;
  /**
   * Kafka's enable.idempotence: no duplicates from retries, order kept with up to 5 batches in
   * flight per partition. Default true, unless acks, retries or maxInFlightRequestsPerConnection
   * are set in a way it cannot work with (then false, as Kafka 3 does).
   */
  idempotent?: boolean;
  /** Makes the producer transactional (and idempotent); the same id across restarts fences older instances. */
  transactionalId?: string;
  /** How long the coordinator lets a transaction stay open before aborting it. Default 60000. */
  transactionTimeoutMs?: number;
}

export interface ResolvedProducerOptions {
  acks: number;
  lingerMs: number;
  batchSizeBytes: number;
  compression: CompressionCodec;
  bufferMemoryBytes: number;
  maxRequestSizeBytes: number;
  maxBlockMs: number;
  deliveryTimeoutMs: number;
  retries: number;
  maxInFlightRequestsPerConnection: number;
  idempotent: boolean;
  transactionalId: string | null;
  transactionTimeoutMs: number;
}

const CODECS: Readonly<Record<CompressionName, CompressionCodec>> = {
  none: CompressionCodec.None,
  gzip: CompressionCodec.Gzip,
  snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4,
  zstd: CompressionCodec.Zstd,
};

export const INT32_MAX = 0x7fffffff;

/** The broker keeps the last 5 batches of a producer per partition to recognise retries (Kafka's limit). */
export const IDEMPOTENT_MAX_IN_FLIGHT = 5;

/** Producer options a Cluster must not see (it validates only ClientOptions). */
export const PRODUCER_KEYS: readonly (keyof ProducerOptions)[] = [
  'acks',
  'lingerMs',
  'batchSize',
  'compression',
  'bufferMemory',
  'maxRequestSize',
  'maxBlockMs',
  'deliveryTimeoutMs',
  'retries',
  'maxInFlightRequestsPerConnection',
  'idempotent',
  'transactionalId',
  'transactionTimeoutMs',
];

export function resolveProducerOptions(
  o: ProducerOptions,
  requestTimeoutMs: number,
): ResolvedProducerOptions {
  let acks: number;
  if (o.acks === undefined || o.acks === 'all' || o.acks === -1) acks = -1;
  else if (o.acks === 0 || o.acks === 1) acks = o.acks;
  else throw new ConfigError(`acks must be 0, 1, -1 or 'all', got ${String(o.acks)}`);
  const compressionName = o.compression ?? 'none';
  if (!Object.hasOwn(CODECS, compressionName)) {
    throw new ConfigError(
      `compression must be one of ${Object.keys(CODECS).join(', ')}, got ${String(compressionName)}`,
    );
  }
  const lingerMs = intOption('lingerMs', o.lingerMs, 5, 0, INT32_MAX);
  const bufferMemoryBytes = intOption('bufferMemory', o.bufferMemory, 32 * 1024 * 1024, 1);
  const maxRequestSizeBytes = intOption('maxRequestSize', o.maxRequestSize, 1024 * 1024, 1, INT32_MAX);
  // As Kafka: a delivery timeout the user set must leave room for one linger and one request;
  // the default is raised to that when requestTimeoutMs is large.
  const minDeliveryMs = lingerMs + requestTimeoutMs;
  let deliveryTimeoutMs = intOption('deliveryTimeoutMs', o.deliveryTimeoutMs, 120_000, 0, INT32_MAX);
  if (o.deliveryTimeoutMs === undefined) deliveryTimeoutMs = Math.max(deliveryTimeoutMs, minDeliveryMs);
  else if (deliveryTimeoutMs < minDeliveryMs) {
    throw new ConfigError(
      `deliveryTimeoutMs must be at least lingerMs + requestTimeoutMs (${minDeliveryMs}), got ${deliveryTimeoutMs}`,
    );
  }
  const retries = intOption('retries', o.retries, INT32_MAX, 0, INT32_MAX);
  const maxInFlightRequestsPerConnection = intOption(
    'maxInFlightRequestsPerConnection',
    o.maxInFlightRequestsPerConnection,
    5,
    1,
    INT32_MAX,
  );
  const transactionalId = o.transactionalId ?? null;
  if (transactionalId !== null && (typeof transactionalId !== 'string' || transactionalId === '')) {
    throw new ConfigError(
      `transactionalId must be a non-empty string, got ${JSON.stringify(transactionalId)}`,
    );
  }
  return {
    acks,
    lingerMs,
    batchSizeBytes: intOption('batchSize', o.batchSize, 16384, 0, INT32_MAX),
    compression: CODECS[compressionName],
    bufferMemoryBytes,
    maxRequestSizeBytes,
    maxBlockMs: intOption('maxBlockMs', o.maxBlockMs, 60_000, 0, INT32_MAX),
    deliveryTimeoutMs,
    retries,
    maxInFlightRequestsPerConnection,
    idempotent: resolveIdempotence(o, acks, retries, maxInFlightRequestsPerConnection, transactionalId),
    transactionalId,
    transactionTimeoutMs: intOption('transactionTimeoutMs', o.transactionTimeoutMs, 60_000, 1, INT32_MAX),
  };
}

/**
 * Kafka 3's rule (ProducerConfig.postProcessAndValidateIdempotenceConfigs): idempotence is on
 * unless turned off; settings it cannot work with are an error when the user asked for it, and
 * turn it off silently when it was only the default. A transactional id needs it.
 */
function resolveIdempotence(
  o: ProducerOptions,
  acks: number,
  retries: number,
  maxInFlight: number,
  transactionalId: string | null,
): boolean {
  const explicit = o.idempotent !== undefined;
  let idempotent = boolOption('idempotent', o.idempotent, true);
  if (idempotent) {
    const conflicts: string[] = [];
    if (acks !== -1) conflicts.push(`acks must be 'all' (got ${acks})`);
    if (retries === 0) conflicts.push('retries must be above 0 (got 0)');
    if (maxInFlight > IDEMPOTENT_MAX_IN_FLIGHT) {
      conflicts.push(
        `maxInFlightRequestsPerConnection must be at most ${IDEMPOTENT_MAX_IN_FLIGHT} (got ${maxInFlight})`,
      );
    }
    if (conflicts.length > 0) {
      if (explicit || transactionalId !== null) {
        const why =
          transactionalId !== null && !explicit
            ? 'a transactional producer (transactionalId)'
            : 'idempotent: true';
        throw new ConfigError(`${why} needs idempotence: ${conflicts.join('; ')}`);
      }
      idempotent = false;
    }
  }
  if (!idempotent && transactionalId !== null) {
    throw new ConfigError(
      `transactionalId ${transactionalId} needs idempotence; idempotent: false was given`,
    );
  }
  return idempotent;
}
