/**
 * Encoding and decoding whole messages with a generated codec: size pass, one allocation,
 * write; and reads that return a typed result instead of throwing.
 */
import type { MessageCodec } from './primitives/codec.js';
import { DecodeError, EncodeError } from './primitives/errors.js';
import { Reader } from './primitives/reader.js';
import { measure, Writer } from './primitives/writer.js';

export type DecodeResult<T> = { ok: true; value: T; end: number } | { ok: false; error: DecodeError };

/** Why `version` cannot be used with `codec`, or null when it can. */
export function versionProblem(codec: MessageCodec<unknown>, version: number): string | null {
  if (!Number.isInteger(version) || version < codec.minVersion || version > codec.maxVersion) {
    return `${codec.name} version ${version} is outside the supported range ${codec.minVersion}-${codec.maxVersion}`;
  }
  return null;
}

/**
 * Decodes one message from `buf[start, end)`. Never throws: short, truncated or hostile input
 * gives `{ ok: false, error }`. Bytes fields in the result are slices of `buf` (no copy).
 */
export function decodeMessage<T>(
  codec: MessageCodec<T>,
  buf: Buffer,
  version: number,
  start = 0,
  end = buf.length,
): DecodeResult<T> {
  const bad = versionProblem(codec, version);
  if (bad !== null) return { ok: false, error: new DecodeError(bad, start) };
  const r = new Reader(buf, start, end);
  let value: T;
  try {
    value = codec.read(r, version);
  } catch (e) {
    // Generated readers do not throw; this guards the contract against a bug, not bad input.
    return { ok: false, error: new DecodeError(`${codec.name}: ${String(e)}`, r.pos) };
  }
  const error = r.error(`${codec.name} v${version}`);
  if (error !== null) return { ok: false, error };
  return { ok: true, value, end: r.pos };
}

/**
 * Encodes a message as a list of buffers: large record sets stay the caller's buffers (no
 * copy). Throws EncodeError when the value cannot be written in `version` (a programmer error).
 */
export function encodeMessageChunks<T>(codec: MessageCodec<T>, value: T, version: number): Buffer[] {
  const bad = versionProblem(codec, version);
  if (bad !== null) throw new EncodeError(bad);
  const size = measure(() => codec.size(value, version));
  const w = Writer.forSize(size);
  codec.write(w, value, version);
  return w.finish();
}

/** Encodes a message into one buffer (copies record sets; use encodeMessageChunks on hot paths). */
export function encodeMessage<T>(codec: MessageCodec<T>, value: T, version: number): Buffer {
  const chunks = encodeMessageChunks(codec, value, version);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
