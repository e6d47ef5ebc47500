/**
 * MetadataImage: an immutable view of the cluster state, built by applying metadata records in
 * log order. Handlers read the image they were given; applying records makes a new image (maps
 * that did not change are shared) and a delta that says what changed, for the broker to act on.
 */
import type { MetadataRecord } from './records.js';

/** Kafka's ConfigResource types as they appear in ConfigRecord and the config APIs. */
export const ConfigResourceType = {
  TOPIC: 2,
  BROKER: 4,
} as const;

export interface PartitionImage {
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: ReadonlyMap<number, PartitionImage>;
}

export interface BrokerEndpointImage {
  readonly listener: string;
  readonly host: string;
  readonly port: number;
}

export interface BrokerImage {
  readonly brokerId: number;
  readonly endpoints: readonly BrokerEndpointImage[];
  readonly rack: string | null;
  readonly fenced: boolean;
  /** The epoch of the broker's registration. */
  readonly epoch: bigint;
}

export interface MetadataDelta {
  readonly createdTopics: TopicImage[];
  readonly deletedTopics: TopicImage[];
  /** Topics that gained partitions or whose partitions changed (leaders, ISR). */
  readonly changedTopics: TopicImage[];
  /** Topics (still present) whose config overrides changed. */
  readonly changedTopicConfigs: Set<string>;
}

export function configKey(resourceType: number, resourceName: string): string {
  return `${resourceType}:${resourceName}`;
}

const EMPTY_CONFIG: ReadonlyMap<string, string> = new Map();

export class MetadataImage {
  /** Offset of the last record applied (-1 for the empty image). */
  readonly offset: number;
  readonly topicsByName: ReadonlyMap<string, TopicImage>;
  readonly topicsById: ReadonlyMap<string, TopicImage>;
  readonly configs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly brokers: ReadonlyMap<number, BrokerImage>;
  readonly features: ReadonlyMap<string, number>;
  /** The first producer id not yet handed out to a broker (ProducerIdsRecord). */
  readonly nextProducerId: bigint;

  private constructor(
    offset: number,
    topicsByName: ReadonlyMap<string, TopicImage>,
    topicsById: ReadonlyMap<string, TopicImage>,
    configs: ReadonlyMap<string, ReadonlyMap<string, string>>,
    brokers: ReadonlyMap<number, BrokerImage>,
    features: ReadonlyMap<string, number>,
    nextProducerId: bigint,
  ) {
    this.offset = offset;
    this.topicsByName = topicsByName;
    this.topicsById = topicsById;
    this.configs = configs;
    this.brokers = brokers;
    this.features = features;
    this.nextProducerId = nextProducerId;
  }

  static empty(): MetadataImage {
    return new MetadataImage(-1, new Map(), new Map(), new Map(), new Map(), new Map(), 0n);
  }

  topicConfig(topic: string): ReadonlyMap<string, string> {
    return this.configs.get(configKey(ConfigResourceType.TOPIC, topic)) ?? EMPTY_CONFIG;
  }

  brokerConfig(brokerId: number | ''): ReadonlyMap<string, string> {
    return this.configs.get(configKey(ConfigResourceType.BROKER, String(brokerId))) ?? EMPTY_CONFIG;
  }

