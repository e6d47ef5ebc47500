/**
 * What a client knows about the cluster: brokers, topics and their leaders (from Metadata),
 * coordinators (from FindCoordinator), one pooled connection per broker, and the retry loop
 * that refreshes that knowledge when a broker says it is out of date.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import type { FindCoordinatorResponse } from '../protocol/generated/message/FindCoordinatorResponse.js';
import type { MetadataRequest } from '../protocol/generated/message/MetadataRequest.js';
import type { MetadataResponse } from '../protocol/generated/message/MetadataResponse.js';
import { ZERO_UUID } from '../protocol/primitives/uuid.js';
import { systemClock } from '../runtime/clock.js';
import { BrokerConnection, formatAddress } from './connection.js';
import { clientError, kafkaError, KafkaClientError } from './errors.js';
import {
  resolveClientOptions,
  type BrokerAddress,
  type ClientOptions,
  type ResolvedClientOptions,
} from './options.js';

export type { BrokerAddress, ClientOptions, ResolvedClientOptions } from './options.js';

export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  isInternal: boolean;
  /** Sorted by partition. */
  partitions: PartitionMetadata[];
  errorCode: number;
}

/** The partition's entry in `meta`: its list is sorted by partition, so usually at its own index. */
export function partitionOf(meta: TopicMetadata, partition: number): PartitionMetadata | undefined {
  const p = meta.partitions[partition];
  return p?.partition === partition ? p : meta.partitions.find((x) => x.partition === partition);
}

/** Ceiling on attempts in one withRetry, whatever the deadline: a bound for every loop. */
export const MAX_RETRY_ATTEMPTS = 1000;
/** Longest timer Node can set (a longer delay fires at once). */
const TIMER_MS_MAX = 0x7fffffff;

/** Errors after which the cached leaders or brokers are likely wrong. */
const REFRESH_METADATA_ON: ReadonlySet<string> = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'NOT_CONTROLLER',
  'KAFKA_STORAGE_ERROR',
  'CONNECTION_CLOSED',
  'CONNECTION_FAILED',
  'CONNECT_TIMEOUT',
  'REQUEST_TIMED_OUT',
  'NO_BROKER_AVAILABLE',
]);

/** KIP-580: exponential backoff with ±20% jitter. */
const BACKOFF_JITTER = 0.2;

/** Values at or above this are absolute clock times in withRetry's deadlineMs, below it durations. */
const ABSOLUTE_TIME_MS_MIN = 1e12;

interface CachedTopic {
  metadata: TopicMetadata;
  fetchedAtMs: number;
}

export class Cluster {
  readonly options: ResolvedClientOptions;
  readonly bootstrap: readonly BrokerAddress[];
  clusterId: string | null = null;
  controllerId = -1;
  brokers = new Map<number, BrokerNode>();

  private readonly topics = new Map<string, CachedTopic>();
  /** Topics the broker last said do not exist, with the error it gave. */
  private readonly unknownTopics = new Map<string, number>();
  private readonly pool = new Map<number, BrokerConnection>();
  private readonly opening = new Map<number, Promise<BrokerConnection>>();
  private readonly coordinators = new Map<string, number>();
  /** Coordinator addresses from FindCoordinator, so a Metadata answer that omits the node cannot strand them. */
  private readonly coordinatorNodes = new Map<number, BrokerNode>();
  private readonly findingCoordinator = new Map<string, Promise<number>>();
  private metadataFetchedAtMs = -1;
  /** Rotates the bootstrap address tried first, so one dead address is not always tried first. */
  private bootstrapCursor = 0;
  private isClosed = false;

