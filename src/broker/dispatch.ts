/**
 * From a frame to a response: reads the header, finds the handler of the API key, checks the
 * version, decodes the body, runs the handler and encodes its answer with the right header
 * version. Anything malformed closes the connection (as Kafka does for an invalid request); an
 * ApiVersions request of a version newer than served gets a v0 answer listing what is served,
 * so the client can retry with a version both know.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { encodeResponseFrame, decodeRequestHeader, peekRequest } from '../protocol/frame.js';
import { ApiKey } from '../protocol/generated/api-keys.js';
import { ApiVersionsResponse } from '../protocol/generated/message/ApiVersionsResponse.js';
import { decodeMessage } from '../protocol/message.js';
import type { FrameHandler } from './network/server.js';
import type { Handler } from './handlers/types.js';
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
  // Requests wait for the broker to be ready; once it is, they skip the await (a microtask each).
  let ready = false;
  void broker.ready.then(() => (ready = true));
  return async (frame, connection) => {
    const peek = peekRequest(frame);
    if (peek === null) return 'frame shorter than a request header';
    const handler = byKey.get(peek.apiKey);
    if (handler === undefined) return `request of unknown or unsupported api key ${peek.apiKey}`;
    if (peek.apiVersion < handler.minVersion || peek.apiVersion > handler.maxVersion) {
      if (peek.apiKey === ApiKey.ApiVersions) {
        const body: ApiVersionsResponse = {
          ...ApiVersionsResponse.create(),
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: apiVersionsList(handlers),
        };
        return encodeResponseFrame(ApiVersionsResponse, body, {
          apiKey: peek.apiKey,
          apiVersion: 0,
          correlationId: peek.correlationId,
        });
      }
      return `${handler.api.name} version ${peek.apiVersion} is not served (${handler.minVersion}-${handler.maxVersion})`;
    }
    const header = decodeRequestHeader(frame);
    if (!header.ok) return `malformed request header: ${header.error.message}`;
    const body = decodeMessage(handler.api.request, frame, peek.apiVersion, header.value.bodyStart);
    if (!body.ok) return `malformed ${handler.api.name} request: ${body.error.message}`;
    if (!ready) await broker.ready;
    const result = await handler.handle(
      { broker, apiVersion: peek.apiVersion, header: header.value.header, connection },
      body.value,
    );
    if (result === null) return null;
    if (typeof result === 'object' && 'close' in result && typeof result.close === 'string')
      return result.close;
    return encodeResponseFrame(handler.api.response, result, {
      apiKey: peek.apiKey,
      apiVersion: peek.apiVersion,
      correlationId: peek.correlationId,
    });
  };
}
