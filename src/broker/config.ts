/**
 * Broker configuration: Kafka's `server.properties`, with Kafka's key names, types and (mostly)
 * defaults, turned into a typed `BrokerConfig`.
 *
 * - `.properties` text is read by `parseProperties` (src/runtime/properties.ts).
 * - `BROKER_CONFIG_DEFINITIONS` is the one table of broker keys Samsa understands: name, type,
 *   default, validator, short doc. The rows for broker keys that default a topic config
 *   (`log.segment.bytes`, `log.retention.hours`, `message.max.bytes`, …) are generated from
 *   `LOG_CONFIG_DEFINITIONS[].brokerKeys` in `storage/log-config.ts`, never retyped here.
 * - `loadBrokerConfig({ propertiesText, overrides })` parses, applies `--override key=value`
 *   over the file, validates every value and the cross-key rules, and returns the typed config
 *   with one warning per unknown key (Kafka logs unknown keys and carries on) — or a
 *   `BrokerConfigError` naming the key, the value and why.
 * - `brokerConfigEntries(config)` gives the DescribeConfigs rows of a BROKER resource.
 *
 * Topic defaults (`message.max.bytes`, `min.insync.replicas`, `unclean.leader.election.enable`,
 * `log.*`) are not copied into `BrokerConfig` fields: they live in `config.logDefaults`, the
 * `LogConfig` that `resolveBrokerLogConfig` (the non-throwing form of `defaultLogConfig`) derives
 * from the same properties, so synonym precedence (`log.retention.ms` > `.minutes` > `.hours`)
 * has one implementation.
 *
 * Deliberate differences from Apache Kafka 3.9 (each marked `kafkaDefault` in the table):
 *
 * - `process.roles` defaults to `broker,controller` and may not be empty (Samsa has no
 *   ZooKeeper mode); `node.id` defaults to 1 (Kafka requires it); `listeners` defaults to
 *   `PLAINTEXT://127.0.0.1:9092` (Kafka binds all interfaces) so a laptop broker is not exposed;
 *   `log.dir` defaults to `./samsa-data` (Kafka: `/tmp/kafka-logs`).
 * - `offsets.topic.replication.factor`, `transaction.state.log.replication.factor` and
 *   `transaction.state.log.min.isr` default to 1 (Kafka: 3, 3, 2). Samsa's default deployment is
 *   one node, where Kafka's defaults make the internal topics impossible to create (Kafka's own
 *   single-node example server.properties sets all three to 1). Clusters set them as in Kafka.
 * - Combined mode may leave `controller.listener.names` and `controller.quorum.voters` empty:
 *   that is a one-voter quorum of this node, with no controller listener. Kafka requires both.
 * - Only PLAINTEXT listeners are accepted; a listener mapped to SSL or SASL is an error rather
 *   than a listener that silently speaks plaintext.
 * - Without `inter.broker.listener.name`, the PLAINTEXT advertised listener is used, else the
 *   first advertised one (Kafka fails unless one is named PLAINTEXT).
 * - `max.connections` / `max.connections.per.ip` keep Kafka's default (2147483647: no limit in
 *   practice; the OS file-descriptor limit binds first) and the server enforces whatever is set.
 *   `max.connections.per.ip=0` is rejected: it is only meaningful with
 *   `max.connections.per.ip.overrides`, which Samsa does not support.
 * - `num.network.threads`, `num.io.threads`, `socket.send.buffer.bytes` and
 *   `socket.receive.buffer.bytes` are parsed and validated but have no effect (one event loop;
 *   Node cannot set SO_SNDBUF/SO_RCVBUF on TCP sockets) — `effect: 'none'` in the table.
 * - `cluster.id` is accepted here as a Samsa extension (Kafka keeps it only in meta.properties).
 * - Every entry is `readOnly` in DescribeConfigs: Samsa has no dynamic broker configs yet.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { isPropertiesError, readProperties } from '../runtime/properties.js';
import {
  CONFIG_SOURCE_ID,
  LOG_CONFIG_DEFINITIONS,
  LONG_MAX_STRING,
  defaultLogConfig,
  formatLogConfigValue,
  isConfigError,
  resolveBrokerLogConfig,
  type AnyLogConfigDefinition,
  type LogConfig,
  type LogConfigValidator,
} from '../storage/log-config.js';

// ---------------------------------------------------------------------------------------------
// The definitions table

/** Kafka's ConfigDef types used by broker keys. */
export type BrokerConfigType = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list';

/** DescribeConfigs v3+ `ConfigType` ids. */
export const BROKER_CONFIG_TYPE_ID: Readonly<Record<BrokerConfigType, number>> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
};

export interface BrokerConfigDefinition {
  /** Kafka's broker key. */
  readonly name: string;
  readonly type: BrokerConfigType;
  /** The default as Kafka prints it; `null` means unset (no value). */
  readonly default: string | null;
  /** Kafka's default, where Samsa deliberately differs (see the header). */
  readonly kafkaDefault?: string | null;
  readonly validator?: LogConfigValidator;
  readonly doc: string;
  /** 'none': parsed and validated for compatibility, but Samsa never acts on it. */
  readonly effect: 'applied' | 'none';
  /** For a broker key that defaults a topic config: that topic config's definition. */
  readonly topicConfig?: AnyLogConfigDefinition;
  /** For `log.retention.hours` and the like: the unit the broker key is written in. */
  readonly unit?: 'minutes' | 'hours';
}

const INT_MAX_STRING = '2147483647';
const atLeast = (min: number): LogConfigValidator => ({ kind: 'range', min });

