/**
 * Wire helpers shared by the broker benchmark's processes: a frame splitter, pre-encoded Produce
 * and Fetch requests whose correlation id (and fetch offset) are patched in place before each
 * send, response checks, and a one-request-at-a-time admin client for topic set-up.
 *
 * Everything here is client-side or baseline-side: the broker is reached only through a socket.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { decodeResponse, encodeRequestFrame, encodeResponseFrame } from '../../src/protocol/frame.js';
import { CreateTopicsRequest } from '../../src/protocol/generated/message/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/generated/message/CreateTopicsResponse.js';
import { DeleteTopicsRequest } from '../../src/protocol/generated/message/DeleteTopicsRequest.js';
import { DeleteTopicsResponse } from '../../src/protocol/generated/message/DeleteTopicsResponse.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/generated/message/ProduceResponse.js';
import type { MessageCodec } from '../../src/protocol/primitives/codec.js';
import { encodeRecordBatch, newRecordBatch, type ProducerRecord } from '../../src/protocol/records/batch.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Produce v11 (flexible; Kafka 3.7+ clients), Fetch v16 (topic ids; Kafka 3.7+ consumers). */
export const PRODUCE_VERSION = 11;
export const FETCH_VERSION = 16;
/** Byte offset of the correlation id in a request frame (size prefix included): size, key, version. */
export const REQUEST_CORRELATION_AT = 8;
/** Byte offset of the correlation id in a response frame (size prefix included). */
export const RESPONSE_CORRELATION_AT = 4;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Bytes of a magic-v2 batch header (before the first record). */
const BATCH_HEADER_BYTES = 61;

/**
 * Splits a byte stream into whole frames, size prefix included: a frame inside one chunk is a
 * slice of it, one spread over chunks is joined once (as the broker's FrameDecoder does).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private need = -1;

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.bytes < 4) return;
        const first = this.chunks[0]!;
        const size = first.length >= 4 ? first.readInt32BE(0) : Buffer.concat(this.chunks, 4).readInt32BE(0);
        if (size < 0) throw new Error(`bad frame size ${size}`);
        this.need = size + 4;
      }
      if (this.bytes < this.need) return;
      const n = this.need;
      this.need = -1;
      this.bytes -= n;
      const first = this.chunks[0]!;
      if (first.length >= n) {
        if (first.length === n) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
        onFrame(first.subarray(0, n));
        continue;
      }
      const all = Buffer.concat(this.chunks);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
      onFrame(all.subarray(0, n));
    }
  }
}

// ------------------------------------------------------------------ record batches

export interface BatchShape {
  /** Bytes of each record's value (no key, no headers). */
  valueBytes: number;
  /** Most bytes a batch may have (Kafka's batch.size): records are added while they fit. */
  batchBytes: number;
}

/**
 * `count` distinct uncompressed magic-v2 batches of as many records of `valueBytes` as fit in
 * `batchBytes` (values random, so no two batches are alike), as a producer with
 * batch.size=`batchBytes` and a full accumulator would send them.
 */
export function makeBatches(
  shape: BatchShape,
  count: number,
): { batches: Buffer[]; recordsPerBatch: number } {
  const now = Date.now();
  const values = randomBytes(shape.valueBytes * 64 + count * 97 + 1);
  const build = (n: number, seed: number): Buffer => {
    const records: ProducerRecord[] = Array.from({ length: n }, (_, i) => {
      const at = (seed * 97 + (i % 64) * shape.valueBytes) % (values.length - shape.valueBytes + 1);
      return { key: null, value: values.subarray(at, at + shape.valueBytes), timestamp: now };
    });
    return encodeRecordBatch(newRecordBatch(records), { compression: CompressionCodec.None });
  };
  const one = build(1, 0).length - BATCH_HEADER_BYTES;
  let n = Math.max(1, Math.floor((shape.batchBytes - BATCH_HEADER_BYTES) / one));
  while (n > 1 && build(n, 0).length > shape.batchBytes) n--;
  while (build(n + 1, 0).length <= shape.batchBytes) n++;
  return { batches: Array.from({ length: count }, (_, i) => build(n, i)), recordsPerBatch: n };
}

/** Walks the whole batches at the start of `records`: their count of records and the offset after the last. */
export function scanBatches(records: Buffer): { nextOffset: number; batches: number; records: number } {
  let pos = 0;
  let nextOffset = -1;
  let batches = 0;
  let count = 0;
  while (pos + 27 <= records.length) {
    const size = records.readInt32BE(pos + 8) + 12;
    // A read cut at any byte (the baseline's) may start inside a batch: stop at what is not one.
    if (size < BATCH_HEADER_BYTES || pos + size > records.length) break;
    const base = records.readUInt32BE(pos) * 2 ** 32 + records.readUInt32BE(pos + 4);
    const lastDelta = records.readInt32BE(pos + 23);
    nextOffset = base + lastDelta + 1;
    count += lastDelta + 1;
    batches++;
    pos += size;
  }
  return { nextOffset, batches, records: count };
}