  constructor(options: ClientOptions) {
    const resolved = resolveClientOptions(options);
    this.bootstrap = resolved.bootstrap;
    const { bootstrap: _bootstrap, ...rest } = resolved;
    this.options = rest;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  private log(message: string): void {
    this.options.log(message);
  }

  private now(): number {
    return this.options.clock.nowMs();
  }

  private checkOpen(): void {
    if (this.isClosed) throw clientError('CLIENT_CLOSED', 'the client has been closed');
  }

  // ------------------------------------------------------------------ metadata

  /**
   * Refreshes metadata for `topics` (null = all topics). Omitted: the topics already cached (or
   * none, which still refreshes brokers and controller). One attempt; callers retry.
   */
  async refreshMetadata(topics?: readonly string[] | null): Promise<void> {
    await this.fetchMetadata(topics);
  }

  /** refreshMetadata that also returns the broker's answer (per-topic errors included), for Admin. */
  async fetchMetadata(topics?: readonly string[] | null): Promise<MetadataResponse> {
    this.checkOpen();
    const wanted = topics === undefined ? [...this.topics.keys()] : topics;
    const conn = await this.anyConnection();
    const version = conn.version(ApiKey.Metadata);
    if (version < 0) {
      throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `Metadata to ${conn.address} (no common version)`);
    }
    const request: MetadataRequest = {
      ...apis.Metadata.request.create(),
      topics: metadataTopics(wanted, version),
      // v0-3 cannot turn auto-creation off (the field is implicitly true there).
      allowAutoTopicCreation: version < 4 ? true : this.options.allowAutoTopicCreation,
    };
    const response = await conn.send(apis.Metadata, version, request);
    this.applyMetadata(response, wanted === null || (version === 0 && wanted.length === 0));
    return response;
  }

  private applyMetadata(response: MetadataResponse, allTopics: boolean): void {
    const now = this.now();
    this.metadataFetchedAtMs = now;
    if (response.clusterId !== null) this.clusterId = response.clusterId;
    this.controllerId = response.controllerId;
    const brokers = new Map<number, BrokerNode>();
    for (const b of response.brokers) {
      brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    }
    // A broker that left or moved: its pooled connection points at the wrong place.
    for (const [nodeId, conn] of this.pool) {
      const b = brokers.get(nodeId) ?? this.coordinatorNodes.get(nodeId);
      if (b === undefined || b.host !== conn.host || b.port !== conn.port) {
        this.pool.delete(nodeId);
        conn.close();
      }
    }
    this.brokers = brokers;
    const seen = new Set<string>();
    for (const t of response.topics) {
      if (t.name === null) continue;
      seen.add(t.name);
      if (
        t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ||
        t.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION
      ) {
        this.topics.delete(t.name);
        this.unknownTopics.set(t.name, t.errorCode);
        continue;
      }
      this.unknownTopics.delete(t.name);
      const partitions: PartitionMetadata[] = t.partitions
        .map((p) => ({
          topic: t.name!,
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
          errorCode: p.errorCode,
        }))
        .sort((a, b) => a.partition - b.partition);
      this.topics.set(t.name, {
        metadata: {
          name: t.name,
          topicId: t.topicId,
          isInternal: t.isInternal,
          partitions,
          errorCode: t.errorCode,
        },
        fetchedAtMs: now,
      });
    }
    if (allTopics) {
      for (const name of [...this.topics.keys()]) if (!seen.has(name)) this.topics.delete(name);
    }
  }

  /** When metadata was last fetched (clock ms), -1 if never. */
  get lastMetadataRefreshMs(): number {
    return this.metadataFetchedAtMs;
  }

  /** Names of the topics in the cache. */
  cachedTopicNames(): string[] {
    return [...this.topics.keys()];
  }

  /** Cached topic metadata (refreshing when unknown or older than metadataMaxAgeMs); throws UNKNOWN_TOPIC_OR_PARTITION if the broker says so. */
  async topicMetadata(topic: string): Promise<TopicMetadata> {
    this.checkOpen();
    const cached = this.topics.get(topic);
    if (cached !== undefined && this.now() - cached.fetchedAtMs <= this.options.metadataMaxAgeMs) {
      return cached.metadata;
    }
    await this.refreshMetadata([...new Set([...this.topics.keys(), topic])]);
    const fresh = this.topics.get(topic);
    if (fresh === undefined) {
      throw kafkaError(
        this.unknownTopics.get(topic) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `topic ${topic}`,
      );
    }
    if (fresh.metadata.errorCode !== ErrorCode.NONE) {
      throw kafkaError(fresh.metadata.errorCode, `topic ${topic}`);
    }
    return fresh.metadata;
  }

  cachedTopic(topic: string): TopicMetadata | undefined {
    return this.topics.get(topic)?.metadata;
  }

