/**
 * Shared harness for client tests: a real Samsa broker on 127.0.0.1 with its own temporary
 * data folder, removed when the broker stops; and, for faults a real broker does not produce, a
 * scripted TCP server that decodes requests with Samsa's codecs and answers as the test says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import { decodeRequest, encodeResponseFrame } from '../../src/protocol/frame.js';
import { apis } from '../../src/protocol/generated/api-keys.js';
import type { ApiVersionsResponse } from '../../src/protocol/generated/message/ApiVersionsResponse.js';
import type { RequestHeader } from '../../src/protocol/generated/message/RequestHeader.js';
import type { MessageCodec } from '../../src/protocol/primitives/codec.js';

export type TestBroker = RunningBroker & { dataDir: string };

/** Starts a broker on a free port; `stop()` also removes its data folder. */
export async function startTestBroker(config: Record<string, string> = {}): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-client-'));
  let running: RunningBroker;
  try {
    running = await startBroker({ port: 0, dataDir, config });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    ...running,
    dataDir,
    stop: async () => {
      try {
        await running.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs `fn` against a fresh broker and always stops it (and removes its data) afterwards. */
export async function withBroker<T>(
  config: Record<string, string>,
  fn: (b: TestBroker) => Promise<T>,
): Promise<T> {
  const broker = await startTestBroker(config);
  try {
    return await fn(broker);
  } finally {
    await broker.stop();
  }
}

// ------------------------------------------------------------------ scripted server

/** A request the scripted server received. */
export interface Received {
  header: RequestHeader;
  body: unknown;
  socket: Socket;
}

/** A TCP server on 127.0.0.1 that decodes requests with Samsa's codecs and lets the test decide what to answer. */
export class ScriptedServer {
  readonly requests: Received[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  onRequest: (r: Received) => void = () => undefined;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<ScriptedServer> {
    const s = new ScriptedServer(createServer());
    s.server.on('connection', (socket) => s.accept(socket));
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get port(): number {
    const a = this.server.address();
    assert.ok(a !== null && typeof a === 'object', 'server has an address');
    return a.port;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const size = buffered.readInt32BE(0);
        const frame = buffered.subarray(4, 4 + size);
        buffered = buffered.subarray(4 + size);
        const decoded = decodeRequest(frame);
        assert.ok(decoded.ok, 'client request decodes');
        const r = { header: decoded.value.header, body: decoded.value.body, socket };
        this.requests.push(r);
        this.onRequest(r);
      }
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An ApiVersions response body listing [apiKey, min, max] triples. */
export function apiVersionsBody(errorCode: number, keys: [number, number, number][]): ApiVersionsResponse {
  return {
    ...apis.ApiVersions.response.create(),
    errorCode,
    apiKeys: keys.map(([apiKey, minVersion, maxVersion]) => ({ apiKey, minVersion, maxVersion })),
  };
}

/** The response frame answering `r` (at its version unless told), ready to write to r.socket. */
export function respond<T>(
  r: Received,
  codec: MessageCodec<T>,
  body: T,
  version = r.header.requestApiVersion,
): Buffer {
  return Buffer.concat(
    encodeResponseFrame(codec, body, {
      apiKey: r.header.requestApiKey,
      apiVersion: version,
      correlationId: r.header.correlationId,
    }),
  );
}
