/** What handlers reach of the broker: its config, the metadata image, the controller, the partitions. */
import type { GroupCoordinator } from '../coordinator/group-coordinator.js';
import type { TransactionCoordinator } from '../coordinator/transaction/txn-coordinator.js';
import type { Controller } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/image.js';
import type { Clock } from '../runtime/clock.js';
import type { LogManager } from '../storage/log-manager.js';
import type { BrokerConfig } from './config.js';
import type { FetchSessionCache } from './fetch-session-cache.js';
import type { ProducerIdManager } from './producer-ids.js';
import type { Handler } from './handlers/types.js';
import type { ReplicaManager } from './replica-manager.js';

export interface BrokerServices {
  readonly config: BrokerConfig;
  readonly nodeId: number;
  readonly clusterId: string;
  /** Resolves once metadata, logs and partitions are loaded; requests wait for it. */
  readonly ready: Promise<void>;
  /** The latest committed metadata. */
  image(): MetadataImage;
  readonly controller: Controller;
  readonly replicaManager: ReplicaManager;
  /** Consumer groups and committed offsets (the shards of `__consumer_offsets` this broker leads). */
  readonly groupCoordinator: GroupCoordinator;
  /** Transactional ids (the shards of `__transaction_state` this broker leads). */
  readonly txnCoordinator: TransactionCoordinator;
  readonly logManager: LogManager;
  readonly clock: Clock;
  /** Incremental fetch sessions (KIP-227), shared by every connection. */
  readonly fetchSessions: FetchSessionCache;
  /** Producer ids for InitProducerId, in blocks from the controller. */
  readonly producerIds: ProducerIdManager;
  /** Every handler this broker serves (ApiVersions lists them). */
  readonly handlers: readonly Handler[];
  /** Where clients reach this broker: the first advertised listener with its bound port. */
  readonly advertised: { host: string; port: number };
  log(message: string): void;
}
