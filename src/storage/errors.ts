/**
 * Storage errors carry the Kafka error code a broker answers with, so a handler can turn any
 * of them into a per-partition error without a mapping table of its own.
 */
import { ErrorCode } from '../protocol/error-codes.js';

export class StorageError extends Error {
  override readonly name: string = 'StorageError';
  /** Kafka error code for clients (e.g. CORRUPT_MESSAGE, OFFSET_OUT_OF_RANGE, KAFKA_STORAGE_ERROR). */
  readonly errorCode: number;
  constructor(errorCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.errorCode = errorCode;
  }
}

export function corruptRecord(message: string): StorageError {
  return new StorageError(ErrorCode.CORRUPT_MESSAGE, message);
}

export function offsetOutOfRange(message: string): StorageError {
  return new StorageError(ErrorCode.OFFSET_OUT_OF_RANGE, message);
}

/** The disk failed under the log (EIO, ENOSPC…); the cause is the OS error. */
export function storageFailure(message: string, cause: unknown): StorageError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, code ? `${message}: ${code}` : message, { cause });
}
