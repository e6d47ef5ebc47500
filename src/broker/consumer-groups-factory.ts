/** Builds each coordinator shard's KIP-848 consumer groups from the broker's config. */
import { ConsumerGroups } from '../coordinator/consumer/consumer-groups.js';
import type { ConsumerGroupsFactory } from '../coordinator/group-shard.js';
import type { Random } from '../runtime/random.js';
import type { BrokerConfig } from './config.js';

export function consumerGroupsFactory(c: BrokerConfig, random: Random): ConsumerGroupsFactory {
  const config = {
    sessionTimeoutMs: c.groupConsumerSessionTimeoutMs,
    heartbeatIntervalMs: c.groupConsumerHeartbeatIntervalMs,
    maxSize: c.groupConsumerMaxSize,
    assignors: [...c.groupConsumerAssignors],
  };
  return (host) => new ConsumerGroups({ ...host, random }, config);
}