/** Broker keys that are not topic-config synonyms. */
const BROKER_ONLY: readonly BrokerConfigDefinition[] = [
  // KRaft and identity
  {
    name: 'process.roles',
    type: 'list',
    default: 'broker,controller',
    kafkaDefault: '',
    validator: { kind: 'list', values: ['broker', 'controller'] },
    doc: 'What this node runs: the broker, the metadata controller, or both (combined mode, the single-node default).',
    effect: 'applied',
  },
  {
    name: 'node.id',
    type: 'int',
    default: '1',
    kafkaDefault: '-1',
    validator: atLeast(0),
    doc: 'This node’s id, unique in the cluster; brokers and controllers share the id space.',
    effect: 'applied',
  },
  {
    name: 'cluster.id',
    type: 'string',
    default: null,
    doc: 'Samsa extension: the expected cluster id (22-character base64url UUID); Kafka keeps it only in meta.properties.',
    effect: 'applied',
  },
  {
    name: 'controller.listener.names',
    type: 'string',
    default: null,
    doc: 'Comma-separated names of the listeners that serve the metadata quorum; empty in combined mode means an in-process one-voter quorum.',
    effect: 'applied',
  },
  {
    name: 'controller.quorum.voters',
    type: 'list',
    default: '',
    doc: 'Static quorum membership as id@host:port entries; empty in combined mode means this node alone.',
    effect: 'applied',
  },
  {
    name: 'controller.quorum.bootstrap.servers',
    type: 'list',
    default: '',
    doc: 'host:port entries used to find the quorum when voters are not listed statically.',
    effect: 'applied',
  },
  // Listeners and sockets
  {
    name: 'listeners',
    type: 'string',
    default: 'PLAINTEXT://127.0.0.1:9092',
    kafkaDefault: 'PLAINTEXT://:9092',
    doc: 'Comma-separated NAME://host:port addresses to accept connections on; an empty host means every interface, port 0 a free port.',
    effect: 'applied',
  },
  {
    name: 'advertised.listeners',
    type: 'string',
    default: null,
    doc: 'Addresses handed to clients in metadata, per listener name; unset means the listeners themselves (minus controller listeners).',
    effect: 'applied',
  },
  {
    name: 'listener.security.protocol.map',
    type: 'string',
    default: 'SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT',
    doc: 'NAME:PROTOCOL pairs giving each listener its security protocol; Samsa serves PLAINTEXT only for now.',
    effect: 'applied',
  },
  {
    name: 'inter.broker.listener.name',
    type: 'string',
    default: null,
    doc: 'The advertised listener other brokers use to reach this one; unset picks PLAINTEXT, else the first advertised listener.',
    effect: 'applied',
  },
  {
    name: 'socket.request.max.bytes',
    type: 'int',
    default: String(100 * 1024 * 1024),
    validator: atLeast(1),
    doc: 'Largest request frame accepted; a bigger size prefix closes the connection.',
    effect: 'applied',
  },
  {
    name: 'socket.send.buffer.bytes',
    type: 'int',
    default: String(100 * 1024),
    validator: atLeast(-1),
    doc: 'Accepted for compatibility, no effect: Node cannot size a TCP socket’s kernel send buffer.',
    effect: 'none',
  },
  {
    name: 'socket.receive.buffer.bytes',
    type: 'int',
    default: String(100 * 1024),
    validator: atLeast(-1),
    doc: 'Accepted for compatibility, no effect: Node cannot size a TCP socket’s kernel receive buffer.',
    effect: 'none',
  },
  {
    name: 'max.connections',
    type: 'int',
    default: INT_MAX_STRING,
    validator: atLeast(0),
    doc: 'Open client connections allowed at once across all listeners; new ones beyond it are refused.',
    effect: 'applied',
  },
  {
    name: 'max.connections.per.ip',
    type: 'int',
    default: INT_MAX_STRING,
    validator: atLeast(0),
    doc: 'Open connections allowed from one client address; 0 is rejected (per-address overrides are not supported).',
    effect: 'applied',
  },
  {
    name: 'connections.max.idle.ms',
    type: 'long',
    default: String(10 * 60 * 1000),
    doc: 'Connections with no traffic for this long are closed; a negative value never closes them.',
    effect: 'applied',
  },
  {
    name: 'queued.max.requests',
    type: 'int',
    default: '500',
    validator: atLeast(1),
    doc: 'Requests read but not yet handled before the server stops reading from sockets.',
    effect: 'applied',
  },
  {
    name: 'num.network.threads',
    type: 'int',
    default: '3',
    validator: atLeast(1),
    doc: 'Accepted for compatibility, no effect: Samsa does network I/O on the Node event loop.',
    effect: 'none',
  },
  {
    name: 'num.io.threads',
    type: 'int',
    default: '8',
    validator: atLeast(1),
    doc: 'Accepted for compatibility, no effect: requests are handled on the Node event loop.',
    effect: 'none',
  },
  // Fetch
  {
    name: 'max.incremental.fetch.session.cache.slots',
    type: 'int',
    default: '1000',
    validator: atLeast(0),
    doc: 'Incremental fetch sessions (KIP-227) kept at once; past it new sessions evict idle or smaller ones, or the fetch stays sessionless.',
    effect: 'applied',
  },
  // Logs (broker-level; the topic defaults come from log-config below)
  {
    name: 'log.dirs',
    type: 'string',
    default: null,
    doc: 'Comma-separated data directories for partition logs; when unset, log.dir is used.',
    effect: 'applied',
  },
  {
    name: 'log.dir',
    type: 'string',
    default: './samsa-data',
    kafkaDefault: '/tmp/kafka-logs',
    doc: 'Data directory used when log.dirs is not set.',
    effect: 'applied',
  },
  {
    name: 'log.retention.check.interval.ms',
    type: 'long',
    default: String(5 * 60 * 1000),
    validator: atLeast(1),
    doc: 'How often logs are checked for segments past retention.',
    effect: 'applied',
  },
  {
    name: 'log.flush.offset.checkpoint.interval.ms',
    type: 'int',
    default: '60000',
    validator: atLeast(0),
    doc: 'How often each data directory’s recovery-point checkpoint is written.',
    effect: 'applied',
  },
  {
    name: 'log.cleaner.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Run background compaction for topics with the compact cleanup policy.',
    effect: 'applied',
  },
  {
    name: 'log.cleaner.backoff.ms',
    type: 'long',
    default: '15000',
    validator: atLeast(0),
    doc: 'Pause of the compactor when no log needs cleaning.',
    effect: 'applied',
  },
  // Topics
  {
    name: 'num.partitions',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    doc: 'Partitions of a topic created without an explicit count (auto-created, or CreateTopics with -1).',
    effect: 'applied',
  },
  {
    name: 'default.replication.factor',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    doc: 'Replicas of a topic created without an explicit replication factor.',
    effect: 'applied',
  },
  {
    name: 'auto.create.topics.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Create a topic when a client asks metadata for, or produces to, one that does not exist.',
    effect: 'applied',
  },
  {
    name: 'delete.topic.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Allow DeleteTopics; when false, deletion requests are refused.',
    effect: 'applied',
  },
  // Group coordinator
  {
    name: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: '3000',
    validator: atLeast(0),
    doc: 'How long a new classic group waits for more members before its first rebalance.',
    effect: 'applied',
  },
  {
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: '50',
    validator: atLeast(1),
    doc: 'Partitions of __consumer_offsets; fixed once the topic exists.',
    effect: 'applied',
  },
  {
    name: 'offsets.topic.replication.factor',
    type: 'short',
    default: '1',
    kafkaDefault: '3',
    validator: atLeast(1),
    doc: 'Replicas of __consumer_offsets; its creation waits until this many brokers are up.',
    effect: 'applied',
  },
  {
    name: 'offsets.retention.minutes',
    type: 'int',
    default: String(7 * 24 * 60),
    validator: atLeast(1),
    doc: 'How long committed offsets of an empty group are kept.',
    effect: 'applied',
  },
  {
    name: 'offsets.topic.segment.bytes',
    type: 'int',
    default: String(100 * 1024 * 1024),
    validator: atLeast(1),
    doc: 'segment.bytes of __consumer_offsets, kept small so compaction and loading stay quick.',
    effect: 'applied',
  },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: '600000',
    validator: atLeast(1),
    doc: 'How often the coordinator looks for expired offsets and empty groups to delete.',
    effect: 'applied',
  },
  {
    name: 'offset.metadata.max.bytes',
    type: 'int',
    default: '4096',
    validator: atLeast(0),
    doc: 'Largest metadata string an offset commit may carry (OFFSET_METADATA_TOO_LARGE beyond).',
    effect: 'applied',
  },
  {
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: '6000',
    validator: atLeast(0),
    doc: 'Smallest session timeout a classic group member may ask for (INVALID_SESSION_TIMEOUT below).',
    effect: 'applied',
  },
  {
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: '1800000',
    validator: atLeast(0),
    doc: 'Largest session timeout a classic group member may ask for (INVALID_SESSION_TIMEOUT above).',
    effect: 'applied',
  },
  {
    name: 'group.max.size',
    type: 'int',
    default: String(2 ** 31 - 1),
    validator: atLeast(1),
    doc: 'Most members a classic group may have (GROUP_MAX_SIZE_REACHED beyond).',
    effect: 'applied',
  },
  {
    name: 'group.coordinator.rebalance.protocols',
    type: 'list',
    default: 'classic,consumer',
    validator: { kind: 'list', values: ['classic', 'consumer'] },
    doc: 'Group protocols served: classic (JoinGroup/SyncGroup) and consumer (KIP-848 ConsumerGroupHeartbeat).',
    effect: 'applied',
  },
  {
    name: 'group.consumer.session.timeout.ms',
    type: 'int',
    default: '45000',
    validator: atLeast(1),
    doc: 'Session timeout of consumer-protocol (KIP-848) members.',
    effect: 'applied',
  },
  {
    name: 'group.consumer.heartbeat.interval.ms',
    type: 'int',
    default: '5000',
    validator: atLeast(1),
    doc: 'Heartbeat interval the coordinator gives consumer-protocol (KIP-848) members.',
    effect: 'applied',
  },
  {
    name: 'group.consumer.max.size',
    type: 'int',
    default: String(2 ** 31 - 1),
    validator: atLeast(1),
    doc: 'Most members a consumer-protocol (KIP-848) group may have.',
    effect: 'applied',
  },
  {
    name: 'group.consumer.assignors',
    type: 'list',
    default: 'uniform,range',
    kafkaDefault:
      'org.apache.kafka.coordinator.group.assignor.UniformAssignor,org.apache.kafka.coordinator.group.assignor.RangeAssignor',
    validator: {
      kind: 'list',
      values: [
        'uniform',
        'range',
        'org.apache.kafka.coordinator.group.assignor.UniformAssignor',
        'org.apache.kafka.coordinator.group.assignor.RangeAssignor',
      ],
    },
    doc: 'Server-side assignors of consumer-protocol groups, by name or Kafka class name; the first is the default.',
    effect: 'applied',
  },
  // Transaction coordinator
  {
    name: 'transaction.state.log.num.partitions',
    type: 'int',
    default: '50',
    validator: atLeast(1),
    doc: 'Partitions of __transaction_state; fixed once the topic exists.',
    effect: 'applied',
  },
  {
    name: 'transaction.state.log.replication.factor',
    type: 'short',
    default: '1',
    kafkaDefault: '3',
    validator: atLeast(1),
    doc: 'Replicas of __transaction_state; its creation waits until this many brokers are up.',
    effect: 'applied',
  },
  {
    name: 'transaction.state.log.min.isr',
    type: 'int',
    default: '1',
    kafkaDefault: '2',
    validator: atLeast(1),
    doc: 'min.insync.replicas of __transaction_state.',
    effect: 'applied',
  },
  {
    name: 'transaction.max.timeout.ms',
    type: 'int',
    default: '900000',
    validator: atLeast(1),
    doc: 'The longest transaction timeout a producer may ask for (INVALID_TRANSACTION_TIMEOUT beyond).',
    effect: 'applied',
  },
  {
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: '10000',
    validator: atLeast(1),
    doc: 'How often the transaction coordinator aborts transactions open longer than their timeout.',
    effect: 'applied',
  },
  {
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: '3600000',
    validator: atLeast(1),
    doc: 'How often the transaction coordinator removes transactional ids past transactional.id.expiration.ms.',
    effect: 'applied',
  },
  {
    name: 'transaction.partition.verification.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Check with the transaction coordinator that a transactional batch’s partition is in its transaction before appending it (KIP-890).',
    effect: 'applied',
  },
  {
    name: 'transactional.id.expiration.ms',
    type: 'int',
    default: String(7 * 24 * 3_600_000),
    validator: atLeast(1),
    doc: 'A transactional id unused for this long is forgotten by the coordinator.',
    effect: 'applied',
  },
  {
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: String(24 * 3_600_000),
    validator: atLeast(1),
    doc: 'A partition forgets an idempotent producer’s sequence state after this long without writes from it.',
    effect: 'applied',
  },
  {
    name: 'producer.id.expiration.check.interval.ms',
    type: 'int',
    default: '600000',
    validator: atLeast(1),
    doc: 'How often partitions look for producers idle longer than producer.id.expiration.ms.',
    effect: 'applied',
  },
];

