/**
 * Errors raised by the protocol layer. Decoders never throw these on the hot path: a Reader
 * marks itself bad and the caller turns that into a DecodeError once, at the end.
 */

/** Input bytes that do not form a valid message: short, truncated, or hostile. */
export class DecodeError extends Error {
  override readonly name: string = 'DecodeError';
  /** Byte offset in the input at which decoding failed. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** A value that cannot be written in the requested version (a programmer error on the sending side). */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
}

/** A record batch in a message format Samsa does not accept (magic 0 or 1, or unknown). */
export class UnsupportedMessageFormatError extends DecodeError {
  override readonly name = 'UnsupportedMessageFormatError';
  readonly magic: number;
  constructor(magic: number, offset: number) {
    super(
      `record batch magic ${magic} is not supported: only message format v2 (magic 2, Kafka 0.11+) is accepted`,
      offset,
    );
    this.magic = magic;
  }
}
