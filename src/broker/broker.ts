/**
 * The broker: one node in combined mode (broker and controller), wiring the network server,
 * the metadata log and controller, the log manager and the replica manager.
 *
 * Start: bind the listener, open the metadata log and replay it, open every partition log
 * (recovering after an unclean shutdown), host the partitions, then answer requests (requests
 * that arrive earlier wait). Stop: stop accepting, let in-flight requests finish, close the
 * metadata log and the logs (flushed, checkpoints and clean-shutdown marker written).
 */
import { GroupCoordinator } from '../coordinator/group-coordinator.js';
import { TransactionCoordinator } from '../coordinator/transaction/txn-coordinator.js';
import { writeTxnMarkers } from './txn-markers.js';
import { syncTxnShards } from './txn-coordination.js';
import { topicsViewOf, syncCoordinatorShards } from './group-coordination.js';
import { consumerGroupsFactory } from './consumer-groups-factory.js';
import { Controller } from '../metadata/controller.js';
import { apis } from '../protocol/generated/api-keys.js';
import type { MetadataDelta } from '../metadata/image.js';
import type { MetadataImage } from '../metadata/image.js';
import { LocalMetadataLog, METADATA_TOPIC } from '../metadata/metadata-log.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { nodeFileSystem, type FileSystem } from '../runtime/fs.js';
import { cryptoRandom, type Random } from '../runtime/random.js';
import { CLEAN_SHUTDOWN_FILE } from '../storage/files.js';
import { LogCleaner } from '../storage/cleaner.js';
import { LogManager, type Compactor } from '../storage/log-manager.js';
import type { BrokerConfig } from './config.js';
import { makeFrameHandler } from './dispatch.js';
import { FetchSessionCache } from './fetch-session-cache.js';
import { HANDLERS } from './handlers/index.js';
import type { Handler } from './handlers/types.js';
import { DEFAULT_NETWORK_LIMITS, NetworkServer } from './network/server.js';
import { ReplicaManager } from './replica-manager.js';
import { ProducerIdManager } from './producer-ids.js';
import type { BrokerServices } from './services.js';
import { lockDirs } from './dir-lock.js';
import { readOrCreateMetaProperties } from './meta-properties.js';

const CONSUMER_PROTOCOL_APIS = new Set<number>([
  apis.ConsumerGroupHeartbeat.apiKey,
  apis.ConsumerGroupDescribe.apiKey,
]);

export interface BrokerStartOptions {
  config: BrokerConfig;
  fs?: FileSystem;
  clock?: Clock;
  random?: Random;
  log?: (message: string) => void;
}

export class Broker implements BrokerServices {
  readonly config: BrokerConfig;
  readonly nodeId: number;
  readonly clock: Clock;
  readonly fetchSessions: FetchSessionCache;
  readonly handlers: readonly Handler[];
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly fs: FileSystem;
  private readonly random: Random;
  private readonly logLine: (m: string) => void;
  private readonly server: NetworkServer;
  private clusterIdValue = '';
  private advertisedValue = { host: '127.0.0.1', port: 0 };
  private controllerValue: Controller | null = null;
  private logManagerValue: LogManager | null = null;
  private replicaManagerValue: ReplicaManager | null = null;
  private groupCoordinatorValue: GroupCoordinator | null = null;
  private txnCoordinatorValue: TransactionCoordinator | null = null;
  private metadataLog: LocalMetadataLog | null = null;
  private producerIdsValue: ProducerIdManager | null = null;
  private stopping: Promise<void> | null = null;
  private releaseLocks: (() => void) | null = null;

  private constructor(o: BrokerStartOptions) {
    this.config = o.config;
    this.nodeId = o.config.nodeId;
    // Without "consumer" in group.coordinator.rebalance.protocols the KIP-848 APIs are not served (nor advertised).
    this.handlers = o.config.groupCoordinatorRebalanceProtocols.includes('consumer')
      ? HANDLERS
      : HANDLERS.filter((h) => !CONSUMER_PROTOCOL_APIS.has(h.api.apiKey));
    this.fs = o.fs ?? nodeFileSystem;
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? cryptoRandom;
    this.fetchSessions = new FetchSessionCache({
      maxEntries: o.config.maxIncrementalFetchSessionCacheSlots,
      clock: this.clock,
      random: this.random,
    });
    this.logLine = o.log ?? ((m) => console.log(m));
    this.ready = new Promise<void>((r) => (this.markReady = r));
    const c = o.config;
    this.server = new NetworkServer(
      makeFrameHandler(this, this.handlers),
      {
        ...DEFAULT_NETWORK_LIMITS,
        maxFrameBytes: c.socketRequestMaxBytes,
        maxConnections: Math.min(c.maxConnections, DEFAULT_NETWORK_LIMITS.maxConnections),
        idleMs: c.connectionsMaxIdleMs < 0 ? 2 ** 31 - 1 : Math.min(c.connectionsMaxIdleMs, 2 ** 31 - 1),
      },
      this.logLine,
    );
  }

