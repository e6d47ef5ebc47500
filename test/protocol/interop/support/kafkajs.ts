/**
 * Typed access to kafkajs 2.x protocol internals (CommonJS, untyped): per-API request encoders
 * and response decoders under node_modules/kafkajs/src/protocol/requests/<api>/v<N>/.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** kafkajs's Encoder: a growable buffer; `buffer` is the written bytes. */
export interface KjsEncoder {
  readonly buffer: Buffer;
}

export interface KjsRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  encode(): Promise<KjsEncoder>;
}

export interface KjsResponse {
  decode(payload: Buffer): Promise<Record<string, unknown>>;
  parse(data: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export type KjsRequestFactory = (args: unknown) => KjsRequest;

/** kafkajs's root directory (kafkajs has no "exports" map, so its internals can be required). */
export const KAFKAJS_DIR = dirname(require.resolve('kafkajs/package.json'));
const REQUESTS_DIR = join(KAFKAJS_DIR, 'src/protocol/requests');

export const kafkajsVersion = (require('kafkajs/package.json') as { version: string }).version;

export function loadKjs(path: string): unknown {
  return require(join(KAFKAJS_DIR, 'src', path));
}

/** API directories kafkajs implements (e.g. 'fetch', 'joinGroup'). */
export function kjsApis(): string[] {
  return readdirSync(REQUESTS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Versions kafkajs implements for an API, from its v<N> directories. */
export function kjsVersions(api: string): number[] {
  return readdirSync(join(REQUESTS_DIR, api))
    .filter((n) => /^v\d+$/.test(n))
    .map((n) => Number(n.slice(1)))
    .sort((a, b) => a - b);
}

export function kjsRequest(api: string, version: number): KjsRequestFactory {
  return loadKjs(`protocol/requests/${api}/v${version}/request.js`) as KjsRequestFactory;
}

/** The response module: most export { decode, parse }; DeleteRecords exports a factory of them. */
export function kjsResponseModule(api: string, version: number): unknown {
  return loadKjs(`protocol/requests/${api}/v${version}/response.js`);
}

/** kafkajs's request framing (src/protocol/request.js): size, header v1 (key, version, correlation id, client id), body. */
export const kjsFrame = loadKjs('protocol/request.js') as (args: {
  correlationId: number;
  clientId: string;
  request: KjsRequest;
}) => Promise<KjsEncoder>;

export interface KjsDecoderLike {
  readonly offset: number;
}
export const KjsDecoder = loadKjs('protocol/decoder.js') as new (buf: Buffer) => KjsDecoderLike;
export const KjsEncoderClass = loadKjs('protocol/encoder.js') as new () => KjsEncoder & {
  writeBytes(b: Buffer): KjsEncoder;
};

export interface KjsMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  magicByte?: number;
  headers?: Record<string, Buffer | Buffer[]>;
}

/** MessageSet (magic 0/1) encoder: ({ messageVersion, entries }) => Encoder. */
export const kjsMessageSet = loadKjs('protocol/messageSet/index.js') as (args: {
  messageVersion: number;
  entries: { key: string | Buffer; value: string | Buffer; timestamp?: number }[];
}) => KjsEncoder;

/** MessageSet decoder: (decoder, size) => messages. */
export const kjsMessageSetDecoder = loadKjs('protocol/messageSet/decoder.js') as (
  decoder: KjsDecoderLike,
  size: number,
) => Promise<KjsMessage[]>;

/** RecordBatch (magic 2) encoder and its record encoder. */
export const kjsRecordBatch = (
  loadKjs('protocol/recordBatch/v0/index.js') as {
    RecordBatch: (args: Record<string, unknown>) => Promise<KjsEncoder>;
  }
).RecordBatch;
export const kjsRecord = loadKjs('protocol/recordBatch/record/v0/index.js') as (args: {
  offsetDelta: number;
  timestampDelta: number;
  key: string | Buffer;
  value: string | Buffer;
  headers?: Record<string, string>;
}) => KjsEncoder;
export const kjsRecordBatchDecoder = loadKjs('protocol/recordBatch/v0/decoder.js') as (
  decoder: KjsDecoderLike,
) => Promise<{ records: KjsMessage[]; firstOffset: string; producerId: string; inTransaction: boolean }>;
