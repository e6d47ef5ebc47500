/**
 * Kafka wire-protocol error codes.
 *
 * Every response in the Kafka protocol carries one or more int16 error codes.
 * The numbers are fixed by Apache Kafka and shared by all clients, so a broker
 * that wants to be understood must use exactly the same numbers, and clients
 * decide how to react (retry, refresh metadata, give up) from the code alone.
 *
 * This module lists every code that Apache Kafka defines, from -1
 * (UNKNOWN_SERVER_ERROR) up to the newest one (136 at Kafka 4.4), with its
 * canonical name and whether Kafka's own clients treat it as retriable.
 * "Retriable" here means the same thing it means in Kafka: the error is a
 * transient condition and the same request may succeed if sent again
 * (possibly after refreshing metadata or finding the coordinator again).
 *
 * The codes are contiguous: there are no unused numbers between -1 and the
 * highest code. A code this table does not know (for example one added by a
 * newer Kafka) is reported as `UNKNOWN_ERROR_CODE_<n>` and is not retriable,
 * which mirrors how Kafka's clients fall back to UNKNOWN_SERVER_ERROR.
 */

/** Name → code for every Kafka protocol error. */
export const ErrorCode = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  STALE_CONTROLLER_EPOCH: 11,
  OFFSET_METADATA_TOO_LARGE: 12,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTION_COORDINATOR_FENCED: 52,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SECURITY_DISABLED: 54,
  OPERATION_NOT_ATTEMPTED: 55,
  KAFKA_STORAGE_ERROR: 56,
  LOG_DIR_NOT_FOUND: 57,
  SASL_AUTHENTICATION_FAILED: 58,
  UNKNOWN_PRODUCER_ID: 59,
  REASSIGNMENT_IN_PROGRESS: 60,
  DELEGATION_TOKEN_AUTH_DISABLED: 61,
  DELEGATION_TOKEN_NOT_FOUND: 62,
  DELEGATION_TOKEN_OWNER_MISMATCH: 63,
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: 64,
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 65,
  DELEGATION_TOKEN_EXPIRED: 66,
  INVALID_PRINCIPAL_TYPE: 67,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  LISTENER_NOT_FOUND: 72,
  TOPIC_DELETION_DISABLED: 73,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  STALE_BROKER_EPOCH: 77,
  OFFSET_NOT_AVAILABLE: 78,
  MEMBER_ID_REQUIRED: 79,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  ELECTION_NOT_NEEDED: 84,
  NO_REASSIGNMENT_IN_PROGRESS: 85,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  INVALID_RECORD: 87,
  UNSTABLE_OFFSET_COMMIT: 88,
  THROTTLING_QUOTA_EXCEEDED: 89,
  PRODUCER_FENCED: 90,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  UNACCEPTABLE_CREDENTIAL: 93,
  INCONSISTENT_VOTER_SET: 94,
  INVALID_UPDATE_VERSION: 95,
  FEATURE_UPDATE_FAILED: 96,
  PRINCIPAL_DESERIALIZATION_FAILURE: 97,
  SNAPSHOT_NOT_FOUND: 98,
  POSITION_OUT_OF_RANGE: 99,
  UNKNOWN_TOPIC_ID: 100,
  DUPLICATE_BROKER_REGISTRATION: 101,
  BROKER_ID_NOT_REGISTERED: 102,
  INCONSISTENT_TOPIC_ID: 103,
  INCONSISTENT_CLUSTER_ID: 104,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
  FETCH_SESSION_TOPIC_ID_ERROR: 106,
  INELIGIBLE_REPLICA: 107,
  NEW_LEADER_ELECTED: 108,
  OFFSET_MOVED_TO_TIERED_STORAGE: 109,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
  MISMATCHED_ENDPOINT_TYPE: 114,
  UNSUPPORTED_ENDPOINT_TYPE: 115,
  UNKNOWN_CONTROLLER_ID: 116,
  UNKNOWN_SUBSCRIPTION_ID: 117,
  TELEMETRY_TOO_LARGE: 118,
  INVALID_REGISTRATION: 119,
  TRANSACTION_ABORTABLE: 120,
  INVALID_RECORD_STATE: 121,
  SHARE_SESSION_NOT_FOUND: 122,
  INVALID_SHARE_SESSION_EPOCH: 123,
  FENCED_STATE_EPOCH: 124,
  INVALID_VOTER_KEY: 125,
  DUPLICATE_VOTER: 126,
  VOTER_NOT_FOUND: 127,
  INVALID_REGULAR_EXPRESSION: 128,
  REBOOTSTRAP_REQUIRED: 129,
  STREAMS_INVALID_TOPOLOGY: 130,
  STREAMS_INVALID_TOPOLOGY_EPOCH: 131,
  STREAMS_TOPOLOGY_FENCED: 132,
  SHARE_SESSION_LIMIT_REACHED: 133,
  GROUP_DELETION_FAILED: 134,
  STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED: 135,
  CONTROLLER_ID_NOT_REGISTERED: 136,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

