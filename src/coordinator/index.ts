/**
 * The group coordinator: consumer groups and their committed offsets, kept as records in
 * `__consumer_offsets` and rebuilt by replaying them.
 *
 * - group-coordinator.ts  one shard per `__consumer_offsets` partition this broker leads; group → partition by Kafka's hash
 * - group-shard.ts        a shard's state, its log, loading by replay, offsets, admin views, expiry
 * - classic-groups.ts     the classic protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) with its timers
 * - classic-group.ts      one classic group's data and the pure rules over it
 * - consumer/             the KIP-848 consumer protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe)
 * - offset-store.ts       committed offsets in memory
 * - records.ts            Kafka's coordinator record framing (key and value versions)
 * - topics.ts             what coordinators see of the cluster's topics
 */
export * from './group-coordinator.js';
export * from './group-shard.js';
export * from './classic-groups.js';
export * from './classic-group.js';
export * from './offset-store.js';
export * from './records.js';
export * from './topics.js';
