/**
 * The consumer group protocol of KIP-848 (ConsumerGroupHeartbeat, ConsumerGroupDescribe), server
 * side, as a state machine without I/O. The group coordinator's shard of `__consumer_offsets`
 * owns one ConsumerGroups; it routes requests to it, writes the records it returns (after
 * replaying them), and replays the partition's ConsumerGroup* records into it at load.
 *
 * - consumer-groups.ts       the per-shard manager: heartbeat, leave, fencing, timers, describe.
 * - consumer-group.ts        one group's state (members, target assignment, epochs, subscription metadata).
 * - current-assignment.ts    member reconciliation: revoke first, then assign what others released.
 * - assignors.ts             the `uniform` and `range` server assignors.
 * - consumer-records.ts      the ConsumerGroup* record builders; replay.ts applies them.
 * - heartbeat-validation.ts  request checks and member epoch rules; member-timers.ts the timers.
 *
 * Behaviour follows Kafka 4.0's GroupMetadataManager, with these deliberate differences:
 * - A member may rejoin with epoch 0 under the member id it already has (KAFKA-19233, later Kafka):
 *   a member fenced with FENCED_MEMBER_EPOCH recovers at once instead of after its session timeout.
 * - SubscribedTopicRegex (v1) is resolved synchronously against the current topics with
 *   JavaScript RegExp full-match semantics; no ConsumerGroupRegularExpression records (their schema
 *   is not among ours) and no 10 s batching of regex refreshes.
 * - Rack-aware assignment is not implemented; the PartitionMetadata racks field is written empty.
 * - Topic changes arrive through onTopicsChanged(), which returns the epoch bumps at once rather
 *   than waiting for the next heartbeat to notice a refresh request.
 * - Not handled here (the shard's job): classic groups and their conversion to/from consumer
 *   groups (online upgrade/downgrade), classic-protocol members inside a consumer group, offsets,
 *   per-group dynamic configs (group.consumer.session.timeout.ms overrides).
 */
export * from './assignment.js';
export * from './assignors.js';
export * from './consumer-group.js';
export * from './consumer-groups.js';
export * from './consumer-records.js';
export * from './current-assignment.js';