/** Calls `fn(baseOffset, lastOffset)` for every whole batch in `records`. */
export function forEachBatch(records: Buffer, fn: (base: number, last: number) => void): void {
  let pos = 0;
  while (pos + 27 <= records.length) {
    const size = records.readInt32BE(pos + 8) + 12;
    // A read cut at any byte (the baseline's) may start inside a batch: stop at what is not one.
    if (size < BATCH_HEADER_BYTES || pos + size > records.length) break;
    const base = records.readUInt32BE(pos) * 2 ** 32 + records.readUInt32BE(pos + 4);
    fn(base, base + records.readInt32BE(pos + 23));
    pos += size;
  }
}

// ------------------------------------------------------------------ pre-encoded requests

/** A whole Produce request frame (size prefix included) for one batch to one partition, acks=1. */
export function produceFrame(topic: string, partition: number, batch: Buffer, acks = 1): Buffer {
  const body: ProduceRequest = {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  };
  return Buffer.concat(
    encodeRequestFrame(ProduceRequest, body, {
      apiVersion: PRODUCE_VERSION,
      correlationId: 0,
      clientId: 'samsa-bench',
    }),
  );
}

/** A produce answer's correlation id and base offset; throws on any partition error. */
export function checkProduceResponse(frame: Buffer): { correlationId: number; baseOffset: number } {
  const r = decodeResponse(ProduceResponse, frame.subarray(4), PRODUCE_VERSION);
  if (!r.ok) throw r.error;
  let baseOffset = -1;
  for (const t of r.value.body.responses) {
    for (const p of t.partitionResponses) {
      if (p.errorCode !== ErrorCode.NONE)
        throw new Error(
          `produce to ${t.name}-${p.index} failed: error ${p.errorCode} ${p.errorMessage ?? ''}`,
        );
      baseOffset = Number(p.baseOffset);
    }
  }
  return { correlationId: r.value.correlationId, baseOffset };
}

/** A successful ProduceResponse frame for one partition, for the baseline sink to send back (correlation id patched). */
export function produceResponseFrame(topic: string, partition: number): Buffer {
  const body: ProduceResponse = {
    ...ProduceResponse.create(),
    responses: [
      {
        name: topic,
        partitionResponses: [
          {
            ...ProduceResponse.structs.PartitionProduceResponse(),
            index: partition,
            errorCode: ErrorCode.NONE,
            baseOffset: 0n,
            logAppendTimeMs: -1n,
            logStartOffset: 0n,
          },
        ],
      },
    ],
  };
  return Buffer.concat(encodeResponseFrameOf(ProduceResponse, body, 0, PRODUCE_VERSION));
}

/** A whole response frame (chunks, size prefix included) for a request of `codec`'s API. */
export function encodeResponseFrameOf<T>(
  codec: MessageCodec<T>,
  body: T,
  correlationId: number,
  apiVersion: number,
): Buffer[] {
  return encodeResponseFrame(codec, body, { apiKey: codec.apiKey!, apiVersion, correlationId });
}

/** A Fetch request frame whose fetch offset is patched with `setOffset` before each send. */
export class FetchFrame {
  readonly frame: Buffer;
  private readonly offsetAt: number;