  static async start(o: BrokerStartOptions): Promise<Broker> {
    const broker = new Broker(o);
    try {
      await broker.startUp();
    } catch (e) {
      await broker.stop().catch(() => undefined);
      throw e;
    }
    return broker;
  }

  private async startUp(): Promise<void> {
    const started = Date.now();
    const c = this.config;
    const firstDir = c.logDirs[0]!;
    for (const dir of c.logDirs) await this.fs.mkdir(dir);
    this.releaseLocks = lockDirs(c.logDirs);
    const meta = await readOrCreateMetaProperties(this.fs, c.logDirs, c.nodeId, c.clusterId, this.random);
    this.clusterIdValue = meta.clusterId;

    const listener = c.listeners.find((l) => !c.controllerListenerNames.includes(l.name)) ?? c.listeners[0]!;
    const port = await this.server.listen(listener.host, listener.port);
    const advertised = c.advertisedListeners.find((l) => l.name === listener.name);
    const advertisedHost = advertised?.host || listener.host || '127.0.0.1';
    this.advertisedValue = {
      host: advertisedHost,
      port: advertised && advertised.port !== 0 ? advertised.port : port,
    };

    const cleanShutdown = (await this.fs.stat(`${firstDir}/${CLEAN_SHUTDOWN_FILE}`)) !== null;
    this.metadataLog = await LocalMetadataLog.open({
      fs: this.fs,
      clock: this.clock,
      dir: firstDir,
      cleanShutdown,
      log: this.logLine,
    });
    this.logManagerValue = await LogManager.open({
      fs: this.fs,
      clock: this.clock,
      logDirs: [...c.logDirs],
      configFor: (topic) => this.controllerValue?.topicConfig(topic) ?? c.logDefaults,
      log: this.logLine,
      excludeTopics: [METADATA_TOPIC],
      ...(c.logCleanerEnable ? { compactor: this.compactor() } : {}),
      schedule: {
        retentionCheckIntervalMs: c.logRetentionCheckIntervalMs,
        flushCheckIntervalMs: Number.isFinite(c.logFlushSchedulerIntervalMs)
          ? c.logFlushSchedulerIntervalMs
          : 1000,
        checkpointIntervalMs: c.logFlushOffsetCheckpointIntervalMs,
        cleanerBackoffMs: c.logCleanerBackoffMs,
        producerExpirationCheckIntervalMs: c.producerIdExpirationCheckIntervalMs,
        producerIdExpirationMs: c.producerIdExpirationMs,
      },
    });
    const replicaManager = new ReplicaManager(this.logManagerValue, c.nodeId, this.logLine);
    this.replicaManagerValue = replicaManager;
    this.groupCoordinatorValue = new GroupCoordinator({
      clock: this.clock,
      random: this.random,
      topics: () => topicsViewOf(() => this.image()),
      consumerGroups: consumerGroupsFactory(c, this.random),
      logLine: this.logLine,
      config: {
        minSessionTimeoutMs: c.groupMinSessionTimeoutMs,
        maxSessionTimeoutMs: c.groupMaxSessionTimeoutMs,
        initialRebalanceDelayMs: c.groupInitialRebalanceDelayMs,
        maxSize: c.groupMaxSize,
        offsetMetadataMaxBytes: c.offsetMetadataMaxBytes,
        offsetsRetentionMs: c.offsetsRetentionMinutes * 60_000,
        offsetsRetentionCheckIntervalMs: c.offsetsRetentionCheckIntervalMs,
      },
    });
    this.txnCoordinatorValue = new TransactionCoordinator({
      clock: this.clock,
      config: {
        transactionMaxTimeoutMs: c.transactionMaxTimeoutMs,
        abortTimedOutIntervalMs: c.transactionAbortTimedOutTransactionCleanupIntervalMs,
        removeExpiredIntervalMs: c.transactionRemoveExpiredTransactionCleanupIntervalMs,
        transactionalIdExpirationMs: c.transactionalIdExpirationMs,
      },
      nextProducerId: () => this.producerIds.nextId(),
      writeMarkers: async (m) => (await writeTxnMarkers(this, [m]))[0] ?? [],
      partitionExists: (topic, partition) =>
        this.image().topicsByName.get(topic)?.partitions.has(partition) === true,
      logLine: this.logLine,
    });
    this.controllerValue = await Controller.start({
      log: this.metadataLog,
      random: this.random,
      nodeId: c.nodeId,
      endpoints: [
        { listener: listener.name, host: this.advertisedValue.host, port: this.advertisedValue.port },
      ],
      defaultNumPartitions: c.numPartitions,
      defaultReplicationFactor: c.defaultReplicationFactor,
      topicDefaults: c.logDefaults,
      onCommit: async (image, delta) => {
        await replicaManager.applyDelta(image, delta);
        this.onMetadataCommitted(image, delta);
      },
    });
    const image = this.controllerValue.image;
    for (const topic of image.topicsByName.keys()) this.logManagerValue.updateConfig(topic);
    await replicaManager.loadFromImage(image);
    syncCoordinatorShards(this, image);
    syncTxnShards(this, image);
    this.groupCoordinatorValue.start();
    this.txnCoordinatorValue.start();
    this.logManagerValue.startBackgroundTasks();
    this.markReady();
    this.logLine(
      `samsa broker ${c.nodeId} (cluster ${this.clusterIdValue}) listening on ${listener.host || '0.0.0.0'}:${port}, advertised as ${this.advertisedValue.host}:${this.advertisedValue.port}; data in ${c.logDirs.join(', ')}; started in ${Date.now() - started} ms`,
    );
  }