/** What this module knows about one error code. */
export interface ErrorInfo {
  readonly code: number;
  readonly name: string;
  readonly retriable: boolean;
  /** A short plain-English explanation (not Kafka's wording). */
  readonly message: string;
}

/**
 * The codes Kafka's clients retry. In Kafka these are the codes whose
 * exception class derives from `RetriableException` (which includes the
 * "refresh metadata, then retry" family). Every other code is not retriable.
 */
const RETRIABLE: ReadonlySet<ErrorCodeName> = new Set<ErrorCodeName>([
  'CORRUPT_MESSAGE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'CONCURRENT_TRANSACTIONS',
  'KAFKA_STORAGE_ERROR',
  'FETCH_SESSION_ID_NOT_FOUND',
  'INVALID_FETCH_SESSION_EPOCH',
  'LISTENER_NOT_FOUND',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
  'ELECTION_NOT_NEEDED',
  'UNSTABLE_OFFSET_COMMIT',
  'THROTTLING_QUOTA_EXCEEDED',
  'UNKNOWN_TOPIC_ID',
  'INCONSISTENT_TOPIC_ID',
  'FETCH_SESSION_TOPIC_ID_ERROR',
  'SHARE_SESSION_NOT_FOUND',
  'INVALID_SHARE_SESSION_EPOCH',
  'SHARE_SESSION_LIMIT_REACHED',
]);