  constructor(
    topicId: string,
    partition: number,
    o: { maxWaitMs: number; minBytes: number; maxBytes: number; partitionMaxBytes: number },
  ) {
    const sentinel = 0x0123456789abcdefn;
    const body: FetchRequest = {
      ...FetchRequest.create(),
      replicaId: -1,
      maxWaitMs: o.maxWaitMs,
      minBytes: o.minBytes,
      maxBytes: o.maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          ...FetchRequest.structs.FetchTopic(),
          topicId,
          partitions: [
            {
              ...FetchRequest.structs.FetchPartition(),
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: sentinel,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: o.partitionMaxBytes,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    };
    this.frame = Buffer.concat(
      encodeRequestFrame(FetchRequest, body, {
        apiVersion: FETCH_VERSION,
        correlationId: 0,
        clientId: 'samsa-bench',
      }),
    );
    const s = Buffer.alloc(8);
    s.writeBigInt64BE(sentinel);
    this.offsetAt = this.frame.indexOf(s);
    if (this.offsetAt < 0) throw new Error('fetch offset not found in the encoded request');
  }

  /** The frame, with this correlation id and fetch offset. */
  at(correlationId: number, offset: number): Buffer {
    this.frame.writeInt32BE(correlationId, REQUEST_CORRELATION_AT);
    this.frame.writeBigInt64BE(BigInt(offset), this.offsetAt);
    return this.frame;
  }
}

/** A fetch answer's correlation id and the records of its single partition; throws on an error. */
export function checkFetchResponse(frame: Buffer): {
  correlationId: number;
  records: Buffer;
  highWatermark: number;
} {
  const r = decodeResponse(FetchResponse, frame.subarray(4), FETCH_VERSION);
  if (!r.ok) throw r.error;
  const body = r.value.body;
  if (body.errorCode !== ErrorCode.NONE) throw new Error(`fetch failed: error ${body.errorCode}`);
  const p = body.responses[0]?.partitions[0];
  if (p === undefined) throw new Error('fetch answer without a partition');
  if (p.errorCode !== ErrorCode.NONE) throw new Error(`fetch failed: partition error ${p.errorCode}`);
  return {
    correlationId: r.value.correlationId,
    records: p.records ?? Buffer.alloc(0),
    highWatermark: Number(p.highWatermark),
  };
}

/** A FetchResponse frame (chunks, size prefix included) of one partition holding `records`. */
export function fetchResponseFrame(
  correlationId: number,
  apiVersion: number,
  records: Buffer,
  highWatermark: number,
): Buffer[] {
  const body: FetchResponse = {
    ...FetchResponse.create(),
    sessionId: 0,
    responses: [
      {
        topic: '',
        topicId: ZERO_UUID,
        partitions: [
          {
            ...FetchResponse.structs.PartitionData(),
            partitionIndex: 0,
            errorCode: ErrorCode.NONE,
            highWatermark: BigInt(highWatermark),
            lastStableOffset: BigInt(highWatermark),
            logStartOffset: 0n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records,
          },
        ],
      },
    ],
  };
  return encodeResponseFrameOf(FetchResponse, body, correlationId, apiVersion);
}

// ------------------------------------------------------------------ admin

/** One request at a time over a socket, with Samsa's codecs: topic set-up between rounds. */
export class AdminClient {
  private readonly reader = new FrameReader();
  private waiting: { resolve: (f: Buffer) => void; reject: (e: Error) => void } | null = null;
  private correlationId = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) =>
      this.reader.push(chunk, (frame) => {
        const w = this.waiting;
        this.waiting = null;
        w?.resolve(frame);
      }),
    );
    socket.on('close', () => this.waiting?.reject(new Error('connection closed by the broker')));
  }

  static open(port: number): Promise<AdminClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new AdminClient(socket)));
      socket.once('error', reject);
    });
  }

  async send<Req, Res>(
    request: MessageCodec<Req>,
    response: MessageCodec<Res>,
    version: number,
    body: Req,
  ): Promise<Res> {
    const correlationId = ++this.correlationId;
    const frame = new Promise<Buffer>((resolve, reject) => (this.waiting = { resolve, reject }));
    for (const c of encodeRequestFrame(request, body, {
      apiVersion: version,
      correlationId,
      clientId: 'bench',
    }))
      this.socket.write(c);
    const decoded = decodeResponse(response, (await frame).subarray(4), version);
    if (!decoded.ok) throw decoded.error;
    if (decoded.value.correlationId !== correlationId) throw new Error('correlation id mismatch');
    return decoded.value.body;
  }

  /** Creates a topic with the broker's default configs; resolves to its topic id. */
  async createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<string> {
    const res = await this.send(CreateTopicsRequest, CreateTopicsResponse, 7, {
      topics: [
        {
          name,
          numPartitions: partitions,
          replicationFactor: 1,
          assignments: [],
          configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const t = res.topics[0];
    if (t === undefined || t.errorCode !== ErrorCode.NONE)
      throw new Error(`creating ${name} failed: error ${t?.errorCode} ${t?.errorMessage ?? ''}`);
    return t.topicId;
  }

  async deleteTopic(name: string): Promise<void> {
    const res = await this.send(DeleteTopicsRequest, DeleteTopicsResponse, 6, {
      topics: [{ name, topicId: ZERO_UUID }],
      topicNames: [],
      timeoutMs: 30_000,
    });
    const t = res.responses[0];
    if (t === undefined || t.errorCode !== ErrorCode.NONE)
      throw new Error(`deleting ${name} failed: error ${t?.errorCode} ${t?.errorMessage ?? ''}`);
  }

  close(): void {
    this.socket.destroy();
  }
}
