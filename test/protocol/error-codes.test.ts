import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  ALL_ERRORS,
  ErrorCode,
  MAX_ERROR_CODE,
  MIN_ERROR_CODE,
  errorInfo,
  errorName,
  isKnownErrorCode,
  isRetriable,
  type ErrorCodeName,
} from '../../src/protocol/error-codes.js';

const entries = Object.entries(ErrorCode) as [ErrorCodeName, number][];

void describe('ErrorCode table', () => {
  void it('has unique codes', () => {
    const codes = entries.map(([, code]) => code);
    assert.equal(new Set(codes).size, codes.length);
  });

  void it('has unique names', () => {
    const names = ALL_ERRORS.map((e) => e.name);
    assert.equal(new Set(names).size, names.length);
  });

  void it('uses UPPER_SNAKE names', () => {
    for (const [name] of entries) {
      assert.match(name, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, name);
    }
  });

  void it('is contiguous from -1 to the highest code (Kafka has no gaps)', () => {
    assert.equal(MIN_ERROR_CODE, -1);
    assert.equal(MAX_ERROR_CODE, 136);
    assert.equal(ALL_ERRORS.length, MAX_ERROR_CODE - MIN_ERROR_CODE + 1);
    ALL_ERRORS.forEach((e, i) => assert.equal(e.code, MIN_ERROR_CODE + i));
  });

  void it('round-trips every entry through the lookup helpers', () => {
    for (const [name, code] of entries) {
      assert.equal(errorName(code), name);
      const info = errorInfo(code);
      assert.equal(info.code, code);
      assert.equal(info.name, name);
      assert.equal(isRetriable(code), info.retriable);
      assert.ok(isKnownErrorCode(code));
      assert.ok(info.message.length > 0);
    }
  });

  void it('matches well-known Kafka codes and retriable flags', () => {
    const spot: [ErrorCodeName, number, boolean][] = [
      ['UNKNOWN_SERVER_ERROR', -1, false],
      ['NONE', 0, false],
      ['OFFSET_OUT_OF_RANGE', 1, false],
      ['CORRUPT_MESSAGE', 2, true],
      ['UNKNOWN_TOPIC_OR_PARTITION', 3, true],
      ['LEADER_NOT_AVAILABLE', 5, true],
      ['NOT_LEADER_OR_FOLLOWER', 6, true],
      ['REQUEST_TIMED_OUT', 7, true],
      ['BROKER_NOT_AVAILABLE', 8, false],
      ['MESSAGE_TOO_LARGE', 10, false],
      ['NETWORK_EXCEPTION', 13, true],
      ['COORDINATOR_LOAD_IN_PROGRESS', 14, true],
      ['COORDINATOR_NOT_AVAILABLE', 15, true],
      ['NOT_COORDINATOR', 16, true],
      ['NOT_ENOUGH_REPLICAS', 19, true],
      ['ILLEGAL_GENERATION', 22, false],
      ['UNKNOWN_MEMBER_ID', 25, false],
      ['REBALANCE_IN_PROGRESS', 27, false],
      ['TOPIC_AUTHORIZATION_FAILED', 29, false],
      ['UNSUPPORTED_VERSION', 35, false],
      ['TOPIC_ALREADY_EXISTS', 36, false],
      ['NOT_CONTROLLER', 41, true],
      ['INVALID_REQUEST', 42, false],
      ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, false],
      ['DUPLICATE_SEQUENCE_NUMBER', 46, false],
      ['INVALID_PRODUCER_EPOCH', 47, false],
      ['CONCURRENT_TRANSACTIONS', 51, true],
      ['KAFKA_STORAGE_ERROR', 56, true],
      ['UNKNOWN_PRODUCER_ID', 59, false],
      ['FETCH_SESSION_ID_NOT_FOUND', 70, true],
      ['FENCED_LEADER_EPOCH', 74, true],
      ['UNKNOWN_LEADER_EPOCH', 75, true],
      ['MEMBER_ID_REQUIRED', 79, false],
      ['FENCED_INSTANCE_ID', 82, false],
      ['UNSTABLE_OFFSET_COMMIT', 88, true],
      ['THROTTLING_QUOTA_EXCEEDED', 89, true],
      ['PRODUCER_FENCED', 90, false],
      ['UNKNOWN_TOPIC_ID', 100, true],
      ['FENCED_MEMBER_EPOCH', 110, false],
      ['STALE_MEMBER_EPOCH', 113, false],
      ['TRANSACTION_ABORTABLE', 120, false],
      ['SHARE_SESSION_NOT_FOUND', 122, true],
      ['INVALID_SHARE_SESSION_EPOCH', 123, true],
      ['REBOOTSTRAP_REQUIRED', 129, false],
      ['SHARE_SESSION_LIMIT_REACHED', 133, true],
      ['GROUP_DELETION_FAILED', 134, false],
      ['STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED', 135, false],
      ['CONTROLLER_ID_NOT_REGISTERED', 136, false],
    ];
    for (const [name, code, retriable] of spot) {
      assert.equal(ErrorCode[name], code, name);
      assert.equal(errorName(code), name);
      assert.equal(isRetriable(code), retriable, `${name} retriable`);
    }
  });

  void it('has exactly the retriable set Kafka derives from RetriableException', () => {
    const retriable = ALL_ERRORS.filter((e) => e.retriable).map((e) => e.code);
    assert.deepEqual(
      retriable,
      [
        2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 41, 51, 56, 70, 71, 72, 74, 75, 78, 80, 83, 84, 88, 89, 100,
        103, 106, 122, 123, 133,
      ],
    );
  });
});

void describe('unknown error codes', () => {
  for (const code of [-2, 137, 1000, 32767, -32768]) {
    void it(`gives a synthetic, non-retriable entry for ${code}`, () => {
      const info = errorInfo(code);
      assert.equal(info.code, code);
      assert.equal(info.name, `UNKNOWN_ERROR_CODE_${code}`);
      assert.equal(info.retriable, false);
      assert.equal(errorName(code), `UNKNOWN_ERROR_CODE_${code}`);
      assert.equal(isRetriable(code), false);
      assert.equal(isKnownErrorCode(code), false);
    });
  }

  void it('treats non-integer input as unknown', () => {
    assert.equal(isKnownErrorCode(1.5), false);
    assert.equal(isRetriable(Number.NaN), false);
    assert.equal(errorName(2.5), 'UNKNOWN_ERROR_CODE_2.5');
  });

  void it('returns frozen shared entries for known codes', () => {
    assert.equal(errorInfo(6), errorInfo(6));
    assert.ok(Object.isFrozen(errorInfo(6)));
  });
});