const UNIT_MS = { minutes: 60_000, hours: 3_600_000 } as const;

/** The broker keys that default topic configs, generated from log-config's `brokerKeys`. */
function logSynonymRows(): BrokerConfigDefinition[] {
  const defaults = defaultLogConfig();
  const rows: BrokerConfigDefinition[] = [];
  for (const def of LOG_CONFIG_DEFINITIONS) {
    def.brokerKeys.forEach((key, i) => {
      // Kafka gives the default to the last (lowest-precedence) key of a chain; the others are unset.
      const last = i === def.brokerKeys.length - 1;
      let dflt: string | null = null;
      if (last) {
        dflt =
          key.unit === undefined
            ? formatLogConfigValue(defaults, def)
            : String((def.default as number) / UNIT_MS[key.unit]);
      }
      const before = def.brokerKeys.slice(0, i).map((k) => k.name);
      const doc =
        `Broker default for the topic config ${def.name}` +
        (key.unit === undefined ? '' : `, in ${key.unit}`) +
        (before.length === 0 ? '' : ` (ignored when ${before.join(' or ')} is set)`) +
        `. ${def.doc}`;
      const row: BrokerConfigDefinition = {
        name: key.name,
        type: key.unit !== undefined ? 'int' : def.type === 'class' ? 'string' : def.type,
        default: dflt,
        doc,
        effect: def.field === 'messageDownconversionEnable' ? 'none' : 'applied',
        topicConfig: def,
        ...(key.unit === undefined ? {} : { unit: key.unit }),
        ...(key.unit === undefined && def.validator !== undefined ? { validator: def.validator } : {}),
      };
      rows.push(row);
    });
  }
  return rows;
}

