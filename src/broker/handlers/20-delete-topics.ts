/**
 * DeleteTopics (key 20), versions 0-6 (flexible from 4). Topics by name (v0-5 a list of names,
 * v6 entries with a name or a topic id). The controller removes them; the answer leaves once
 * their partitions are no longer hosted and their folders are gone, so `timeoutMs` is accepted
 * and there is nothing left to wait for.
 *
 * As in Kafka (ControllerApis.deleteTopics): with delete.topic.enable=false every topic gets
 * INVALID_REQUEST below v3 and TOPIC_DELETION_DISABLED from v3; an unknown name gets
 * UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID; a name or id given twice gets one
 * INVALID_REQUEST result and is not deleted, as does a v6 entry with both a name and an id, or
 * neither, or a name whose id is also given. Internal topics (`__consumer_offsets`,
 * `__transaction_state`) can be deleted, as in Kafka (only ACLs stand in the way there).
 * Deviations: results come in request order (Kafka shuffles them); an id whose topic is also
 * named gets its own INVALID_REQUEST result (Kafka answers only the name); the error message
 * (v5+) is set for whole-request refusals too; no quotas (never THROTTLING_QUOTA_EXCEEDED) and
 * no ACLs (never TOPIC_AUTHORIZATION_FAILED).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { DeleteTopicsRequest } from '../../protocol/generated/message/DeleteTopicsRequest.js';
import type { DeleteTopicsResponse } from '../../protocol/generated/message/DeleteTopicsResponse.js';
import { defineHandler } from './types.js';

type TopicResult = DeleteTopicsResponse.DeletableTopicResult;

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

function result(
  name: string | null,
  topicId: string,
  errorCode: number,
  errorMessage: string | null,
): TopicResult {
  return { name, topicId, errorCode, errorMessage, unknownTaggedFields: undefined };
}

export const deleteTopicsHandler = defineHandler<DeleteTopicsRequest, DeleteTopicsResponse>({
  api: apis.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, req) {
    const b = ctx.broker;
    const entries: { name: string | null; topicId: string }[] =
      ctx.apiVersion >= 6
        ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));

    if (!b.config.deleteTopicEnable) {
      const code = ctx.apiVersion < 3 ? ErrorCode.INVALID_REQUEST : ErrorCode.TOPIC_DELETION_DISABLED;
      return {
        throttleTimeMs: 0,
        responses: entries.map((e) => result(e.name, e.topicId, code, 'Topic deletion is disabled.')),
        unknownTaggedFields: undefined,
      };
    }

    const nameCount = new Map<string, number>();
    const idCount = new Map<string, number>();
    for (const e of entries) {
      if (e.name !== null && e.topicId === ZERO_UUID) nameCount.set(e.name, (nameCount.get(e.name) ?? 0) + 1);
      if (e.name === null && e.topicId !== ZERO_UUID)
        idCount.set(e.topicId, (idCount.get(e.topicId) ?? 0) + 1);
    }
    // A name whose topic id is also in the request refers to the same topic twice.
    const image = b.image();
    const namedIds = new Set<string>();
    for (const [name, count] of nameCount) {
      const id = image.topicsByName.get(name)?.topicId;
      if (count === 1 && id !== undefined && idCount.has(id)) namedIds.add(id);
    }

    // One slot per distinct entry, in request order; null slots are filled by the controller.
    const slots: (TopicResult | null)[] = [];
    const targets: { name: string | null; topicId: string | null }[] = [];
    const answered = new Set<string>();
    for (const e of entries) {
      if (e.name === null && e.topicId === ZERO_UUID) {
        slots.push(
          result(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.'),
        );
      } else if (e.name !== null && e.topicId !== ZERO_UUID) {
        slots.push(
          result(
            e.name,
            e.topicId,
            ErrorCode.INVALID_REQUEST,
            'You may not specify both topic name and topic id.',
          ),
        );
      } else if (e.name !== null) {
        const key = `name:${e.name}`;
        if (answered.has(key)) continue;
        answered.add(key);
        const id = image.topicsByName.get(e.name)?.topicId;
        if (nameCount.get(e.name)! > 1) {
          slots.push(result(e.name, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
        } else if (id !== undefined && namedIds.has(id)) {
          slots.push(
            result(
              e.name,
              id,
              ErrorCode.INVALID_REQUEST,
              'The provided topic name maps to an ID that was already supplied.',
            ),
          );
        } else {
          slots.push(null);
          targets.push({ name: e.name, topicId: null });
        }
      } else {
        const key = `id:${e.topicId}`;
        if (answered.has(key)) continue;
        answered.add(key);
        if (idCount.get(e.topicId)! > 1) {
          slots.push(result(null, e.topicId, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.'));
        } else if (namedIds.has(e.topicId)) {
          slots.push(
            result(
              null,
              e.topicId,
              ErrorCode.INVALID_REQUEST,
              'The provided topic name maps to an ID that was already supplied.',
            ),
          );
        } else {
          slots.push(null);
          targets.push({ name: null, topicId: e.topicId });
        }
      }
    }

    const deleted = targets.length > 0 ? await b.controller.deleteTopics(targets) : [];
    let next = 0;
    const responses = slots.map((s) => {
      if (s !== null) return s;
      const r = deleted[next++]!;
      return result(r.name, r.topicId, r.errorCode, r.errorMessage);
    });
    return { throttleTimeMs: 0, responses, unknownTaggedFields: undefined };
  },
});