  /** Drops a topic from the cache, so the next lookup asks the cluster. */
  invalidateTopic(topic: string): void {
    this.topics.delete(topic);
  }

  /** The partition's metadata; throws UNKNOWN_TOPIC_OR_PARTITION when the topic has no such partition. */
  async partitionMetadata(topic: string, partition: number): Promise<PartitionMetadata> {
    const t = await this.topicMetadata(topic);
    const p = partitionOf(t, partition);
    if (p === undefined) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition}`);
    return p;
  }

  // ------------------------------------------------------------------ connections

  private connectionOptions(): {
    clientId: string;
    connectTimeoutMs: number;
    requestTimeoutMs: number;
    maxInFlightRequests: number;
    clock: ResolvedClientOptions['clock'];
    log: (message: string) => void;
  } {
    const o = this.options;
    return {
      clientId: o.clientId,
      connectTimeoutMs: o.connectTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      maxInFlightRequests: o.maxInFlightRequests,
      clock: o.clock,
      log: o.log,
    };
  }

  /** The pooled connection to a broker (one per node), opened on demand and reopened after a close. */
  async connectionTo(nodeId: number): Promise<BrokerConnection> {
    this.checkOpen();
    const pooled = this.pool.get(nodeId);
    if (pooled !== undefined && !pooled.closed) return pooled;
    let opening = this.opening.get(nodeId);
    if (opening === undefined) {
      // Registered before any await, so concurrent callers share one open.
      opening = this.openNode(nodeId);
      this.opening.set(nodeId, opening);
      const clear = (): void => void this.opening.delete(nodeId);
      opening.then(clear, clear);
    }
    return opening;
  }

  private async openNode(nodeId: number): Promise<BrokerConnection> {
    let node = this.brokers.get(nodeId) ?? this.coordinatorNodes.get(nodeId);
    if (node === undefined) {
      await this.refreshMetadata();
      node = this.brokers.get(nodeId);
    }
    if (node === undefined) {
      throw clientError('NO_BROKER_AVAILABLE', `broker ${nodeId} is not in the cluster metadata`);
    }
    const conn = await BrokerConnection.open(node.host, node.port, this.connectionOptions(), nodeId);
    if (this.isClosed) {
      conn.close();
      throw clientError('CLIENT_CLOSED', 'the client has been closed');
    }
    this.pool.set(nodeId, conn);
    conn.onClose(() => {
      if (this.pool.get(nodeId) === conn) this.pool.delete(nodeId);
    });
    // The bootstrap connection has done its job once brokers are reachable by id.
    const boot = this.bootstrapConn;
    if (boot !== null && boot.inFlightCount + boot.queuedCount === 0) {
      boot.close();
      this.bootstrapConn = null;
    }
    return conn;
  }

  /** The connection to the current leader of a partition. */
  async leaderConnection(topic: string, partition: number): Promise<BrokerConnection> {
    const p = await this.partitionMetadata(topic, partition);
    if (p.errorCode !== ErrorCode.NONE && p.leader < 0)
      throw kafkaError(p.errorCode, `${topic}-${partition}`);
    if (p.leader < 0) throw kafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition}`);
    return this.connectionTo(p.leader);
  }

  /** The connection to the controller Metadata names (any broker when it names none). */
  async controllerConnection(): Promise<BrokerConnection> {
    if (this.metadataFetchedAtMs < 0) await this.refreshMetadata();
    if (this.controllerId >= 0 && this.brokers.has(this.controllerId))
      return this.connectionTo(this.controllerId);
    return this.anyConnection();
  }

  /**
   * Some live broker: an open pooled connection (the least busy), else a known broker, else
   * the bootstrap servers in turn. Throws NO_BROKER_AVAILABLE naming every address tried.
   */
  async anyConnection(): Promise<BrokerConnection> {
    this.checkOpen();
    let best: BrokerConnection | undefined;
    for (const conn of this.pool.values()) {
      if (conn.closed) continue;
      if (
        best === undefined ||
        conn.inFlightCount + conn.queuedCount < best.inFlightCount + best.queuedCount
      ) {
        best = conn;
      }
    }
    if (best !== undefined) return best;
    const failures: string[] = [];
    for (const nodeId of this.brokers.keys()) {
      try {
        return await this.connectionTo(nodeId);
      } catch (e) {
        if (e instanceof KafkaClientError && e.errorName === 'CLIENT_CLOSED') throw e;
        failures.push(e instanceof Error ? e.message : String(e));
      }
    }
    const n = this.bootstrap.length;
    for (let i = 0; i < n; i++) {
      const address = this.bootstrap[(this.bootstrapCursor + i) % n]!;
      try {
        const conn = await this.openBootstrap(address);
        this.bootstrapCursor = (this.bootstrapCursor + i) % n;
        return conn;
      } catch (e) {
        if (e instanceof KafkaClientError && e.errorName === 'CLIENT_CLOSED') throw e;
        failures.push(e instanceof Error ? e.message : String(e));
      }
    }
    this.bootstrapCursor = (this.bootstrapCursor + 1) % n;
    throw clientError('NO_BROKER_AVAILABLE', `no broker reachable: ${failures.join('; ')}`);
  }

  /** Bootstrap connections have no node id yet; they are kept only until a node connection exists. */
  private bootstrapConn: BrokerConnection | null = null;

  /** The bootstrap connection being opened: concurrent callers share it rather than each opening one. */
  private bootstrapOpening: Promise<BrokerConnection> | null = null;

  private openBootstrap(address: BrokerAddress): Promise<BrokerConnection> {
    if (this.bootstrapConn !== null && !this.bootstrapConn.closed) return Promise.resolve(this.bootstrapConn);
    this.bootstrapOpening ??= (async () => {
      this.log(`connecting to bootstrap server ${formatAddress(address.host, address.port)}`);
      const conn = await BrokerConnection.open(address.host, address.port, this.connectionOptions());
      if (this.isClosed) {
        conn.close();
        throw clientError('CLIENT_CLOSED', 'the client has been closed');
      }
      this.bootstrapConn = conn;
      return conn;
    })().finally(() => {
      this.bootstrapOpening = null;
    });
    return this.bootstrapOpening;
  }

  // ------------------------------------------------------------------ coordinators

  /** FindCoordinator (cached until invalidated), returns the coordinator's connection. */
  async coordinator(keyType: 'group' | 'transaction', key: string): Promise<BrokerConnection> {
    this.checkOpen();
    const cacheKey = `${keyType}\u0000${key}`;
    let nodeId = this.coordinators.get(cacheKey);
    if (nodeId === undefined) {
      let finding = this.findingCoordinator.get(cacheKey);
      if (finding === undefined) {
        finding = this.findCoordinator(keyType, key);
        this.findingCoordinator.set(cacheKey, finding);
        const clear = (): void => void this.findingCoordinator.delete(cacheKey);
        finding.then(clear, clear);
      }
      nodeId = await finding;
      this.coordinators.set(cacheKey, nodeId);
    }
    return this.connectionTo(nodeId);
  }

  /** The node id of the cached coordinator, if any. */
  cachedCoordinator(keyType: 'group' | 'transaction', key: string): number | undefined {
    return this.coordinators.get(`${keyType}\u0000${key}`);
  }

  invalidateCoordinator(keyType: 'group' | 'transaction', key: string): void {
    this.coordinators.delete(`${keyType}\u0000${key}`);
  }

  private async findCoordinator(keyType: 'group' | 'transaction', key: string): Promise<number> {
    const conn = await this.anyConnection();
    const version = conn.version(ApiKey.FindCoordinator);
    const context = `FindCoordinator for ${keyType} ${key}`;
    if (version < 0 || (keyType === 'transaction' && version < 1)) {
      throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `${context} to ${conn.address}`);
    }
    const keyTypeCode = keyType === 'group' ? 0 : 1;
    const response: FindCoordinatorResponse = await conn.send(apis.FindCoordinator, version, {
      key: version <= 3 ? key : '',
      keyType: keyTypeCode,
      coordinatorKeys: version >= 4 ? [key] : [],
    });
    let found: { nodeId: number; host: string; port: number; errorCode: number };
    if (version >= 4) {
      const c = response.coordinators.find((x) => x.key === key);
      if (c === undefined)
        throw clientError('PROTOCOL_ERROR', `${context}: the response does not answer the key`);
      found = c;
    } else {
      found = response;
    }
    if (found.errorCode !== ErrorCode.NONE) throw kafkaError(found.errorCode, context);
    const known = this.brokers.get(found.nodeId);
    this.coordinatorNodes.set(found.nodeId, {
      nodeId: found.nodeId,
      host: found.host,
      port: found.port,
      rack: known?.rack ?? null,
    });
    if (known === undefined || known.host !== found.host || known.port !== found.port) {
      this.brokers.set(found.nodeId, {
        nodeId: found.nodeId,
        host: found.host,
        port: found.port,
        rack: known?.rack ?? null,
      });
    }
    return found.nodeId;
  }

  // ------------------------------------------------------------------ retries

  /** The wait before retry number `attempt` (1-based): exponential from retryBackoffMs to retryBackoffMaxMs, ±20% jitter. */
  backoffMs(attempt: number): number {
    const { retryBackoffMs, retryBackoffMaxMs } = this.options;
    const exp = Math.min(retryBackoffMaxMs, retryBackoffMs * 2 ** Math.min(attempt - 1, 30));
    const jitter = 1 - BACKOFF_JITTER + Math.random() * 2 * BACKOFF_JITTER;
    return Math.max(1, Math.round(Math.min(retryBackoffMaxMs, exp * jitter)));
  }

  /**
   * Runs fn, retrying retriable KafkaClientErrors with backoff until the deadline, then rethrows
   * the last error. `deadlineMs`: an absolute clock time, or (below 10^12) a duration from now;
   * default defaultApiTimeoutMs. On errors that mean stale leaders or brokers it refreshes
   * metadata before the next attempt; NOT_COORDINATOR/COORDINATOR_NOT_AVAILABLE are for the
   * caller to handle (invalidateCoordinator) inside fn.
   */
  async withRetry<T>(what: string, fn: () => Promise<T>, deadlineMs?: number): Promise<T> {
    const start = this.now();
    const deadline =
      deadlineMs === undefined
        ? start + this.options.defaultApiTimeoutMs
        : deadlineMs >= ABSOLUTE_TIME_MS_MIN
          ? deadlineMs
          : start + deadlineMs;
    for (let attempt = 1; ; attempt++) {
      this.checkOpen();
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof KafkaClientError) || !e.retriable || attempt >= MAX_RETRY_ATTEMPTS) throw e;
        const waitMs = this.backoffMs(attempt);
        if (this.now() + waitMs >= deadline) throw e;
        this.log(`${what}: ${e.message}; retrying in ${waitMs} ms (attempt ${attempt + 1})`);
        await this.sleep(waitMs);
        if (REFRESH_METADATA_ON.has(e.errorName) && !this.isClosed) {
          try {
            await this.refreshMetadata();
          } catch (refreshError) {
            // The next attempt fails on its own if the cluster is still unreachable.
            this.log(`${what}: metadata refresh failed: ${String(refreshError)}`);
          }
        }
      }
    }
  }

  /**
   * Runs `fn` after `delayMs` on the client's clock; returns the cancel. On the system clock a
   * plain (ref'd) timer: the system clock's timers do not keep the process alive, and between
   * attempts there may be no open socket either, so a tool would exit mid-retry, or a producer
   * with records still to send while the broker is unreachable.
   */
  schedule(delayMs: number, fn: () => void): () => void {
    const ms = Math.min(Math.max(0, delayMs), TIMER_MS_MAX);
    if (this.options.clock === systemClock) {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    }
    return this.options.clock.schedule(ms, fn);
  }

  /** Resolves after `ms` on the client's clock (see schedule). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const conn of this.pool.values()) conn.close();
    this.pool.clear();
    this.bootstrapConn?.close();
    this.bootstrapConn = null;
    // Connections still opening are closed as they arrive (connectionTo checks isClosed).
    await Promise.allSettled([...this.opening.values()]);
  }
}

/** The topics field of a Metadata request: names (v10+ with the zero id); null = all topics from v1, [] at v0. */
function metadataTopics(
  wanted: readonly string[] | null,
  version: number,
): MetadataRequest.MetadataRequestTopic[] | null {
  if (wanted === null) return version === 0 ? [] : null;
  return wanted.map((name) => ({ topicId: ZERO_UUID, name }));
}
