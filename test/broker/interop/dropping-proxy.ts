/**
 * A TCP proxy between Kafka clients and a broker that loses acknowledgements: bytes from the
 * client go to the broker as they come (their request headers read on the way, to know which
 * response answers what), and responses come back whole — except that, by the policy, the
 * connection is cut (both sockets destroyed) instead of forwarding a Produce response. The broker
 * has then written the batch, and the client must retry it not knowing that.
 *
 * Listen first (a free port on 127.0.0.1), start the broker advertising the proxy's port, then
 * `setTarget(brokerPort)`: clients find the broker through the proxy only.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { decodeRequest, peekRequest } from '../../../src/protocol/frame.js';
import type { ProduceRequest } from '../../../src/protocol/generated/message/ProduceRequest.js';
import { BatchField, BatchSplitter } from '../../../src/protocol/records/batch-view.js';

const PRODUCE = 0;

/** One batch of a Produce request on its way to the broker. */
export interface SentBatch {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  records: number;
}

export interface DropOptions {
  /** Cut the connection instead of forwarding every `every`-th Produce response (counted over all connections). */
  every: number;
  /** Only responses larger than this count (a Produce response is a few dozen bytes at least). */
  minBytes?: number;
  /** Stop cutting after this many. */
  maxDrops: number;
  /** Responses to let through before the first cut (so the client is up and running). */
  after?: number;
  /**
   * `response` (the default): cut instead of forwarding the response, after the broker wrote the
   * batch. `request`: cut right after forwarding the request (the broker sees it followed by the
   * end of the connection), counting Produce requests instead of responses.
   */
  cut?: 'response' | 'request';
}

export interface ProxyStats {
  connections: number;
  produceRequests: number;
  produceResponses: number;
  drops: number;
}

export class DroppingProxy {
  readonly port: number;
  readonly stats: ProxyStats = { connections: 0, produceRequests: 0, produceResponses: 0, drops: 0 };
  /** Every batch of every Produce request that reached the broker, in order. */
  readonly sentBatches: SentBatch[] = [];
  private target: number | null = null;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly o: Required<DropOptions>;

  private constructor(server: Server, port: number, o: DropOptions) {
    this.server = server;
    this.port = port;
    this.o = { minBytes: 30, after: 0, cut: 'response', ...o };
    server.on('connection', (s) => this.accept(s));
  }

  static listen(o: DropOptions): Promise<DroppingProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        if (typeof a !== 'object' || a === null) {
          reject(new Error('the proxy has no address'));
          return;
        }
        resolve(new DroppingProxy(server, a.port, o));
      });
    });
  }

  setTarget(port: number): void {
    this.target = port;
  }

  private accept(client: Socket): void {
    if (this.target === null) {
      client.destroy();
      return;
    }
    this.stats.connections++;
    const upstream = connect(this.target, '127.0.0.1');
    this.sockets.add(client);
    this.sockets.add(upstream);
    const pending = new Map<number, number>();
    let fromClient: Buffer = Buffer.alloc(0);
    let fromBroker: Buffer = Buffer.alloc(0);
    let cut = false;
    /** Cut at a request: the broker's side ends once the request and the end are flushed. */
    let ending = false;
    const cutBoth = (): void => {
      cut = true;
      client.destroy();
      if (!ending) upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', () => {
        ending = false;
        cutBoth();
      });
      s.on('close', () => {
        this.sockets.delete(s);
        if (s === upstream) ending = false;
        cutBoth();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      upstream.write(chunk);
      fromClient = fromClient.length === 0 ? chunk : Buffer.concat([fromClient, chunk]);
      while (fromClient.length >= 4 && fromClient.length >= 4 + fromClient.readInt32BE(0)) {
        const size = fromClient.readInt32BE(0);
        const frame = fromClient.subarray(4, 4 + size);
        fromClient = fromClient.subarray(4 + size);
        const peek = peekRequest(frame);
        if (peek === null) continue;
        pending.set(peek.correlationId, peek.apiKey);
        if (peek.apiKey !== PRODUCE) continue;
        this.noteProduce(frame);
        if (this.o.cut === 'request' && this.due(this.stats.produceRequests)) {
          // What was written goes out, then the end of the stream: the broker has the request.
          ending = true;
          cutBoth();
          upstream.end();
          return;
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cut) return;
      fromBroker = fromBroker.length === 0 ? chunk : Buffer.concat([fromBroker, chunk]);
      while (fromBroker.length >= 8 && fromBroker.length >= 4 + fromBroker.readInt32BE(0)) {
        const size = fromBroker.readInt32BE(0);
        const frame = fromBroker.subarray(0, 4 + size);
        fromBroker = fromBroker.subarray(4 + size);
        const correlationId = frame.readInt32BE(4);
        const apiKey = pending.get(correlationId);
        pending.delete(correlationId);
        if (apiKey === PRODUCE && size > this.o.minBytes) {
          this.stats.produceResponses++;
          if (this.o.cut === 'response' && this.due(this.stats.produceResponses)) {
            cutBoth();
            return;
          }
        }
        client.write(frame);
      }
    });
  }

  /** Whether the `count`-th Produce request or response is one to cut at (and counts it). */
  private due(count: number): boolean {
    const n = count - this.o.after;
    if (n <= 0 || n % this.o.every !== 0 || this.stats.drops >= this.o.maxDrops) return false;
    this.stats.drops++;
    return true;
  }

  private noteProduce(frame: Buffer): void {
    this.stats.produceRequests++;
    const decoded = decodeRequest(frame);
    if (!decoded.ok) return;
    const req = decoded.value.body as ProduceRequest;
    for (const t of req.topicData) {
      for (const p of t.partitionData) {
        const it = new BatchSplitter(p.records ?? Buffer.alloc(0));
        while (it.next()) {
          const b = it.batch();
          this.sentBatches.push({
            topic: t.name,
            partition: p.index,
            producerId: b.readBigInt64BE(BatchField.producerId),
            producerEpoch: b.readInt16BE(BatchField.producerEpoch),
            baseSequence: b.readInt32BE(BatchField.baseSequence),
            records: b.readInt32BE(BatchField.recordCount),
          });
        }
      }
    }
  }

  /**
   * Batches that reached the broker more than once (same partition, producer, epoch and first
   * sequence), and the records in those repeats: what the broker had to recognise as duplicates
   * (a repeat whose first send was refused, not written, is counted too).
   */
  repeats(): { batches: number; records: number } {
    const seen = new Set<string>();
    let batches = 0;
    let records = 0;
    for (const b of this.sentBatches) {
      if (b.producerId < 0n) continue;
      const key = `${b.topic}/${b.partition}/${b.producerId}/${b.producerEpoch}/${b.baseSequence}`;
      if (seen.has(key)) {
        batches++;
        records += b.records;
      } else seen.add(key);
    }
    return { batches, records };
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