/** Short explanations, in our own words. */
const MESSAGES: Readonly<Record<ErrorCodeName, string>> = {
  UNKNOWN_SERVER_ERROR: 'The server hit an unexpected internal error.',
  NONE: 'Success.',
  OFFSET_OUT_OF_RANGE: 'The offset is outside the range stored for this partition.',
  CORRUPT_MESSAGE: 'A record or batch failed validation (bad CRC, size or content).',
  UNKNOWN_TOPIC_OR_PARTITION: 'This broker does not know the topic or partition.',
  INVALID_FETCH_SIZE: 'The fetch size is not valid.',
  LEADER_NOT_AVAILABLE: 'The partition has no leader right now.',
  NOT_LEADER_OR_FOLLOWER: 'This broker is not the leader (or a replica) for the partition.',
  REQUEST_TIMED_OUT: 'The request did not complete in time.',
  BROKER_NOT_AVAILABLE: 'The broker is not available.',
  REPLICA_NOT_AVAILABLE: 'The replica is not available.',
  MESSAGE_TOO_LARGE: 'A record batch is larger than the broker accepts.',
  STALE_CONTROLLER_EPOCH: 'The controller epoch is out of date.',
  OFFSET_METADATA_TOO_LARGE: 'The offset commit metadata string is too long.',
  NETWORK_EXCEPTION: 'The connection was lost before a response arrived.',
  COORDINATOR_LOAD_IN_PROGRESS: 'The coordinator is still loading its state.',
  COORDINATOR_NOT_AVAILABLE: 'The coordinator is not available.',
  NOT_COORDINATOR: 'This broker is not the coordinator for the key.',
  INVALID_TOPIC_EXCEPTION: 'The topic name or topic is not valid for this operation.',
  RECORD_LIST_TOO_LARGE: 'The record batch is larger than the segment size.',
  NOT_ENOUGH_REPLICAS: 'Too few in-sync replicas to accept the write.',
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 'Written, but to fewer in-sync replicas than required.',
  INVALID_REQUIRED_ACKS: 'The acks value is not valid.',
  ILLEGAL_GENERATION: 'The group generation id is not current.',
  INCONSISTENT_GROUP_PROTOCOL: 'The member protocols do not match the group.',
  INVALID_GROUP_ID: 'The group id is not valid.',
  UNKNOWN_MEMBER_ID: 'The coordinator does not know this member.',
  INVALID_SESSION_TIMEOUT: 'The session timeout is outside the allowed range.',
  REBALANCE_IN_PROGRESS: 'The group is rebalancing; the member must rejoin.',
  INVALID_COMMIT_OFFSET_SIZE: 'The offset commit data size is not valid.',
  TOPIC_AUTHORIZATION_FAILED: 'Not authorized for the topic.',
  GROUP_AUTHORIZATION_FAILED: 'Not authorized for the group.',
  CLUSTER_AUTHORIZATION_FAILED: 'Not authorized for the cluster.',
  INVALID_TIMESTAMP: 'A record timestamp is outside the accepted range.',
  UNSUPPORTED_SASL_MECHANISM: 'The SASL mechanism is not supported.',
  ILLEGAL_SASL_STATE: 'The request is not allowed in the current SASL state.',
  UNSUPPORTED_VERSION: 'The API version is not supported.',
  TOPIC_ALREADY_EXISTS: 'The topic already exists.',
  INVALID_PARTITIONS: 'The partition count is not valid.',
  INVALID_REPLICATION_FACTOR: 'The replication factor is not valid.',
  INVALID_REPLICA_ASSIGNMENT: 'The replica assignment is not valid.',
  INVALID_CONFIG: 'The configuration is not valid.',
  NOT_CONTROLLER: 'This node is not the active controller.',
  INVALID_REQUEST: 'The request is malformed or not allowed.',
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 'The message format in use does not support this request.',
  POLICY_VIOLATION: 'The request breaks a configured policy.',
  OUT_OF_ORDER_SEQUENCE_NUMBER: 'The producer sequence number is out of order.',
  DUPLICATE_SEQUENCE_NUMBER: 'The producer sequence number was already seen.',
  INVALID_PRODUCER_EPOCH: 'The producer epoch is out of date.',
  INVALID_TXN_STATE: 'The transaction is not in a state that allows this.',
  INVALID_PRODUCER_ID_MAPPING: 'The producer id is not mapped to this transactional id.',
  INVALID_TRANSACTION_TIMEOUT: 'The transaction timeout exceeds the broker maximum.',
  CONCURRENT_TRANSACTIONS: 'Another operation on this transaction is in progress.',
  TRANSACTION_COORDINATOR_FENCED: 'The transaction coordinator has been replaced.',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'Not authorized for the transactional id.',
  SECURITY_DISABLED: 'Security features are turned off.',
  OPERATION_NOT_ATTEMPTED: 'The operation was skipped because another in the batch failed.',
  KAFKA_STORAGE_ERROR: 'A disk error prevented access to the log.',
  LOG_DIR_NOT_FOUND: 'The log directory is not configured on the broker.',
  SASL_AUTHENTICATION_FAILED: 'SASL authentication failed.',
  UNKNOWN_PRODUCER_ID: 'The broker has no state for this producer id.',
  REASSIGNMENT_IN_PROGRESS: 'A partition reassignment is in progress.',
  DELEGATION_TOKEN_AUTH_DISABLED: 'Delegation tokens are not enabled.',
  DELEGATION_TOKEN_NOT_FOUND: 'The delegation token does not exist.',
  DELEGATION_TOKEN_OWNER_MISMATCH: 'The principal is not the token owner or renewer.',
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: 'Delegation token requests are not allowed on this connection.',
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 'Not authorized for the delegation token.',
  DELEGATION_TOKEN_EXPIRED: 'The delegation token has expired.',
  INVALID_PRINCIPAL_TYPE: 'The principal type is not supported.',
  NON_EMPTY_GROUP: 'The group still has members.',
  GROUP_ID_NOT_FOUND: 'The group does not exist.',
  FETCH_SESSION_ID_NOT_FOUND: 'The fetch session does not exist.',
  INVALID_FETCH_SESSION_EPOCH: 'The fetch session epoch is wrong.',
  LISTENER_NOT_FOUND: 'The leader has no listener matching this connection.',
  TOPIC_DELETION_DISABLED: 'Topic deletion is turned off.',
  FENCED_LEADER_EPOCH: "The leader epoch in the request is older than the broker's.",
  UNKNOWN_LEADER_EPOCH: "The leader epoch in the request is newer than the broker's.",
  UNSUPPORTED_COMPRESSION_TYPE: 'The client cannot handle the compression type in use.',
  STALE_BROKER_EPOCH: 'The broker epoch is out of date.',
  OFFSET_NOT_AVAILABLE: 'The offset is not available yet after a leader change.',
  MEMBER_ID_REQUIRED: 'The member must rejoin with the member id it was given.',
  PREFERRED_LEADER_NOT_AVAILABLE: 'The preferred leader is not available.',
  GROUP_MAX_SIZE_REACHED: 'The group is full.',
  FENCED_INSTANCE_ID: 'Another member with the same static instance id replaced this one.',
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 'No eligible leader is available.',
  ELECTION_NOT_NEEDED: 'No leader election is needed.',
  NO_REASSIGNMENT_IN_PROGRESS: 'No partition reassignment is in progress.',
  GROUP_SUBSCRIBED_TO_TOPIC: 'The group is still subscribed to the topic.',
  INVALID_RECORD: 'A record was rejected by broker-side validation.',
  UNSTABLE_OFFSET_COMMIT: 'Pending transactional offsets must settle first.',
  THROTTLING_QUOTA_EXCEEDED: 'A throttling quota was exceeded.',
  PRODUCER_FENCED: 'A newer producer with the same transactional id took over.',
  RESOURCE_NOT_FOUND: 'The referenced resource does not exist.',
  DUPLICATE_RESOURCE: 'The same resource was named twice.',
  UNACCEPTABLE_CREDENTIAL: 'The credential does not meet the requirements.',
  INCONSISTENT_VOTER_SET: 'Sender or receiver is not an expected voter.',
  INVALID_UPDATE_VERSION: 'The update version is not valid.',
  FEATURE_UPDATE_FAILED: 'The feature update could not be applied.',
  PRINCIPAL_DESERIALIZATION_FAILURE: 'The forwarded principal could not be decoded.',
  SNAPSHOT_NOT_FOUND: 'The snapshot does not exist.',
  POSITION_OUT_OF_RANGE: 'The position is outside the snapshot.',
  UNKNOWN_TOPIC_ID: 'This broker does not know the topic id.',
  DUPLICATE_BROKER_REGISTRATION: 'The broker id is already registered.',
  BROKER_ID_NOT_REGISTERED: 'The broker id is not registered.',
  INCONSISTENT_TOPIC_ID: 'The topic id does not match the log.',
  INCONSISTENT_CLUSTER_ID: 'The cluster id does not match.',
  TRANSACTIONAL_ID_NOT_FOUND: 'The transactional id does not exist.',
  FETCH_SESSION_TOPIC_ID_ERROR: 'The fetch session used topic ids inconsistently.',
  INELIGIBLE_REPLICA: 'The new ISR contains an ineligible replica.',
  NEW_LEADER_ELECTED: 'The partition state changed, but the leader moved.',
  OFFSET_MOVED_TO_TIERED_STORAGE: 'The offset now lives in tiered storage.',
  FENCED_MEMBER_EPOCH: 'The member epoch is fenced; the member must rejoin.',
  UNRELEASED_INSTANCE_ID: 'The static instance id is still held by another member.',
  UNSUPPORTED_ASSIGNOR: 'The assignor is not supported by the group.',
  STALE_MEMBER_EPOCH: 'The member epoch is stale.',
  MISMATCHED_ENDPOINT_TYPE: 'The request went to the wrong kind of endpoint.',
  UNSUPPORTED_ENDPOINT_TYPE: 'This endpoint type is not supported.',
  UNKNOWN_CONTROLLER_ID: 'The controller id is not known.',
  UNKNOWN_SUBSCRIPTION_ID: 'The telemetry subscription id is unknown or out of date.',
  TELEMETRY_TOO_LARGE: 'The telemetry payload is too large.',
  INVALID_REGISTRATION: 'The broker registration was rejected.',
  TRANSACTION_ABORTABLE: 'The transaction failed and should be aborted.',
  INVALID_RECORD_STATE: 'The record state does not allow this acknowledgement.',
  SHARE_SESSION_NOT_FOUND: 'The share session does not exist.',
  INVALID_SHARE_SESSION_EPOCH: 'The share session epoch is wrong.',
  FENCED_STATE_EPOCH: 'The share-group state epoch does not match.',
  INVALID_VOTER_KEY: 'The voter key does not match this replica.',
  DUPLICATE_VOTER: 'The voter is already in the voter set.',
  VOTER_NOT_FOUND: 'The voter is not in the voter set.',
  INVALID_REGULAR_EXPRESSION: 'The regular expression is not valid.',
  REBOOTSTRAP_REQUIRED: 'Client metadata is stale; the client should rebootstrap.',
  STREAMS_INVALID_TOPOLOGY: 'The streams topology is not valid.',
  STREAMS_INVALID_TOPOLOGY_EPOCH: 'The streams topology epoch is not valid.',
  STREAMS_TOPOLOGY_FENCED: 'The streams topology epoch is out of date.',
  SHARE_SESSION_LIMIT_REACHED: 'No more share sessions can be opened.',
  GROUP_DELETION_FAILED: 'The group could not be deleted.',
  STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED: 'The streams topology description could not be updated.',
  CONTROLLER_ID_NOT_REGISTERED: 'The controller id is not registered.',
};

