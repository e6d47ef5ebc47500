/**
 * CreatePartitions (key 37), versions 0-3 (flexible from 2). Grows topics to `count`
 * partitions, placed by the controller or by the manual `assignments` (one broker list per new
 * partition). `validateOnly` validates without creating. The answer leaves once the new
 * partitions are hosted (they accept produce at once), so `timeoutMs` is accepted and there is
 * nothing left to wait for.
 *
 * Errors as Kafka's controller gives them: UNKNOWN_TOPIC_OR_PARTITION for a topic that does not
 * exist, INVALID_PARTITIONS for a count that is not an increase, INVALID_REPLICA_ASSIGNMENT for
 * assignments that do not match the number of new partitions, name unknown brokers, repeat a
 * broker, are empty, or differ from the topic's replication factor; a topic named twice in one
 * request gets one INVALID_REQUEST "Duplicate topic name." result and is not grown. As in Kafka,
 * a non-null empty assignment list counts as "0 assignments" (clients send null for none).
 * A topic that would take the partitions added by this request past 10,000 gets
 * POLICY_VIOLATION, the cap Kafka puts on CreateTopics (Kafka bounds CreatePartitions by the
 * records of one controller operation, also 10,000, with a less helpful error).
 * Deviations: results come in request order (Kafka answers duplicates first); no quotas, so
 * never THROTTLING_QUOTA_EXCEEDED (v3) and a throttle time of 0; no ACLs.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { CreatePartitionsRequest } from '../../protocol/generated/message/CreatePartitionsRequest.js';
import type { CreatePartitionsResponse } from '../../protocol/generated/message/CreatePartitionsResponse.js';
import { MAX_PARTITIONS_PER_REQUEST, TOO_MANY_PARTITIONS_MESSAGE } from './19-create-topics.js';
import { defineHandler } from './types.js';

type TopicResult = CreatePartitionsResponse.CreatePartitionsTopicResult;

export const createPartitionsHandler = defineHandler<CreatePartitionsRequest, CreatePartitionsResponse>({
  api: apis.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req) {
    const b = ctx.broker;
    const image = b.image();
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);

    // One slot per distinct name, in request order; null slots are filled by the controller.
    const slots = new Map<string, TopicResult | null>();
    const requests: { name: string; count: number; assignments: number[][] | null }[] = [];
    let added = 0;
    for (const t of req.topics) {
      if (slots.has(t.name)) continue;
      if (seen.get(t.name)! > 1) {
        slots.set(t.name, {
          name: t.name,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: 'Duplicate topic name.',
          unknownTaggedFields: undefined,
        });
        continue;
      }
      // The cap on partitions added by one request, as for CreateTopics (Kafka bounds the records of one operation).
      const current = image.topicsByName.get(t.name)?.partitions.size;
      if (current !== undefined && t.count > current) {
        added += t.count - current;
        if (added > MAX_PARTITIONS_PER_REQUEST) {
          slots.set(t.name, {
            name: t.name,
            errorCode: ErrorCode.POLICY_VIOLATION,
            errorMessage: TOO_MANY_PARTITIONS_MESSAGE,
            unknownTaggedFields: undefined,
          });
          added -= t.count - current;
          continue;
        }
      }
      slots.set(t.name, null);
      requests.push({
        name: t.name,
        count: t.count,
        assignments: t.assignments === null ? null : t.assignments.map((a) => [...a.brokerIds]),
      });
    }

    if (requests.length > 0) {
      const results = await b.controller.createPartitions(requests, req.validateOnly);
      for (const r of results) {
        slots.set(r.name, {
          name: r.name,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          unknownTaggedFields: undefined,
        });
        if (r.errorCode === ErrorCode.NONE && !req.validateOnly) {
          const count = requests.find((q) => q.name === r.name)?.count;
          b.log(`topic ${r.name} grown to ${count} partition(s)`);
        }
      }
    }

    return {
      throttleTimeMs: 0,
      results: [...slots.entries()].map(
        ([name, r]) =>
          r ?? {
            name,
            errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
            errorMessage: 'no result from the controller',
            unknownTaggedFields: undefined,
          },
      ),
      unknownTaggedFields: undefined,
    };
  },
});
