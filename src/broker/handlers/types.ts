/**
 * What every handler file exports: the API it serves, the versions it serves (what ApiVersions
 * advertises), and a function from a decoded request to a response. Handlers return Kafka error
 * codes in the response for anything a client can cause; they do not throw for those.
 */
import type { RequestHeader } from '../../protocol/generated/message/RequestHeader.js';
import type { MessageCodec } from '../../protocol/primitives/codec.js';
import type { ConnectionInfo } from '../network/server.js';
import type { BrokerServices } from '../services.js';

export interface RequestContext {
  readonly broker: BrokerServices;
  readonly apiVersion: number;
  readonly header: RequestHeader;
  readonly connection: ConnectionInfo;
}

/** A response, none (acks=0 produce), or `{ close }` to drop the connection (as Kafka does for some errors). */
export type HandlerResult<Res> = Res | null | { close: string };

export interface Handler<Req = unknown, Res = unknown> {
  readonly api: {
    readonly apiKey: number;
    readonly name: string;
    readonly request: MessageCodec<Req>;
    readonly response: MessageCodec<Res>;
  };
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext, request: Req): Promise<HandlerResult<Res>> | HandlerResult<Res>;
}

/** Types a handler against its API's codecs. */
export function defineHandler<Req, Res>(h: Handler<Req, Res>): Handler<Req, Res> {
  return h;
}
