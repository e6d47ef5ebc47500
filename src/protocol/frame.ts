/**
 * Kafka frames: an int32 size, then a request or response header, then the body. Header
 * versions follow the API version (flexible versions use request header v2 / response header
 * v1; ApiVersions responses always use v0 so old clients can read the error in them).
 */
import { apiByKey, requestHeaderVersion, responseHeaderVersion } from './generated/api-keys.js';
import { RequestHeader } from './generated/message/RequestHeader.js';
import { ResponseHeader } from './generated/message/ResponseHeader.js';
import { decodeMessage, versionProblem, type DecodeResult } from './message.js';
import type { MessageCodec } from './primitives/codec.js';
import { DecodeError, EncodeError } from './primitives/errors.js';
import { measure, Writer } from './primitives/writer.js';

export interface RequestFrameHeader {
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Encodes a whole request frame (size prefix included) as chunks ready for a socket's writev. */
export function encodeRequestFrame<T>(codec: MessageCodec<T>, body: T, h: RequestFrameHeader): Buffer[] {
  const apiKey = codec.apiKey;
  if (apiKey === null) throw new EncodeError(`${codec.name} is not a request`);
  const bad = versionProblem(codec, h.apiVersion);
  if (bad !== null) throw new EncodeError(bad);
  const headerVersion = requestHeaderVersion(apiKey, h.apiVersion);
  const header: RequestHeader = {
    requestApiKey: apiKey,
    requestApiVersion: h.apiVersion,
    correlationId: h.correlationId,
    clientId: h.clientId,
    unknownTaggedFields: undefined,
  };
  const size = measure(() => RequestHeader.size(header, headerVersion) + codec.size(body, h.apiVersion));
  const w = Writer.forSize({ totalBytes: size.totalBytes + 4, zeroCopyBytes: size.zeroCopyBytes });
  w.int32(size.totalBytes);
  RequestHeader.write(w, header, headerVersion);
  codec.write(w, body, h.apiVersion);
  return w.finish();
}

export interface ResponseFrameHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** Encodes a whole response frame (size prefix included) as chunks. */
export function encodeResponseFrame<T>(codec: MessageCodec<T>, body: T, h: ResponseFrameHeader): Buffer[] {
  if (codec.apiKey !== h.apiKey)
    throw new EncodeError(`${codec.name} is not the response of api key ${h.apiKey}`);
  const bad = versionProblem(codec, h.apiVersion);
  if (bad !== null) throw new EncodeError(bad);
  const headerVersion = responseHeaderVersion(h.apiKey, h.apiVersion);
  const header: ResponseHeader = { correlationId: h.correlationId, unknownTaggedFields: undefined };
  const size = measure(() => ResponseHeader.size(header, headerVersion) + codec.size(body, h.apiVersion));
  const w = Writer.forSize({ totalBytes: size.totalBytes + 4, zeroCopyBytes: size.zeroCopyBytes });
  w.int32(size.totalBytes);
  ResponseHeader.write(w, header, headerVersion);
  codec.write(w, body, h.apiVersion);
  return w.finish();
}

/** The first fields of every request header, readable before the API is known. */
export interface RequestPeek {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** Reads api key, version and correlation id from a frame body (the size prefix removed); null if shorter than 8 bytes. */
export function peekRequest(frame: Buffer): RequestPeek | null {
  if (frame.length < 8) return null;
  return {
    apiKey: frame.readInt16BE(0),
    apiVersion: frame.readInt16BE(2),
    correlationId: frame.readInt32BE(4),
  };
}

export interface DecodedRequest {
  header: RequestHeader;
  headerVersion: number;
  /** Offset of the body in the frame. */
  bodyStart: number;
}

/** Decodes a request header from a frame body (size prefix removed). The API key must be known. */
export function decodeRequestHeader(frame: Buffer): DecodeResult<DecodedRequest> {
  const peek = peekRequest(frame);
  if (peek === null) return { ok: false, error: new DecodeError('request frame shorter than a header', 0) };
  if (apiByKey(peek.apiKey) === undefined) {
    return { ok: false, error: new DecodeError(`unknown api key ${peek.apiKey}`, 0) };
  }
  const headerVersion = requestHeaderVersion(peek.apiKey, peek.apiVersion);
  const r = decodeMessage(RequestHeader, frame, headerVersion);
  if (!r.ok) return r;
  return { ok: true, value: { header: r.value, headerVersion, bodyStart: r.end }, end: r.end };
}

/** Decodes a full request (header and body) from a frame body. */
export function decodeRequest(
  frame: Buffer,
): DecodeResult<{ header: RequestHeader; body: unknown; codec: MessageCodec<unknown> }> {
  const h = decodeRequestHeader(frame);
  if (!h.ok) return h;
  const api = apiByKey(h.value.header.requestApiKey)!;
  const body = decodeMessage(api.request, frame, h.value.header.requestApiVersion, h.value.bodyStart);
  if (!body.ok) return body;
  return { ok: true, value: { header: h.value.header, body: body.value, codec: api.request }, end: body.end };
}

/** Decodes a response frame body (size prefix removed) for a request of `apiKey` at `apiVersion`. */
export function decodeResponse<T>(
  codec: MessageCodec<T>,
  frame: Buffer,
  apiVersion: number,
): DecodeResult<{ correlationId: number; body: T }> {
  const apiKey = codec.apiKey ?? -1;
  const header = decodeMessage(ResponseHeader, frame, responseHeaderVersion(apiKey, apiVersion));
  if (!header.ok) return header;
  const body = decodeMessage(codec, frame, apiVersion, header.end);
  if (!body.ok) return body;
  return { ok: true, value: { correlationId: header.value.correlationId, body: body.value }, end: body.end };
}