  /** Applies records (in log order, `lastOffset` being the offset of the last) and returns the new image and what changed. */
  apply(
    records: readonly MetadataRecord[],
    lastOffset: number,
  ): { image: MetadataImage; delta: MetadataDelta } {
    // Copy-on-write: the first change to a map copies it; unchanged maps stay shared.
    const byName = new Cow(this.topicsByName);
    const byId = new Cow(this.topicsById);
    const configs = new Cow(this.configs);
    const brokers = new Cow(this.brokers);
    const features = new Cow(this.features);
    const created = new Map<string, TopicImage>();
    const deleted = new Map<string, TopicImage>();
    const changed = new Set<string>();
    const changedTopicConfigs = new Set<string>();
    let nextProducerId = this.nextProducerId;

    const putTopic = (t: TopicImage): void => {
      byName.write().set(t.name, t);
      byId.write().set(t.topicId, t);
    };

    for (const rec of records) {
      switch (rec.type) {
        case 'topic': {
          const t: TopicImage = { name: rec.value.name, topicId: rec.value.topicId, partitions: new Map() };
          putTopic(t);
          created.set(t.topicId, t);
          break;
        }
        case 'partition': {
          const v = rec.value;
          const topic = byId.map.get(v.topicId);
          if (topic === undefined) break;
          const partitions = new Map(topic.partitions);
          partitions.set(v.partitionId, {
            partition: v.partitionId,
            replicas: v.replicas,
            isr: v.isr,
            leader: v.leader,
            leaderEpoch: v.leaderEpoch,
            partitionEpoch: v.partitionEpoch,
          });
          const t = { ...topic, partitions };
          putTopic(t);
          if (created.has(t.topicId)) created.set(t.topicId, t);
          else changed.add(t.topicId);
          break;
        }
        case 'partitionChange': {
          const v = rec.value;
          const topic = byId.map.get(v.topicId);
          const old = topic?.partitions.get(v.partitionId);
          if (topic === undefined || old === undefined) break;
          const leaderChanged = v.leader !== -2 && v.leader !== old.leader;
          const partitions = new Map(topic.partitions);
          partitions.set(v.partitionId, {
            partition: v.partitionId,
            replicas: v.replicas ?? old.replicas,
            isr: v.isr ?? old.isr,
            leader: v.leader === -2 ? old.leader : v.leader,
            leaderEpoch: leaderChanged ? old.leaderEpoch + 1 : old.leaderEpoch,
            partitionEpoch: old.partitionEpoch + 1,
          });
          const t = { ...topic, partitions };
          putTopic(t);
          if (created.has(t.topicId)) created.set(t.topicId, t);
          else changed.add(t.topicId);
          break;
        }
        case 'removeTopic': {
          const topic = byId.map.get(rec.value.topicId);
          if (topic === undefined) break;
          byName.write().delete(topic.name);
          byId.write().delete(topic.topicId);
          const key = configKey(ConfigResourceType.TOPIC, topic.name);
          if (configs.map.has(key)) configs.write().delete(key);
          changedTopicConfigs.delete(topic.name);
          if (created.delete(topic.topicId)) break;
          changed.delete(topic.topicId);
          deleted.set(topic.topicId, topic);
          break;
        }
        case 'config': {
          const v = rec.value;
          const key = configKey(v.resourceType, v.resourceName);
          const entries = new Map(configs.map.get(key) ?? EMPTY_CONFIG);
          if (v.value === null) entries.delete(v.name);
          else entries.set(v.name, v.value);
          configs.write().set(key, entries);
          if (v.resourceType === ConfigResourceType.TOPIC) changedTopicConfigs.add(v.resourceName);
          break;
        }
        case 'featureLevel': {
          features.write().set(rec.value.name, rec.value.featureLevel);
          break;
        }
        case 'registerBroker': {
          const v = rec.value;
          brokers.write().set(v.brokerId, {
            brokerId: v.brokerId,
            endpoints: v.endPoints.map((e) => ({ listener: e.name, host: e.host, port: e.port })),
            rack: v.rack,
            fenced: v.fenced,
            epoch: v.brokerEpoch,
          });
          break;
        }
        case 'producerIds': {
          if (rec.value.nextProducerId > nextProducerId) nextProducerId = rec.value.nextProducerId;
          break;
        }
        case 'noOp':
          break;
      }
    }
    const image = new MetadataImage(
      lastOffset,
      byName.map,
      byId.map,
      configs.map,
      brokers.map,
      features.map,
      nextProducerId,
    );
    const latest = (id: string): TopicImage | undefined => image.topicsById.get(id);
    return {
      image,
      delta: {
        createdTopics: [...created.keys()].map(latest).filter((t): t is TopicImage => t !== undefined),
        deletedTopics: [...deleted.values()],
        changedTopics: [...changed].map(latest).filter((t): t is TopicImage => t !== undefined),
        changedTopicConfigs,
      },
    };
  }
}

/** A map shared until the first write, which copies it. */
class Cow<K, V> {
  private m: ReadonlyMap<K, V>;
  private owned = false;
  constructor(m: ReadonlyMap<K, V>) {
    this.m = m;
  }
  get map(): ReadonlyMap<K, V> {
    return this.m;
  }
  write(): Map<K, V> {
    if (!this.owned) {
      this.m = new Map(this.m);
      this.owned = true;
    }
    return this.m as Map<K, V>;
  }
}