  /**
   * The log cleaner, cleaning no further than a partition's last stable offset: what a
   * follower might still truncate must not decide which older values of a key are deleted.
   */
  private compactor(): Compactor {
    const cleaner = new LogCleaner({ clock: this.clock, log: this.logLine });
    return {
      clean: async (log, firstDirtyOffset) => {
        const tp = log.topicPartition;
        const partition = this.replicaManagerValue?.getPartition(tp.topic, tp.partition);
        const maxCleanableOffset = partition?.lastStableOffset ?? log.logEndOffset;
        const result = await cleaner.clean(log, firstDirtyOffset, { maxCleanableOffset });
        return result?.cleanedUpTo ?? null;
      },
      close: () => cleaner.flushPendingDeletes(),
    };
  }

  get clusterId(): string {
    return this.clusterIdValue;
  }

  get advertised(): { host: string; port: number } {
    return this.advertisedValue;
  }

  get port(): number {
    return this.advertisedValue.port;
  }

  image(): MetadataImage {
    return this.controller.image;
  }

  get controller(): Controller {
    if (this.controllerValue === null) throw new Error('broker not started');
    return this.controllerValue;
  }

  get producerIds(): ProducerIdManager {
    this.producerIdsValue ??= new ProducerIdManager(this.controller, this.nodeId);
    return this.producerIdsValue;
  }

  get logManager(): LogManager {
    if (this.logManagerValue === null) throw new Error('broker not started');
    return this.logManagerValue;
  }

  /** Committed metadata reached the partitions: coordinator shards follow leadership and topic changes. */
  private onMetadataCommitted(image: MetadataImage, delta: MetadataDelta): void {
    if (this.groupCoordinatorValue === null) return;
    syncCoordinatorShards(this, image);
    if (this.txnCoordinatorValue !== null) syncTxnShards(this, image);
    if (delta.createdTopics.length + delta.deletedTopics.length + delta.changedTopics.length > 0) {
      this.groupCoordinatorValue.onTopicsChanged(delta.deletedTopics.map((t) => t.name));
    }
  }

  get groupCoordinator(): GroupCoordinator {
    if (this.groupCoordinatorValue === null) throw new Error('broker not started');
    return this.groupCoordinatorValue;
  }

  get txnCoordinator(): TransactionCoordinator {
    if (this.txnCoordinatorValue === null) throw new Error('broker not started');
    return this.txnCoordinatorValue;
  }

  get replicaManager(): ReplicaManager {
    if (this.replicaManagerValue === null) throw new Error('broker not started');
    return this.replicaManagerValue;
  }

  log(message: string): void {
    this.logLine(message);
  }

  /** Stops accepting requests, answers those in flight, flushes and closes everything. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Requests waiting in a rebalance are answered (NOT_COORDINATOR) rather than held past the drain.
      await this.groupCoordinatorValue?.close();
      await this.txnCoordinatorValue?.close();
      await this.server.close();
      this.replicaManagerValue?.clear();
      await this.metadataLog?.close();
      await this.logManagerValue?.close();
      this.releaseLocks?.();
      this.logLine(`samsa broker ${this.nodeId} stopped`);
    })();
    return this.stopping;
  }
}
