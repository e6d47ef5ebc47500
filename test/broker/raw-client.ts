/** A raw Kafka client for broker tests: Samsa's own codecs over a socket, one request at a time, at a chosen version. */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { decodeResponse, encodeRequestFrame } from '../../src/protocol/frame.js';
import type { MessageCodec } from '../../src/protocol/primitives/codec.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';

/** A socket speaking Samsa's codecs: one request at a time. */
export class RawClient {
  private buffered = Buffer.alloc(0);
  private waiting: { resolve: (frame: Buffer) => void; reject: (e: Error) => void } | null = null;
  private correlationId = 0;
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.deliver();
    });
    socket.on('close', () => this.waiting?.reject(new Error('connection closed by the broker')));
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private deliver(): void {
    if (this.waiting === null || this.buffered.length < 4) return;
    const size = this.buffered.readInt32BE(0);
    if (this.buffered.length < 4 + size) return;
    const frame = this.buffered.subarray(4, 4 + size);
    this.buffered = this.buffered.subarray(4 + size);
    const w = this.waiting;
    this.waiting = null;
    w.resolve(frame);
  }

  async send<Req, Res>(
    request: MessageCodec<Req>,
    response: MessageCodec<Res>,
    version: number,
    body: Req,
  ): Promise<Res> {
    const correlationId = ++this.correlationId;
    const frame = new Promise<Buffer>((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
    this.socket.write(
      Buffer.concat(
        encodeRequestFrame(request, body, { apiVersion: version, correlationId, clientId: 'raw' }),
      ),
    );
    const decoded = decodeResponse(response, await frame, version);
    if (!decoded.ok) throw decoded.error;
    assert.equal(decoded.value.correlationId, correlationId);
    return decoded.value.body;
  }

  /**
   * One sessionless Fetch v11 of a partition from `offset` (no wait, up to 1 MiB), at
   * `isolationLevel` (0 read_uncommitted, 1 read_committed): the partition's answer.
   */
  async fetchPartition(
    topic: string,
    partition: number,
    offset: number,
    isolationLevel = 0,
  ): Promise<FetchResponse.PartitionData | undefined> {
    const res = await this.send(FetchRequest, FetchResponse, 11, {
      ...FetchRequest.create(),
      maxWaitMs: 0,
      minBytes: 0,
      isolationLevel,
      topics: [
        {
          ...FetchRequest.structs.FetchTopic(),
          topic,
          partitions: [
            {
              ...FetchRequest.structs.FetchPartition(),
              partition,
              fetchOffset: BigInt(offset),
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
    });
    return res.responses[0]?.partitions[0];
  }

  close(): void {
    this.socket.destroy();
  }
}
