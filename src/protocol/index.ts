/**
 * The protocol layer: Kafka's wire format and nothing else (no I/O). Primitives (Reader,
 * Writer), generated message codecs for every API and coordinator/metadata record, frames
 * with their headers, record batches, compression, and error codes.
 *
 * Decisions that hold across the layer:
 * - int64 fields are `bigint` in messages; uuids are Kafka's base64url strings.
 * - Decoders never throw on bad input; they return a DecodeError.
 * - Record sets are carried as wire bytes (Buffer slices), never decoded on the way through.
 */
export * from './primitives/errors.js';
export * from './primitives/reader.js';
export * from './primitives/writer.js';
export * from './primitives/uuid.js';
export type { MessageCodec, MessageSchema, FieldSchema, StructSchema } from './primitives/codec.js';
export * from './message.js';
export * from './frame.js';
export * from './generated/index.js';
export * from './error-codes.js';
export * from './records/crc32c.js';
export * from './records/batch-view.js';
export * from './records/batch.js';
export * from './compression/index.js';
