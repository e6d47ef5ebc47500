/**
 * The network layer over real sockets: pipelined requests answered in order, limits enforced,
 * malformed input closing only its own connection, ApiVersions' fallback for newer versions,
 * and a bounded fuzz of random and mutated frames after which a real client is still served.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { decodeResponse, encodeRequestFrame } from '../../src/protocol/frame.js';
import { ApiVersionsRequest } from '../../src/protocol/generated/message/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../src/protocol/generated/message/ApiVersionsResponse.js';
import { MetadataRequest } from '../../src/protocol/generated/message/MetadataRequest.js';
import { withBroker } from './interop/support.js';

/** A raw connection collecting response frames (size prefix removed). */
class RawClient {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  readonly frames: Buffer[] = [];
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const size = this.buf.readInt32BE(0);
        this.frames.push(this.buf.subarray(4, 4 + size));
        this.buf = this.buf.subarray(4 + size);
      }
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  send(chunks: Buffer[]): void {
    for (const c of chunks) this.socket.write(c);
  }
}

function apiVersionsFrame(correlationId: number, version = 3): Buffer[] {
  return encodeRequestFrame(
    ApiVersionsRequest,
    { clientSoftwareName: 'test', clientSoftwareVersion: '1', unknownTaggedFields: undefined },
    { apiVersion: version, correlationId, clientId: 'raw' },
  );
}

void describe('network layer', { timeout: 120_000 }, () => {
  void test('pipelined requests are answered in request order', async () => {
    await withBroker({}, async (b) => {
      const c = new RawClient(b.port);
      const frames: Buffer[] = [];
      for (let i = 0; i < 60; i++) {
        if (i % 2 === 0) frames.push(...apiVersionsFrame(i));
        else {
          frames.push(
            ...encodeRequestFrame(
              MetadataRequest,
              { ...MetadataRequest.create(), topics: null },
              { apiVersion: 9, correlationId: i, clientId: 'raw' },
            ),
          );
        }
      }
      c.send([Buffer.concat(frames)]);
      await c.until(() => c.frames.length === 60);
      assert.deepEqual(
        c.frames.map((f) => f.readInt32BE(0)),
        Array.from({ length: 60 }, (_, i) => i),
      );
      c.socket.destroy();
    });
  });

  void test('more pipelined requests than the in-flight limit wait their turn and are all answered in order', async () => {
    await withBroker({}, async (b) => {
      const c = new RawClient(b.port);
      const count = 250;
      const frames: Buffer[] = [];
      for (let i = 0; i < count; i++) frames.push(...apiVersionsFrame(i));
      c.send([Buffer.concat(frames)]);
      await c.until(() => c.frames.length === count, 15_000);
      assert.deepEqual(
        c.frames.map((f) => f.readInt32BE(0)),
        Array.from({ length: count }, (_, i) => i),
      );
      c.socket.destroy();
    });
  });

  void test('ApiVersions newer than served gets a v0 answer listing the served versions', async () => {
    await withBroker({}, async (b) => {
      const c = new RawClient(b.port);
      // Version 99 of ApiVersions: the body is not even decodable, as with a client newer than the broker.
      const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2);
      frame.writeInt32BE(10, 0);
      frame.writeInt16BE(18, 4);
      frame.writeInt16BE(99, 6);
      frame.writeInt32BE(7, 8);
      frame.writeInt16BE(-1, 12);
      c.send([frame]);
      await c.until(() => c.frames.length === 1);
      const r = decodeResponse(ApiVersionsResponse, c.frames[0]!, 0);
      assert.ok(r.ok);
      assert.equal(r.value.correlationId, 7);
      assert.equal(r.value.body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
      assert.ok(r.value.body.apiKeys.some((k) => k.apiKey === 18 && k.maxVersion >= 3));
      c.socket.destroy();
    });
  });

  void test('a frame over socket.request.max.bytes, an unknown api key, and garbage each close only their connection', async () => {
    await withBroker({ 'socket.request.max.bytes': '1000' }, async (b) => {
      const big = new RawClient(b.port);
      const header = Buffer.alloc(4);
      header.writeInt32BE(2000, 0);
      big.send([header]);
      await big.until(() => big.closed);

      const unknown = new RawClient(b.port);
      const f = Buffer.alloc(4 + 10);
      f.writeInt32BE(10, 0);
      f.writeInt16BE(9999, 4);
      unknown.send([f]);
      await unknown.until(() => unknown.closed);

      const garbage = new RawClient(b.port);
      const g = Buffer.from('0000000c000300090000000112345678', 'hex');
      garbage.send([g]);
      await garbage.until(() => garbage.closed);

      const ok = new RawClient(b.port);
      ok.send(apiVersionsFrame(1));
      await ok.until(() => ok.frames.length === 1);
      ok.socket.destroy();
    });
  });

  void test('fuzz: random and mutated frames for a bounded time, then a real client is served', async () => {
    const durationMs = Number(process.env['NETWORK_FUZZ_MS'] ?? 3000);
    await withBroker({}, async (b) => {
      let seed = 12345;
      const rand = (n: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % n;
      };
      const valid = Buffer.concat([
        ...apiVersionsFrame(1),
        ...encodeRequestFrame(
          MetadataRequest,
          { ...MetadataRequest.create(), topics: null },
          { apiVersion: 12, correlationId: 2, clientId: 'f' },
        ),
      ]);
      const deadline = Date.now() + durationMs;
      let sent = 0;
      while (Date.now() < deadline) {
        const c = new RawClient(b.port);
        const frame = Buffer.from(valid);
        const kind = rand(4);
        if (kind === 0) for (let i = 0; i < 1 + rand(8); i++) frame[rand(frame.length)] = rand(256);
        else if (kind === 1) frame.writeInt32BE(rand(0x7fffffff), 0);
        const payload =
          kind === 2
            ? Buffer.from(Array.from({ length: 1 + rand(200) }, () => rand(256)))
            : frame.subarray(0, 1 + rand(frame.length));
        c.send([payload]);
        await new Promise((r) => setTimeout(r, 2));
        c.socket.destroy();
        sent++;
      }
      assert.ok(sent > 10);
      const kafka = new Kafka({ brokers: [b.bootstrap], logLevel: logLevel.NOTHING });
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      const [res] = await producer.send({ topic: 'after-fuzz', messages: [{ value: 'still here' }] });
      assert.equal(res?.errorCode, 0);
      await producer.disconnect();
    });
  });
});
