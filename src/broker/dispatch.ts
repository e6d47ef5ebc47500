/**
 * From a frame to a response: reads the header, finds the handler of the API key, checks the
 * version, decodes the body, runs the handler and encodes its answer with the right header
 * version. Anything malformed closes the connection (as Kafka does for an invalid request); an
 * ApiVersions request of a version newer than served gets a v0 answer listing what is served,
 * so the client can retry with a version both know.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import {
  encodeResponseFrame,
  decodeRequestHeader,
  peekRequest,
  type RequestPeek,
} from '../protocol/frame.js';
import { ApiKey } from '../protocol/generated/api-keys.js';
import { ApiVersionsResponse } from '../protocol/generated/message/ApiVersionsResponse.js';
import { decodeMessage } from '../protocol/message.js';
import type { ConnectionInfo, FrameHandler } from './network/server.js';
import type { Handler, HandlerResult } from './handlers/types.js';
import type { BrokerServices } from './services.js';

export function apiVersionsList(handlers: readonly Handler[]): ApiVersionsResponse.ApiVersion[] {
  return [...handlers]
    .sort((a, b) => a.api.apiKey - b.api.apiKey)
    .map((h) => ({
      apiKey: h.api.apiKey,
      minVersion: h.minVersion,
      maxVersion: h.maxVersion,
      unknownTaggedFields: undefined,
    }));
}

export function makeFrameHandler(broker: BrokerServices, handlers: readonly Handler[]): FrameHandler {
  const byKey = new Map<number, Handler>(handlers.map((h) => [h.api.apiKey, h]));
  // Requests wait for the broker to be ready; once it is, they skip the wait (a microtask each).
  let ready = false;
  void broker.ready.then(() => (ready = true));
  const handleFrame = (frame: Buffer, connection: ConnectionInfo): Promise<Buffer[] | null | string> => {
    const peek = peekRequest(frame);
    if (peek === null) return Promise.resolve('frame shorter than a request header');
    const handler = byKey.get(peek.apiKey);
    if (handler === undefined) {
      return Promise.resolve(`request of unknown or unsupported api key ${peek.apiKey}`);
    }
    if (peek.apiVersion < handler.minVersion || peek.apiVersion > handler.maxVersion) {
      if (peek.apiKey === ApiKey.ApiVersions) {
        const body: ApiVersionsResponse = {
          ...ApiVersionsResponse.create(),
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: apiVersionsList(handlers),
        };
        return Promise.resolve(
          encodeResponseFrame(ApiVersionsResponse, body, {
            apiKey: peek.apiKey,
            apiVersion: 0,
            correlationId: peek.correlationId,
          }),
        );
      }
      return Promise.resolve(
        `${handler.api.name} version ${peek.apiVersion} is not served (${handler.minVersion}-${handler.maxVersion})`,
      );
    }
    if (!ready) return broker.ready.then(() => handleFrame(frame, connection));
    const header = decodeRequestHeader(frame);
    if (!header.ok) return Promise.resolve(`malformed request header: ${header.error.message}`);
    const body = decodeMessage(handler.api.request, frame, peek.apiVersion, header.value.bodyStart);
    if (!body.ok) return Promise.resolve(`malformed ${handler.api.name} request: ${body.error.message}`);
    const result = handler.handle(
      { broker, apiVersion: peek.apiVersion, header: header.value.header, connection },
      body.value,
    );
    // Most handlers are async: the wait for their answer is a small async frame of its own, so
    // the decoding above holds nothing across it (fewer allocations per request).
    return result instanceof Promise
      ? encodeWhenDone(result, handler, peek)
      : Promise.resolve(encodeResult(result, handler, peek));
  };
  return handleFrame;
}

async function encodeWhenDone(
  result: Promise<HandlerResult<unknown>>,
  handler: Handler,
  peek: RequestPeek,
): Promise<Buffer[] | null | string> {
  return encodeResult(await result, handler, peek);
}

/** A handler's answer as a response frame, none, or the reason to close the connection. */
function encodeResult(
  result: HandlerResult<unknown>,
  handler: Handler,
  peek: RequestPeek,
): Buffer[] | null | string {
  if (result === null) return null;
  if (typeof result === 'object' && 'close' in result && typeof result.close === 'string')
    return result.close;
  return encodeResponseFrame(handler.api.response, result, {
    apiKey: peek.apiKey,
    apiVersion: peek.apiVersion,
    correlationId: peek.correlationId,
  });
}
