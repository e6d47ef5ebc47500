/**
 * The client's error catalogue: every failure a caller sees is a KafkaClientError carrying a
 * Kafka error code and name (or -1 and a client-side name such as REQUEST_TIMED_OUT for
 * failures that never reached the broker), so callers decide what to do from the code alone.
 */
import { errorInfo } from '../protocol/error-codes.js';

/** Client-side failures that have no Kafka error code of their own. */
export type ClientErrorName =
  | 'CONNECTION_CLOSED'
  | 'CONNECT_TIMEOUT'
  | 'CONNECTION_FAILED'
  | 'REQUEST_TIMED_OUT'
  | 'PROTOCOL_ERROR'
  | 'CLIENT_CLOSED'
  | 'DEADLINE_EXCEEDED'
  | 'NO_BROKER_AVAILABLE';

const CLIENT_RETRIABLE: Readonly<Record<ClientErrorName, boolean>> = {
  CONNECTION_CLOSED: true,
  CONNECT_TIMEOUT: true,
  CONNECTION_FAILED: true,
  REQUEST_TIMED_OUT: true,
  // A broker that sends bytes we cannot decode will do it again.
  PROTOCOL_ERROR: false,
  CLIENT_CLOSED: false,
  DEADLINE_EXCEEDED: false,
  NO_BROKER_AVAILABLE: true,
};

export class KafkaClientError extends Error {
  /** Kafka error code, or -1 for client-side errors (timeout, closed, bad config). */
  readonly code: number;
  /** e.g. 'UNKNOWN_TOPIC_OR_PARTITION', 'REQUEST_TIMED_OUT', 'CONNECTION_CLOSED'. */
  readonly errorName: string;
  readonly retriable: boolean;

  constructor(message: string, code: number, errorName: string, retriable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KafkaClientError';
    this.code = code;
    this.errorName = errorName;
    this.retriable = retriable;
  }
}

/** A KafkaClientError for a Kafka error code; the message names `context` (topic, partition, group …). */
export function kafkaError(code: number, context: string): KafkaClientError {
  const info = errorInfo(code);
  return new KafkaClientError(`${context}: ${info.name} (${info.message})`, code, info.name, info.retriable);
}

/** `e` if it is a KafkaClientError, else PROTOCOL_ERROR carrying it (`what` failed: its message). */
export function asClientError(e: unknown, what?: string): KafkaClientError {
  if (e instanceof KafkaClientError) return e;
  return clientError('PROTOCOL_ERROR', what === undefined ? String(e) : `${what}: ${String(e)}`, e);
}

/**
 * A call the client's state does not allow (Java's IllegalStateException): reading a partition
 * that is not assigned, subscribing after assigning, a transaction call out of order.
 */
export function illegalState(message: string): KafkaClientError {
  return new KafkaClientError(message, -1, 'ILLEGAL_STATE', false);
}

/** A KafkaClientError for a failure on the client's side (code -1). */
export function clientError(name: ClientErrorName, message: string, cause?: unknown): KafkaClientError {
  return new KafkaClientError(
    message,
    -1,
    name,
    CLIENT_RETRIABLE[name],
    cause === undefined ? undefined : { cause },
  );
}

/** For resultError: no code is worth another attempt. */
export const NO_RETRY: ReadonlySet<number> = new Set();

/**
 * An error from a result field of a response (per topic, partition, group…): retriable only
 * when `retry` lists the code, so errors another attempt cannot fix fail at once even when
 * Kafka files them under retriable (e.g. deleting an unknown topic).
 */
export function resultError(
  code: number,
  context: string,
  detail: string | null,
  retry: ReadonlySet<number>,
): KafkaClientError {
  const info = errorInfo(code);
  const why = detail !== null && detail !== '' ? detail : info.message;
  return new KafkaClientError(`${context}: ${info.name} (${why})`, code, info.name, retry.has(code));
}

/** Throws resultError(code, …) unless code is NONE. */
export function checkResult(
  code: number,
  context: string,
  retry: ReadonlySet<number>,
  detail: string | null = null,
): void {
  if (code !== 0) throw resultError(code, context, detail, retry);
}

/** Throws kafkaError(code, context) unless code is NONE. */
export function throwIfError(code: number, context: string): void {
  if (code !== 0) throw kafkaError(code, context);
}

export function isKafkaClientError(e: unknown): e is KafkaClientError {
  return e instanceof KafkaClientError;
}

/** A bad client option: the message names the option and the value given. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