/** Every broker key Samsa understands, sorted by name. */
export const BROKER_CONFIG_DEFINITIONS: readonly BrokerConfigDefinition[] = [
  ...BROKER_ONLY,
  ...logSynonymRows(),
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const BY_NAME: ReadonlyMap<string, BrokerConfigDefinition> = new Map(
  BROKER_CONFIG_DEFINITIONS.map((d) => [d.name, d]),
);

/** The definition of a broker key, or undefined if Samsa does not know it. */
export function brokerConfigDefinition(name: string): BrokerConfigDefinition | undefined {
  return BY_NAME.get(name);
}

/** Kafka's synonym chains among broker keys (`log.retention.ms`, `.minutes`, `.hours`; …). */
function synonymNames(def: BrokerConfigDefinition): readonly string[] {
  const chain = def.topicConfig?.brokerKeys;
  return chain !== undefined && chain.length > 1 ? chain.map((k) => k.name) : [def.name];
}

// ---------------------------------------------------------------------------------------------
// Typed config

export type ProcessRole = 'broker' | 'controller';
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/** One parsed listener. `host` is '' for "every interface" (`PLAINTEXT://:9092`), as in Kafka. */
export interface Listener {
  /** Upper-cased, as Kafka normalises listener names. */
  readonly name: string;
  readonly host: string;
  /** 0 asks the OS for a free port. */
  readonly port: number;
  readonly securityProtocol: SecurityProtocol;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface QuorumVoter extends HostPort {
  readonly id: number;
}

export interface BrokerConfig {
  /** process.roles */
  readonly processRoles: readonly ProcessRole[];
  /** node.id */
  readonly nodeId: number;
  /** cluster.id — null when not set. */
  readonly clusterId: string | null;
  /** listeners, in the order given (controller listeners included). */
  readonly listeners: readonly Listener[];
  /**
   * advertised.listeners for clients and brokers (never controller listeners); when unset, the
   * non-controller listeners. A '' host means "this machine's host name" to whoever publishes it.
   */
  readonly advertisedListeners: readonly Listener[];
  /** listener.security.protocol.map, names upper-cased. */
  readonly listenerSecurityProtocolMap: ReadonlyMap<string, SecurityProtocol>;
  /** controller.listener.names, upper-cased. */
  readonly controllerListenerNames: readonly string[];
  /** inter.broker.listener.name (or the one chosen); null when this node is not a broker. */
  readonly interBrokerListenerName: string | null;
  /** controller.quorum.voters */
  readonly controllerQuorumVoters: readonly QuorumVoter[];
  /** controller.quorum.bootstrap.servers */
  readonly controllerQuorumBootstrapServers: readonly HostPort[];
  /** log.dirs, else log.dir; comma-separated, never empty. */
  readonly logDirs: readonly string[];
  readonly numPartitions: number;
  readonly defaultReplicationFactor: number;
  readonly autoCreateTopicsEnable: boolean;
  readonly deleteTopicEnable: boolean;
  readonly socketRequestMaxBytes: number;
  /** No effect (see header). */
  readonly socketSendBufferBytes: number;
  /** No effect (see header). */
  readonly socketReceiveBufferBytes: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Negative: never close idle connections. */
  readonly connectionsMaxIdleMs: number;
  readonly queuedMaxRequests: number;
  /** No effect (see header). */
  readonly numNetworkThreads: number;
  /** No effect (see header). */
  readonly numIoThreads: number;
  /** max.incremental.fetch.session.cache.slots */
  readonly maxIncrementalFetchSessionCacheSlots: number;
  readonly groupInitialRebalanceDelayMs: number;
  readonly offsetsTopicNumPartitions: number;
  readonly offsetsTopicReplicationFactor: number;
  readonly offsetsRetentionMinutes: number;
  readonly offsetsTopicSegmentBytes: number;
  readonly offsetsRetentionCheckIntervalMs: number;
  readonly offsetMetadataMaxBytes: number;
  readonly groupMinSessionTimeoutMs: number;
  readonly groupMaxSessionTimeoutMs: number;
  readonly groupMaxSize: number;
  readonly groupCoordinatorRebalanceProtocols: readonly string[];
  readonly groupConsumerSessionTimeoutMs: number;
  readonly groupConsumerHeartbeatIntervalMs: number;
  readonly groupConsumerMaxSize: number;
  readonly groupConsumerAssignors: readonly string[];
  readonly transactionStateLogNumPartitions: number;
  readonly transactionStateLogReplicationFactor: number;
  readonly transactionStateLogMinIsr: number;
  readonly transactionalIdExpirationMs: number;
  readonly producerIdExpirationMs: number;
  readonly transactionMaxTimeoutMs: number;
  readonly transactionPartitionVerificationEnable: boolean;
  readonly transactionAbortTimedOutTransactionCleanupIntervalMs: number;
  readonly transactionRemoveExpiredTransactionCleanupIntervalMs: number;
  readonly producerIdExpirationCheckIntervalMs: number;
  /** log.flush.scheduler.interval.ms — how often the flusher looks; `Infinity` (Long.MAX) by default. */
  readonly logFlushSchedulerIntervalMs: number;
  readonly logFlushOffsetCheckpointIntervalMs: number;
  readonly logRetentionCheckIntervalMs: number;
  readonly logCleanerEnable: boolean;
  readonly logCleanerBackoffMs: number;
  /**
   * Topic defaults from the broker keys (message.max.bytes → maxMessageBytes, min.insync.replicas,
   * unclean.leader.election.enable, log.segment.bytes, log.retention.*, …), via log-config.
   */
  readonly logDefaults: LogConfig;
  /** Every key supplied (file, then overrides on top), unknown keys included, values trimmed. */
  readonly originals: ReadonlyMap<string, string>;
}

/** Where a supplied key came from. */
export type ConfigOrigin =
  | { readonly kind: 'file'; readonly line: number }
  | { readonly kind: 'override'; readonly index: number }
  | { readonly kind: 'default' };

export type BrokerConfigProblem = 'syntax' | 'bad-type' | 'out-of-range' | 'bad-value' | 'conflict';

/** Why the broker configuration is unusable. Returned, not thrown. */
export interface BrokerConfigError {
  readonly kind: 'BrokerConfigError';
  /** INVALID_CONFIG, as Kafka answers. */
  readonly errorCode: number;
  /** The key at fault ('' for a syntax error before any key was read). */
  readonly key: string;
  /** The value at fault, as supplied (for syntax errors: the offending text). */
  readonly value: string;
  readonly problem: BrokerConfigProblem;
  readonly reason: string;
  readonly origin: ConfigOrigin;
  /** Kafka-style: "Invalid value X for configuration K: reason". */
  readonly message: string;
}

export function isBrokerConfigError(x: unknown): x is BrokerConfigError {
  return (
    typeof x === 'object' && x !== null && (x as Partial<BrokerConfigError>).kind === 'BrokerConfigError'
  );
}

export interface LoadBrokerConfigOptions {
  /** server.properties content. */
  readonly propertiesText?: string;
  /** "key=value" strings, as from `--override`; they win over the file, later ones over earlier. */
  readonly overrides?: readonly string[];
}

export interface LoadedBrokerConfig {
  readonly config: BrokerConfig;
  /** One line per unknown key (Kafka logs and ignores them). */
  readonly warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Value parsing (Kafka's ConfigDef.parseType and validators, with Kafka's messages)

type Typed = number | boolean | string | readonly string[];
type Failure = { readonly problem: BrokerConfigProblem; readonly reason: string };

function isFailure(x: unknown): x is Failure {
  return typeof x === 'object' && x !== null && 'problem' in x && 'reason' in x;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER_BITS: Readonly<Record<'int' | 'short' | 'long', bigint>> = { short: 15n, int: 31n, long: 63n };
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

function parseTyped(type: BrokerConfigType, raw: string): Typed | Failure {
  const s = raw.trim();
  switch (type) {
    case 'int':
    case 'short':
    case 'long': {
      const bits = INTEGER_BITS[type];
      const n = INTEGER.test(s) ? BigInt(s) : undefined;
      if (n === undefined || n < -(2n ** bits) || n > 2n ** bits - 1n) {
        return { problem: 'bad-type', reason: `Not a number of type ${type.toUpperCase()}` };
      }
      // Long.MAX_VALUE and friends saturate to ±Infinity, as in log-config.
      if (n > SAFE_MAX) return Infinity;
      if (n < -SAFE_MAX) return -Infinity;
      return Number(n);
    }
    case 'double':
      return DECIMAL.test(s) ? Number(s) : { problem: 'bad-type', reason: 'Not a number of type DOUBLE' };
    case 'boolean': {
      const lower = s.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      return { problem: 'bad-type', reason: 'Expected value to be either true or false' };
    }
    case 'string':
      return s;
    case 'list':
      return s.split(/\s*,\s*/).filter((item) => item !== '');
  }
}

function validate(validator: LogConfigValidator | undefined, value: Typed): Failure | undefined {
  if (validator === undefined) return undefined;
  switch (validator.kind) {
    case 'range': {
      const n = value as number;
      if (validator.min !== undefined && n < validator.min) {
        return { problem: 'out-of-range', reason: `Value must be at least ${String(validator.min)}` };
      }
      if (validator.max !== undefined && n > validator.max) {
        return { problem: 'out-of-range', reason: `Value must be no more than ${String(validator.max)}` };
      }
      return undefined;
    }
    case 'in':
      return validator.values.includes(value as string)
        ? undefined
        : { problem: 'bad-value', reason: `String must be one of: ${validator.values.join(', ')}` };
    case 'list': {
      const bad = (value as readonly string[]).find((item) => !validator.values.includes(item));
      return bad === undefined
        ? undefined
        : { problem: 'bad-value', reason: `"${bad}" is not one of: ${validator.values.join(', ')}` };
    }
  }
}

function formatLong(n: number): string {
  if (n === Infinity) return LONG_MAX_STRING;
  if (n === -Infinity) return '-9223372036854775808';
  return String(n);
}

/** A parsed value printed as Kafka's `ConfigDef.convertToString` would. */
function formatTyped(value: Typed): string {
  if (typeof value === 'number') return formatLong(value);
  if (typeof value === 'object') return value.join(',');
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Listeners, quorum addresses, protocol map

/** Kafka's listener syntax: NAME://host:port, host optionally in brackets (IPv6) or empty. */
const LISTENER = /^(.*):\/\/\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$/;
const HOST_PORT = /^\[?([0-9a-zA-Z\-%._:]+)\]?:([0-9]+)$/;
const VOTER = /^([0-9]+)@\[?([0-9a-zA-Z\-%._:]+)\]?:([0-9]+)$/;
const LISTENER_NAME = /^[^\s:/,]+$/;
const UNROUTABLE = new Set(['0.0.0.0', '::']);

function portOf(text: string): number | Failure {
  const port = Number(text);
  return Number.isInteger(port) && port >= 0 && port <= 65535
    ? port
    : { problem: 'out-of-range', reason: `port ${text} is not in 0-65535` };
}

function parseListenerList(text: string): { name: string; host: string; port: number }[] | Failure {
  const out: { name: string; host: string; port: number }[] = [];
  for (const entry of parseTyped('list', text) as readonly string[]) {
    const m = LISTENER.exec(entry);
    if (m === null || !LISTENER_NAME.test(m[1] as string)) {
      return { problem: 'bad-value', reason: `Unable to parse ${entry} as NAME://host:port` };
    }
    const port = portOf(m[3] as string);
    if (isFailure(port)) return { problem: port.problem, reason: `${entry}: ${port.reason}` };
    out.push({ name: (m[1] as string).toUpperCase(), host: m[2] as string, port });
  }
  return out;
}

function parseProtocolMap(text: string): Map<string, SecurityProtocol> | Failure {
  const map = new Map<string, SecurityProtocol>();
  for (const entry of parseTyped('list', text) as readonly string[]) {
    const parts = entry.split(/\s*:\s*/);
    const protocol = parts[1]?.toUpperCase() as SecurityProtocol | undefined;
    if (parts.length !== 2 || parts[0] === '' || protocol === undefined) {
      return { problem: 'bad-value', reason: `Unable to parse ${entry} as NAME:PROTOCOL` };
    }
    if (!SECURITY_PROTOCOLS.includes(protocol)) {
      return {
        problem: 'bad-value',
        reason: `${entry}: unknown security protocol (one of ${SECURITY_PROTOCOLS.join(', ')})`,
      };
    }
    const name = (parts[0] as string).toUpperCase();
    if (map.has(name)) return { problem: 'bad-value', reason: `listener ${name} is mapped twice` };
    map.set(name, protocol);
  }
  return map;
}

function parseHostPorts(items: readonly string[]): HostPort[] | Failure {
  const out: HostPort[] = [];
  for (const item of items) {
    const m = HOST_PORT.exec(item);
    if (m === null) return { problem: 'bad-value', reason: `Unable to parse ${item} as host:port` };
    const port = portOf(m[2] as string);
    if (isFailure(port)) return { problem: port.problem, reason: `${item}: ${port.reason}` };
    out.push({ host: m[1] as string, port });
  }
  return out;
}

function parseVoters(items: readonly string[]): QuorumVoter[] | Failure {
  const out: QuorumVoter[] = [];
  for (const item of items) {
    const m = VOTER.exec(item);
    const id = m === null ? NaN : Number(m[1]);
    if (m === null || !Number.isSafeInteger(id) || id > 2 ** 31 - 1) {
      return { problem: 'bad-value', reason: `Unable to parse ${item} as id@host:port` };
    }
    const port = portOf(m[3] as string);
    if (isFailure(port)) return { problem: port.problem, reason: `${item}: ${port.reason}` };
    if (out.some((v) => v.id === id))
      return { problem: 'bad-value', reason: `voter id ${String(id)} appears twice` };
    out.push({ id, host: m[2] as string, port });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loading

interface Supplied {
  readonly value: string;
  readonly origin: ConfigOrigin;
}

function makeError(
  key: string,
  value: string,
  origin: ConfigOrigin,
  f: Failure,
  message?: string,
): BrokerConfigError {
  return {
    kind: 'BrokerConfigError',
    errorCode: ErrorCode.INVALID_CONFIG,
    key,
    value,
    problem: f.problem,
    reason: f.reason,
    origin,
    message: message ?? `Invalid value ${value} for configuration ${key}: ${f.reason}`,
  };
}

function describeOrigin(origin: ConfigOrigin): string {
  switch (origin.kind) {
    case 'file':
      return `line ${String(origin.line)}`;
    case 'override':
      return `override #${String(origin.index + 1)}`;
    case 'default':
      return 'default';
  }
}

/**
 * Loads the broker configuration from server.properties text and `--override key=value` strings
 * (overrides win). Unknown keys yield one warning each; any invalid value, or a broken cross-key
 * rule, yields a `BrokerConfigError` naming the key, the value and why.
 */
export function loadBrokerConfig(
  options: LoadBrokerConfigOptions = {},
): LoadedBrokerConfig | BrokerConfigError {
  // 1. Collect what was supplied, with where it came from.
  const supplied = new Map<string, Supplied>();
  if (options.propertiesText !== undefined) {
    const entries = readProperties(options.propertiesText);
    if (isPropertiesError(entries)) {
      return makeError(
        '',
        '',
        { kind: 'file', line: entries.line },
        { problem: 'syntax', reason: entries.reason },
        `Invalid properties: ${entries.message}`,
      );
    }
    for (const e of entries) supplied.set(e.key, { value: e.value, origin: { kind: 'file', line: e.line } });
  }
  for (const [index, arg] of (options.overrides ?? []).entries()) {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? arg.trim() : arg.slice(0, eq).trim();
    if (eq < 0 || key === '') {
      const origin: ConfigOrigin = { kind: 'override', index };
      const reason = eq < 0 ? 'expected key=value' : 'missing key before "="';
      return makeError(
        key,
        arg,
        origin,
        { problem: 'syntax', reason },
        `Invalid override "${arg}": ${reason}`,
      );
    }
    supplied.set(key, { value: arg.slice(eq + 1).trim(), origin: { kind: 'override', index } });
  }

  // 2. Unknown keys warn; known keys parse and validate, in the order they were supplied.
  const warnings: string[] = [];
  const values = new Map<string, Typed | null>();
  for (const [key, { value, origin }] of supplied) {
    const def = BY_NAME.get(key);
    if (def === undefined) {
      warnings.push(`Ignoring unknown configuration ${key} (${describeOrigin(origin)})`);
      continue;
    }
    const parsed = parseTyped(def.type, value);
    if (isFailure(parsed)) return makeError(key, value, origin, parsed);
    // Topic-config synonyms are range-checked by log-config (after unit conversion and Kafka's
    // retention normalisation), so that their rules live in one place.
    const failure = def.topicConfig === undefined ? validate(def.validator, parsed) : undefined;
    if (failure !== undefined) return makeError(key, value, origin, failure);
    values.set(key, parsed);
  }
  for (const def of BROKER_CONFIG_DEFINITIONS) {
    if (values.has(def.name)) continue;
    values.set(def.name, def.default === null ? null : (parseTyped(def.type, def.default) as Typed));
  }

  // 3. Topic defaults through log-config (synonym precedence, units, ranges, cross-checks).
  const logProps: Record<string, string> = {};
  for (const [key, { value }] of supplied) {
    if (BY_NAME.get(key)?.topicConfig !== undefined) logProps[key] = value;
  }
  const logDefaults = resolveBrokerLogConfig(logProps);
  if (isConfigError(logDefaults)) {
    const origin = supplied.get(logDefaults.key)?.origin ?? { kind: 'default' };
    const problem = logDefaults.problem === 'unknown-key' ? 'bad-value' : logDefaults.problem;
    const failure: Failure = { problem, reason: logDefaults.reason };
    return makeError(logDefaults.key, logDefaults.value, origin, failure, logDefaults.message);
  }

  // 4. Typed fields and cross-key rules.
  const rawOf = (key: string): string => supplied.get(key)?.value ?? BY_NAME.get(key)?.default ?? '';
  const originOf = (key: string): ConfigOrigin => supplied.get(key)?.origin ?? { kind: 'default' };
  const fail = (key: string, problem: BrokerConfigProblem, reason: string): BrokerConfigError =>
    makeError(key, rawOf(key), originOf(key), { problem, reason });
  const num = (key: string): number => values.get(key) as number;
  const bool = (key: string): boolean => values.get(key) as boolean;
  const str = (key: string): string | null => values.get(key) as string | null;
  const list = (key: string): readonly string[] => values.get(key) as readonly string[];

  // process.roles
  const roles = list('process.roles') as readonly ProcessRole[];
  if (roles.length === 0) {
    return fail('process.roles', 'bad-value', 'at least one role is required (Samsa has no ZooKeeper mode)');
  }
  if (new Set(roles).size !== roles.length)
    return fail('process.roles', 'bad-value', 'a role is listed twice');
  const isBroker = roles.includes('broker');
  const isController = roles.includes('controller');
  const nodeId = num('node.id');

  // cluster.id
  const clusterId = str('cluster.id') || null; // an empty cluster.id is the same as none
  if (clusterId !== null && !/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
    return fail(
      'cluster.id',
      'bad-value',
      'expected a 22-character base64url UUID, as kafka-storage random-uuid prints',
    );
  }

  // listener.security.protocol.map
  const protocolMap = parseProtocolMap(rawOf('listener.security.protocol.map'));
  if (isFailure(protocolMap))
    return fail('listener.security.protocol.map', protocolMap.problem, protocolMap.reason);
  const mapWasSet = supplied.has('listener.security.protocol.map');

  // controller.listener.names
  const controllerNames = (
    parseTyped('list', str('controller.listener.names') ?? '') as readonly string[]
  ).map((n) => n.toUpperCase());
  if (controllerNames.some((n) => !LISTENER_NAME.test(n))) {
    return fail(
      'controller.listener.names',
      'bad-value',
      'listener names may not contain whitespace, ":" or "/"',
    );
  }

  // listeners
  const parsedListeners = parseListenerList(rawOf('listeners'));
  if (isFailure(parsedListeners)) return fail('listeners', parsedListeners.problem, parsedListeners.reason);
  const listeners: Listener[] = [];
  for (const l of parsedListeners) {
    if (listeners.some((o) => o.name === l.name)) {
      return fail('listeners', 'bad-value', `listener name ${l.name} is used twice`);
    }
    if (l.port !== 0 && listeners.some((o) => o.port === l.port && o.host === l.host)) {
      return fail('listeners', 'bad-value', `${l.host}:${String(l.port)} is used by two listeners`);
    }
    // Kafka maps controller listeners to PLAINTEXT when no protocol map was given.
    const protocol =
      protocolMap.get(l.name) ?? (!mapWasSet && controllerNames.includes(l.name) ? 'PLAINTEXT' : undefined);
    if (protocol === undefined) {
      return fail(
        'listeners',
        'bad-value',
        `no security protocol for listener ${l.name} (add it to listener.security.protocol.map)`,
      );
    }
    if (protocol !== 'PLAINTEXT') {
      return fail(
        'listeners',
        'bad-value',
        `listener ${l.name} uses ${protocol}; Samsa supports only PLAINTEXT`,
      );
    }
    listeners.push({ ...l, securityProtocol: protocol });
  }
  const listenerNames = listeners.map((l) => l.name);
  const brokerListeners = listeners.filter((l) => !controllerNames.includes(l.name));

  // advertised.listeners
  let advertised: Listener[];
  const advertisedRaw = str('advertised.listeners');
  if (advertisedRaw === null) {
    advertised = brokerListeners;
  } else {
    const parsed = parseListenerList(advertisedRaw);
    if (isFailure(parsed)) return fail('advertised.listeners', parsed.problem, parsed.reason);
    advertised = [];
    for (const a of parsed) {
      const bound = listeners.find((l) => l.name === a.name);
      if (bound === undefined) {
        return fail(
          'advertised.listeners',
          'conflict',
          `listener ${a.name} is not in listeners (${listenerNames.join(', ') || 'none'})`,
        );
      }
      if (advertised.some((o) => o.name === a.name)) {
        return fail('advertised.listeners', 'bad-value', `listener ${a.name} is advertised twice`);
      }
      if (UNROUTABLE.has(a.host)) {
        return fail(
          'advertised.listeners',
          'bad-value',
          `${a.host} cannot be advertised; give a routable address`,
        );
      }
      if (!controllerNames.includes(a.name))
        advertised.push({ ...a, securityProtocol: bound.securityProtocol });
    }
  }

  // controller.quorum.voters / controller.quorum.bootstrap.servers
  const voters = parseVoters(list('controller.quorum.voters'));
  if (isFailure(voters)) return fail('controller.quorum.voters', voters.problem, voters.reason);
  const bootstrap = parseHostPorts(list('controller.quorum.bootstrap.servers'));
  if (isFailure(bootstrap))
    return fail('controller.quorum.bootstrap.servers', bootstrap.problem, bootstrap.reason);

  // KRaft role rules (Kafka's, except that combined mode may run a one-voter in-process quorum).
  if (isController) {
    if (voters.length > 0 && !voters.some((v) => v.id === nodeId)) {
      return fail(
        'controller.quorum.voters',
        'conflict',
        `node.id ${String(nodeId)} must be one of the voters`,
      );
    }
    const missing = controllerNames.find((n) => !listenerNames.includes(n));
    if (missing !== undefined) {
      return fail(
        'controller.listener.names',
        'conflict',
        `controller listener ${missing} is not in listeners`,
      );
    }
    const othersToReach = voters.some((v) => v.id !== nodeId) || bootstrap.length > 0;
    if (othersToReach && controllerNames.length === 0) {
      return fail(
        'controller.listener.names',
        'conflict',
        'a quorum with other nodes needs a controller listener; name one here',
      );
    }
    if (!isBroker && brokerListeners.length > 0) {
      return fail(
        'listeners',
        'conflict',
        'with process.roles=controller, every listener must be named in controller.listener.names',
      );
    }
  } else {
    if (voters.length === 0 && bootstrap.length === 0) {
      return fail(
        'controller.quorum.bootstrap.servers',
        'conflict',
        'a broker-only node must be told where the controllers are (this or controller.quorum.voters)',
      );
    }
    if (voters.some((v) => v.id === nodeId)) {
      return fail(
        'controller.quorum.voters',
        'conflict',
        `node.id ${String(nodeId)} is a voter but not a controller`,
      );
    }
    if (controllerNames.length === 0) {
      return fail(
        'controller.listener.names',
        'conflict',
        'a broker-only node needs the controllers’ listener name',
      );
    }
    const bound = controllerNames.find((n) => listenerNames.includes(n));
    if (bound !== undefined) {
      return fail(
        'controller.listener.names',
        'conflict',
        `${bound} is a listener, but this node is not a controller`,
      );
    }
  }

  // inter.broker.listener.name
  let interBroker: string | null = null;
  if (isBroker) {
    if (advertised.length === 0) {
      const key = advertisedRaw === null ? 'listeners' : 'advertised.listeners';
      return fail(key, 'conflict', 'a broker needs at least one listener that is not a controller listener');
    }
    const named = str('inter.broker.listener.name');
    if (named !== null) {
      interBroker = named.toUpperCase();
      if (!advertised.some((a) => a.name === interBroker)) {
        return fail(
          'inter.broker.listener.name',
          'conflict',
          `must name an advertised listener (${advertised.map((a) => a.name).join(', ')})`,
        );
      }
    } else {
      interBroker = (advertised.find((a) => a.name === 'PLAINTEXT') ?? advertised[0])?.name ?? null;
    }
  }

  // log.dirs / log.dir
  const dirsKey = str('log.dirs') !== null ? 'log.dirs' : 'log.dir';
  const logDirs = parseTyped('list', str(dirsKey) ?? '') as readonly string[];
  if (logDirs.length === 0) return fail(dirsKey, 'bad-value', 'at least one log directory is required');
  const normalised = logDirs.map((d) => d.replace(/\/+$/, '') || '/');
  const dup = normalised.find((d, i) => normalised.indexOf(d) !== i);
  if (dup !== undefined) return fail(dirsKey, 'bad-value', `log directory ${dup} is listed twice`);

  // Single-key rules
  if (num('max.connections.per.ip') === 0) {
    return fail(
      'max.connections.per.ip',
      'out-of-range',
      'Value must be at least 1 (0 needs max.connections.per.ip.overrides, which Samsa does not support)',
    );
  }

  const config: BrokerConfig = {
    processRoles: roles,
    nodeId,
    clusterId,
    listeners,
    advertisedListeners: advertised,
    listenerSecurityProtocolMap: protocolMap,
    controllerListenerNames: controllerNames,
    interBrokerListenerName: interBroker,
    controllerQuorumVoters: voters,
    controllerQuorumBootstrapServers: bootstrap,
    logDirs,
    numPartitions: num('num.partitions'),
    defaultReplicationFactor: num('default.replication.factor'),
    autoCreateTopicsEnable: bool('auto.create.topics.enable'),
    deleteTopicEnable: bool('delete.topic.enable'),
    socketRequestMaxBytes: num('socket.request.max.bytes'),
    socketSendBufferBytes: num('socket.send.buffer.bytes'),
    socketReceiveBufferBytes: num('socket.receive.buffer.bytes'),
    maxConnections: num('max.connections'),
    maxConnectionsPerIp: num('max.connections.per.ip'),
    connectionsMaxIdleMs: num('connections.max.idle.ms'),
    queuedMaxRequests: num('queued.max.requests'),
    numNetworkThreads: num('num.network.threads'),
    numIoThreads: num('num.io.threads'),
    maxIncrementalFetchSessionCacheSlots: num('max.incremental.fetch.session.cache.slots'),
    groupInitialRebalanceDelayMs: num('group.initial.rebalance.delay.ms'),
    offsetsTopicNumPartitions: num('offsets.topic.num.partitions'),
    offsetsTopicReplicationFactor: num('offsets.topic.replication.factor'),
    offsetsRetentionMinutes: num('offsets.retention.minutes'),
    offsetsTopicSegmentBytes: num('offsets.topic.segment.bytes'),
    offsetsRetentionCheckIntervalMs: num('offsets.retention.check.interval.ms'),
    offsetMetadataMaxBytes: num('offset.metadata.max.bytes'),
    groupMinSessionTimeoutMs: num('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: num('group.max.session.timeout.ms'),
    groupMaxSize: num('group.max.size'),
    groupCoordinatorRebalanceProtocols: list('group.coordinator.rebalance.protocols'),
    groupConsumerSessionTimeoutMs: num('group.consumer.session.timeout.ms'),
    groupConsumerHeartbeatIntervalMs: num('group.consumer.heartbeat.interval.ms'),
    groupConsumerMaxSize: num('group.consumer.max.size'),
    groupConsumerAssignors: list('group.consumer.assignors'),
    transactionStateLogNumPartitions: num('transaction.state.log.num.partitions'),
    transactionStateLogReplicationFactor: num('transaction.state.log.replication.factor'),
    transactionStateLogMinIsr: num('transaction.state.log.min.isr'),
    transactionalIdExpirationMs: num('transactional.id.expiration.ms'),
    producerIdExpirationMs: num('producer.id.expiration.ms'),
    transactionMaxTimeoutMs: num('transaction.max.timeout.ms'),
    transactionPartitionVerificationEnable: bool('transaction.partition.verification.enable'),
    transactionAbortTimedOutTransactionCleanupIntervalMs: num(
      'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    ),
    transactionRemoveExpiredTransactionCleanupIntervalMs: num(
      'transaction.remove.expired.transaction.cleanup.interval.ms',
    ),
    producerIdExpirationCheckIntervalMs: num('producer.id.expiration.check.interval.ms'),
    logFlushSchedulerIntervalMs: num('log.flush.scheduler.interval.ms'),
    logFlushOffsetCheckpointIntervalMs: num('log.flush.offset.checkpoint.interval.ms'),
    logRetentionCheckIntervalMs: num('log.retention.check.interval.ms'),
    logCleanerEnable: bool('log.cleaner.enable'),
    logCleanerBackoffMs: num('log.cleaner.backoff.ms'),
    logDefaults,
    originals: new Map([...supplied].map(([k, s]) => [k, s.value])),
  };
  return { config, warnings };
}

// ---------------------------------------------------------------------------------------------
// DescribeConfigs

export type BrokerConfigSource = 'STATIC_BROKER_CONFIG' | 'DEFAULT_CONFIG';

export interface BrokerConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: BrokerConfigSource;
  readonly sourceId: number;
}

/** One row of a DescribeConfigs answer for a BROKER resource. */
export interface BrokerConfigEntry {
  readonly name: string;
  /** As Kafka prints it; null when unset with no default (e.g. log.retention.ms). */
  readonly value: string | null;
  readonly isDefault: boolean;
  readonly source: BrokerConfigSource;
  readonly sourceId: number;
  /** Always true: Samsa has no dynamic broker configs yet. */
  readonly readOnly: boolean;
  readonly sensitive: boolean;
  /** Kafka's order: static values then defaults, from this key down its synonym chain. */
  readonly synonyms: readonly BrokerConfigSynonym[];
  readonly type: BrokerConfigType;
  readonly typeId: number;
  readonly documentation: string;
}

/** A supplied value of a known key, printed as Kafka prints the parsed value. */
function formatStatic(config: BrokerConfig, def: BrokerConfigDefinition, raw: string): string {
  const topic = def.topicConfig;
  if (
    topic !== undefined &&
    def.unit === undefined &&
    config.logDefaults.origins[topic.field].key === def.name
  ) {
    // The key supplied the topic default: print it exactly as topic DescribeConfigs does.
    if (def.type !== 'int' && def.type !== 'long') return formatLogConfigValue(config.logDefaults, topic);
  }
  const parsed = parseTyped(def.type, raw);
  return isFailure(parsed) ? raw.trim() : formatTyped(parsed);
}

/** Every broker key Samsa knows with its value, source and synonyms, sorted by name. */
export function brokerConfigEntries(config: BrokerConfig): BrokerConfigEntry[] {
  const staticValue = (def: BrokerConfigDefinition): string | undefined => {
    const raw = config.originals.get(def.name);
    return raw === undefined ? undefined : formatStatic(config, def, raw);
  };
  return BROKER_CONFIG_DEFINITIONS.map((def) => {
    const chain = synonymNames(def).map((n) => BY_NAME.get(n) as BrokerConfigDefinition);
    const all: BrokerConfigSynonym[] = [];
    for (const d of chain) {
      const value = staticValue(d);
      if (value !== undefined) {
        all.push({
          name: d.name,
          value,
          source: 'STATIC_BROKER_CONFIG',
          sourceId: CONFIG_SOURCE_ID.STATIC_BROKER_CONFIG,
        });
      }
    }
    for (const d of chain) {
      if (d.default !== null) {
        all.push({
          name: d.name,
          value: d.default,
          source: 'DEFAULT_CONFIG',
          sourceId: CONFIG_SOURCE_ID.DEFAULT_CONFIG,
        });
      }
    }
    // As Kafka: drop the higher-precedence synonyms that come before this key.
    const first = all.findIndex((s) => s.name === def.name);
    const synonyms = first < 0 ? [] : all.slice(first);
    const source: BrokerConfigSource = synonyms[0]?.source ?? 'DEFAULT_CONFIG';
    return {
      name: def.name,
      value: staticValue(def) ?? def.default,
      isDefault: source === 'DEFAULT_CONFIG',
      source,
      sourceId: CONFIG_SOURCE_ID[source],
      readOnly: true,
      sensitive: false,
      synonyms,
      type: def.type,
      typeId: BROKER_CONFIG_TYPE_ID[def.type],
      documentation: def.doc,
    };
  });
}
