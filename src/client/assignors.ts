/**
 * Client-side partition assignors of the classic group protocol, with the names and algorithms
 * of Kafka's Java client so a Samsa consumer can lead (or follow) a group of Java, librdkafka or
 * kafkajs members that picked the same protocol:
 *
 * - 'range' (RangeAssignor): per topic, the members subscribed to it in MemberInfo order (static
 *   members by group.instance.id first, then the rest by member id) each take a contiguous run of
 *   partitions; the first `partitions % members` take one more.
 * - 'roundrobin' (RoundRobinAssignor): all subscribed partitions sorted by topic then partition,
 *   dealt in turn to the members in MemberInfo order, skipping members not subscribed to the
 *   partition's topic.
 * - 'cooperative-sticky' (CooperativeStickyAssignor, in sticky-assignor.ts): keeps owned
 *   partitions where balance allows and hands a moving partition over in the next rebalance
 *   (KIP-429).
 *
 * Where the Java code iterates a HashMap (whose order depends on string hash codes) this code
 * iterates members sorted by member id, so every assignment is deterministic. Rack awareness
 * (KIP-881) is not implemented: members send no rack, which turns it off in Java too.
 *
 * Subscriptions and assignments are encoded in consumer-protocol.ts; the names, the
 * PartitionAssignor contract and helpers every assignor uses are in assignor-support.ts.
 */
import {
  ASSIGNOR_NAMES,
  checkMembers,
  compareMembers,
  emptyAssignment,
  sortLists,
  type AssignorName,
  type PartitionAssignor,
  type RebalanceProtocol,
} from './assignor-support.js';
import type { MemberSubscription } from './consumer-protocol.js';
import { cooperativeStickyAssignor } from './sticky-assignor.js';
import { compareStrings } from './topic-partition.js';

export type { AssignorName } from './assignor-support.js';

// ---------------------------------------------------------------------------------------------
// range

export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  supportedProtocols: ['eager'],
  subscriptionUserData: () => null,
  assign(partitionsPerTopic, members) {
    checkMembers(members);
    const assignment = emptyAssignment(members);
    const membersPerTopic = new Map<string, MemberSubscription[]>();
    for (const m of members) {
      for (const topic of new Set(m.topics)) {
        let list = membersPerTopic.get(topic);
        if (list === undefined) membersPerTopic.set(topic, (list = []));
        list.push(m);
      }
    }
    for (const topic of [...membersPerTopic.keys()].sort(compareStrings)) {
      const partitionCount = partitionsPerTopic.get(topic);
      if (partitionCount === undefined) continue;
      const consumers = membersPerTopic.get(topic)!.sort(compareMembers);
      const perConsumer = Math.floor(partitionCount / consumers.length);
      const withExtra = partitionCount % consumers.length;
      consumers.forEach((m, i) => {
        const start = perConsumer * i + Math.min(i, withExtra);
        const length = perConsumer + (i < withExtra ? 1 : 0);
        const list = assignment.get(m.memberId)!;
        for (let p = start; p < start + length; p++) list.push({ topic, partition: p });
      });
    }
    return sortLists(assignment);
  },
};

// ---------------------------------------------------------------------------------------------
// roundrobin

export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  supportedProtocols: ['eager'],
  subscriptionUserData: () => null,
  assign(partitionsPerTopic, members) {
    checkMembers(members);
    const assignment = emptyAssignment(members);
    if (members.length === 0) return assignment;
    const ring = [...members].sort(compareMembers);
    const subscribed = new Map(ring.map((m) => [m.memberId, new Set(m.topics)]));
    const topics = [...new Set(members.flatMap((m) => m.topics))]
      .filter((t) => partitionsPerTopic.has(t))
      .sort(compareStrings);
    let next = 0;
    for (const topic of topics) {
      const partitionCount = partitionsPerTopic.get(topic)!;
      for (let partition = 0; partition < partitionCount; partition++) {
        // Some member subscribes to `topic` (it came from a subscription), so this ends within a lap.
        while (!subscribed.get(ring[next]!.memberId)!.has(topic)) next = (next + 1) % ring.length;
        assignment.get(ring[next]!.memberId)!.push({ topic, partition });
        next = (next + 1) % ring.length;
      }
    }
    return sortLists(assignment);
  },
};

// ---------------------------------------------------------------------------------------------

const ASSIGNORS: Readonly<Record<AssignorName, PartitionAssignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};

export function assignorByName(name: AssignorName): PartitionAssignor {
  return ASSIGNORS[name];
}

export function isAssignorName(name: unknown): name is AssignorName {
  return typeof name === 'string' && (ASSIGNOR_NAMES as readonly string[]).includes(name);
}

/**
 * The protocol a consumer with these assignors follows: the newest every one of them supports
 * (ConsumerCoordinator), so ['range', 'cooperative-sticky'] stays eager until range is dropped.
 */
export function rebalanceProtocolOf(assignors: readonly PartitionAssignor[]): RebalanceProtocol {
  return assignors.length > 0 && assignors.every((a) => a.supportedProtocols.includes('cooperative'))
    ? 'cooperative'
    : 'eager';
}