/** Lowest defined code. */
export const MIN_ERROR_CODE = -1;

/** Highest code this table knows. */
export const MAX_ERROR_CODE: number = Math.max(...Object.values(ErrorCode));

/** Lookup indexed by `code - MIN_ERROR_CODE`, built once. */
const BY_CODE: readonly (ErrorInfo | undefined)[] = (() => {
  const table: (ErrorInfo | undefined)[] = new Array<ErrorInfo | undefined>(
    MAX_ERROR_CODE - MIN_ERROR_CODE + 1,
  ).fill(undefined);
  for (const name of Object.keys(ErrorCode) as ErrorCodeName[]) {
    const code = ErrorCode[name];
    table[code - MIN_ERROR_CODE] = Object.freeze({
      code,
      name,
      retriable: RETRIABLE.has(name),
      message: MESSAGES[name],
    });
  }
  return table;
})();

/** All known errors, ordered by code. */
export const ALL_ERRORS: readonly ErrorInfo[] = Object.freeze(
  BY_CODE.filter((e): e is ErrorInfo => e !== undefined),
);

function lookup(code: number): ErrorInfo | undefined {
  if (!Number.isInteger(code)) return undefined;
  return BY_CODE[code - MIN_ERROR_CODE];
}

/**
 * Information about `code`. A code this table does not define gives a
 * synthetic, non-retriable entry named `UNKNOWN_ERROR_CODE_<code>`.
 */
export function errorInfo(code: number): ErrorInfo {
  const known = lookup(code);
  if (known !== undefined) return known;
  return {
    code,
    name: `UNKNOWN_ERROR_CODE_${code}`,
    retriable: false,
    message: `Error code ${code} is not defined by this version of the protocol table.`,
  };
}

/** The canonical name of `code`, or `UNKNOWN_ERROR_CODE_<code>`. */
export function errorName(code: number): string {
  return lookup(code)?.name ?? `UNKNOWN_ERROR_CODE_${code}`;
}

/** Whether Kafka's clients treat `code` as retriable. Unknown codes are not. */
export function isRetriable(code: number): boolean {
  return lookup(code)?.retriable ?? false;
}

/** True if `code` is one this table defines. */
export function isKnownErrorCode(code: number): code is ErrorCodeValue {
  return lookup(code) !== undefined;
}
