/**
 * Access to @platformatic/kafka 1.x's per-API modules (dist/apis/<group>/<api>-v<N>.js), each
 * exporting createRequest(...args) → Writer, parseResponse(correlationId, apiKey, apiVersion,
 * reader) and `api`, a function of (connection, ...args) that calls
 * connection.send(apiKey, apiVersion, createPayload, parser, hasRequestHeaderTaggedFields,
 * hasResponseHeaderTaggedFields, callback). Calling `api` with a stand-in connection reveals
 * which header versions the library uses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Reader, Writer } from '@platformatic/kafka';

/** The package root (its "exports" only expose dist/index.js, which lives in dist/). */
export const PLATFORMATIC_DIR = dirname(dirname(fileURLToPath(import.meta.resolve('@platformatic/kafka'))));
const APIS_DIR = join(PLATFORMATIC_DIR, 'dist/apis');

export const platformaticVersion = (
  JSON.parse(readFileSync(join(PLATFORMATIC_DIR, 'package.json'), 'utf8')) as { version: string }
).version;

export type PlatParser = (
  correlationId: number,
  apiKey: number,
  apiVersion: number,
  reader: Reader,
) => unknown;

export interface PlatModule {
  createRequest: (...args: unknown[]) => Writer;
  parseResponse: PlatParser;
  api: ((connection: unknown, ...args: unknown[]) => void) & { key: number; version: number };
}

/** What `api(connection, ...args)` hands to connection.send. */
export interface PlatSend {
  apiKey: number;
  apiVersion: number;
  payload: Writer;
  parser: PlatParser;
  requestHeaderTaggedFields: boolean;
  responseHeaderTaggedFields: boolean;
}

/** Every per-API module file, as "<group>/<name>-v<N>" (no extension). */
export function platFiles(): string[] {
  const out: string[] = [];
  for (const group of readdirSync(APIS_DIR, { withFileTypes: true })) {
    if (!group.isDirectory()) continue;
    for (const f of readdirSync(join(APIS_DIR, group.name))) {
      const m = /^(.*-v\d+)\.js$/.exec(f);
      if (m) out.push(`${group.name}/${m[1]}`);
    }
  }
  return out.sort();
}

export async function loadPlat(file: string): Promise<PlatModule> {
  return (await import(pathToFileURL(join(APIS_DIR, `${file}.js`)).href)) as PlatModule;
}

/** Runs the module's `api` against a stand-in connection and returns what it would send. */
export function capture(mod: PlatModule, args: unknown[]): PlatSend {
  let sent: PlatSend | undefined;
  const connection = {
    send(
      apiKey: number,
      apiVersion: number,
      createPayload: () => Writer,
      parser: PlatParser,
      requestHeaderTaggedFields: boolean,
      responseHeaderTaggedFields: boolean,
    ): void {
      sent = {
        apiKey,
        apiVersion,
        payload: createPayload(),
        parser,
        requestHeaderTaggedFields,
        responseHeaderTaggedFields,
      };
    },
  };
  mod.api(connection, ...args);
  if (sent === undefined) throw new Error('api() did not call connection.send');
  return sent;
}

/** The request frame exactly as platformatic's Connection.send builds it (size prefix included). */
export function platRequestFrame(sent: PlatSend, correlationId: number, clientId: string): Buffer {
  const w = Writer.create()
    .appendInt16(sent.apiKey)
    .appendInt16(sent.apiVersion)
    .appendInt32(correlationId)
    .appendString(clientId, false);
  if (sent.requestHeaderTaggedFields) w.appendTaggedFields();
  w.appendFrom(sent.payload).prependLength();
  return w.buffer;
}

/**
 * Parses a response frame (size prefix included) as platformatic's Connection#onData does: size,
 * correlation id, one byte of header tagged fields when the API says so, then the parser on the
 * rest. Returns the parsed value and how many body bytes the parser left unread.
 */
export function platParseResponse(
  sent: PlatSend,
  frame: Buffer,
): { correlationId: number; parsed: unknown; unread: Buffer } {
  const size = frame.readInt32BE(0);
  if (size !== frame.length - 4)
    throw new Error(`size prefix ${size} but frame has ${frame.length - 4} bytes`);
  const correlationId = frame.readInt32BE(4);
  let pos = 8;
  if (sent.responseHeaderTaggedFields) pos += 1;
  const reader = Reader.from(frame.subarray(pos));
  const parsed = sent.parser(correlationId, sent.apiKey, sent.apiVersion, reader);
  const unread = frame.subarray(pos + reader.position);
  return { correlationId, parsed, unread };
}

export { Reader, Writer };
