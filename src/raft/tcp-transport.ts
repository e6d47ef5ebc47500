/**
 * Raft messages between processes over TCP, in Kafka frames: requests are written with
 * `encodeRequestFrame` at the versions in RAFT_API_VERSIONS, responses with
 * `encodeResponseFrame` at the version of the request they answer, so the bytes on the wire are
 * what KRaft's controllers exchange.
 *
 * Connections, as in KRaft: each node opens one connection to each peer and sends its requests
 * on it; the peer answers on the same connection, matched by correlation id. Requests that
 * arrive on the server socket are answered on the connection they came on. So between two
 * nodes there are two connections, one per direction of requests.
 *
 * Who sent a request: read from its body, as KRaft does (its channel has no handshake either):
 * VoteRequest's candidateId, Begin/EndQuorumEpochRequest's leaderId, FetchRequest's replica id
 * (replicaState.replicaId from v15), FetchSnapshotRequest's replicaId. A response comes from
 * the peer its connection goes to. No handshake means nothing to get wrong at connect time,
 * and a message is self-describing in a packet capture; the cost is that a node could claim
 * another's id, which an unauthenticated transport allows anyway.
 *
 * Loss is normal (Raft retries): messages for a peer that is not connected wait in a bounded
 * queue (the oldest are dropped when it is full: newer messages supersede them); a connection
 * that fails is retried with exponential backoff; requests in flight on a connection that
 * closes are forgotten (their answers cannot come); a response whose connection is gone, or a
 * message that does not decode, is dropped and counted.
 */
import * as net from 'node:net';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { encodeRequestFrame, encodeResponseFrame, decodeRequest, decodeResponse } from '../protocol/frame.js';
import { DescribeQuorumRequest } from '../protocol/generated/message/DescribeQuorumRequest.js';
import { DescribeQuorumResponse } from '../protocol/generated/message/DescribeQuorumResponse.js';
import { METADATA_TOPIC_NAME, type RaftMessage } from './types.js';
import { API_BY_KEY, API_BY_REQUEST_TYPE, API_BY_RESPONSE_TYPE, wireBody, type RaftApi } from './wire.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface TcpTransportLimits {
  /** Messages waiting for a peer's connection, at most (the oldest are dropped beyond). */
  readonly queueMessagesMax: number;
  /** Bytes waiting for a peer's connection, at most (the oldest are dropped beyond). */
  readonly queueBytesMax: number;
  /** Messages that waited longer for a connection are dropped when it comes (stale by then). */
  readonly queueAgeMaxMs: number;
  /** Bytes a socket may hold unsent before new messages to it are dropped. */
  readonly socketBufferBytesMax: number;
  /** Largest response frame accepted (a Fetch response carries up to fetchMaxBytes of entries). */
  readonly frameBytesMax: number;
  /** Largest request frame accepted on an inbound connection (Raft's requests are small). */
  readonly requestFrameBytesMax: number;
  /** Requests awaiting an answer per connection, at most (the oldest are forgotten beyond). */
  readonly inflightMax: number;
  /** Requests received and not yet answered, at most (the oldest are forgotten beyond). */
  readonly pendingResponsesMax: number;
  readonly reconnectBackoffMinMs: number;
  readonly reconnectBackoffMaxMs: number;
  /** A connection attempt that takes longer is abandoned (and retried after the backoff). */
  readonly connectTimeoutMs: number;
}

export const DEFAULT_TCP_TRANSPORT_LIMITS: TcpTransportLimits = {
  queueMessagesMax: 1024,
  queueBytesMax: 64 * 1024 * 1024,
  queueAgeMaxMs: 2000,
  socketBufferBytesMax: 64 * 1024 * 1024,
  frameBytesMax: 100 * 1024 * 1024,
  requestFrameBytesMax: 1024 * 1024,
  inflightMax: 4096,
  pendingResponsesMax: 4096,
  reconnectBackoffMinMs: 20,
  reconnectBackoffMaxMs: 500,
  connectTimeoutMs: 2000,
};

export interface TcpTransportOptions {
  readonly nodeId: number;
  /** Addresses of the other nodes (a node's own entry, if present, is ignored). */
  readonly peers: ReadonlyMap<number, PeerAddress>;
  /** Where the server listens; port 0 picks a free port (see `listen`). */
  readonly listenHost: string;
  readonly listenPort: number;
  /** Every message received, with its sender, in the order its connection delivered it. */
  readonly onMessage: (from: number, message: RaftMessage) => void;
  /**
   * DescribeQuorum's answer for the metadata partition (admin tools ask any node; only the
   * leader answers NONE, as in KRaft). Without it the request is dropped like any unknown one.
   */
  readonly describeQuorum?: () => DescribeQuorumResponse.PartitionData;
  readonly limits?: Partial<TcpTransportLimits>;
  readonly logLine?: (message: string) => void;
}

/** Counters, for tests and benchmarks. */
export interface TcpTransportStats {
  sent: number;
  received: number;
  /** Dropped because a queue or a socket buffer was full. */
  droppedFull: number;
  /** Dropped because they waited longer than queueAgeMaxMs for a connection. */
  droppedStale: number;
  /** Responses whose request's connection was gone (or forgotten), and messages to unknown peers. */
  droppedNoRoute: number;
  /** Frames that did not decode, or requests without a sender id. */
  droppedMalformed: number;
  connects: number;
  disconnects: number;
}

/** A request received and not yet answered: where and how its answer goes. */
interface PendingResponse {
  readonly socket: net.Socket;
  readonly api: RaftApi;
  readonly apiVersion: number;
}

interface QueuedFrame {
  readonly queuedAtMs: number;
  readonly chunks: Buffer[];
  readonly bytes: number;
  readonly correlationId: number;
  readonly api: RaftApi;
}

export class TcpTransport {
  readonly nodeId: number;
  readonly stats: TcpTransportStats = {
    sent: 0,
    received: 0,
    droppedFull: 0,
    droppedStale: 0,
    droppedNoRoute: 0,
    droppedMalformed: 0,
    connects: 0,
    disconnects: 0,
  };
  private readonly opts: TcpTransportOptions;
  private readonly limits: TcpTransportLimits;
  private readonly peers = new Map<number, PeerAddress>();
  private readonly links = new Map<number, PeerLink>();
  private readonly pending = new Map<string, PendingResponse>();
  private readonly inboundSockets = new Set<net.Socket>();
  private server: net.Server | null = null;
  private closed = false;
  private readonly clientId: string;

  constructor(opts: TcpTransportOptions) {
    this.opts = opts;
    this.nodeId = opts.nodeId;
    this.limits = { ...DEFAULT_TCP_TRANSPORT_LIMITS, ...opts.limits };
    this.clientId = `raft-${opts.nodeId}`;
    for (const [id, address] of opts.peers) if (id !== opts.nodeId) this.peers.set(id, address);
  }

  /** Starts the server; resolves to the port it listens on. */
  listen(): Promise<number> {
    if (this.server !== null) throw new Error('TcpTransport.listen called twice');
    const server = net.createServer({ noDelay: true }, (socket) => this.acceptInbound(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.listenPort, this.opts.listenHost, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log(`server error: ${e.message}`));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Sets or changes a peer's address (tests that listen on port 0 learn ports late). */
  setPeerAddress(id: number, address: PeerAddress): void {
    if (id === this.nodeId) return;
    this.peers.set(id, address);
    this.links.get(id)?.disconnect('address changed');
  }

  /** Sends a message; never throws for network reasons (a message that cannot go is dropped). */
  send(to: number, message: RaftMessage): void {
    if (this.closed) return;
    const responseApi = API_BY_RESPONSE_TYPE.get(message.type);
    if (responseApi !== undefined) {
      this.sendResponse(to, message, responseApi);
      return;
    }
    const api = API_BY_REQUEST_TYPE.get(message.type);
    if (api === undefined) throw new Error(`TcpTransport: unknown message type ${message.type}`);
    const link = this.linkTo(to);
    if (link === null) {
      this.stats.droppedNoRoute++;
      return;
    }
    const chunks = encodeRequestFrame(api.request, wireBody(message, api.version), {
      apiVersion: api.version,
      correlationId: message.correlationId,
      clientId: this.clientId,
    });
    link.send({
      queuedAtMs: Date.now(),
      chunks,
      bytes: totalBytes(chunks),
      correlationId: message.correlationId,
      api,
    });
  }

  /** Stops the server and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) link.close();
    for (const s of this.inboundSockets) s.destroy();
    this.pending.clear();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ internals

  private log(message: string): void {
    this.opts.logLine?.(`transport ${this.nodeId}: ${message}`);
  }

  private linkTo(to: number): PeerLink | null {
    let link = this.links.get(to);
    if (link !== undefined) return link;
    const address = this.peers.get(to);
    if (address === undefined) return null;
    link = new PeerLink(
      to,
      this.peers,
      this.limits,
      this.stats,
      (m) => this.deliver(to, m),
      this.log.bind(this),
    );
    this.links.set(to, link);
    return link;
  }

  /** DescribeQuorum (a client's request, not a Raft message): answered here, from the node's state. */
  private answerDescribeQuorum(socket: net.Socket, correlationId: number, apiVersion: number): void {
    const describe = this.opts.describeQuorum;
    if (describe === undefined) {
      this.stats.droppedMalformed++;
      return;
    }
    let partition: DescribeQuorumResponse.PartitionData;
    try {
      partition = describe();
    } catch (e) {
      // A client's question must never take the node down.
      this.log(`DescribeQuorum failed: ${String(e)}`);
      socket.destroy();
      return;
    }
    const chunks = encodeResponseFrame(
      DescribeQuorumResponse,
      {
        ...DescribeQuorumResponse.create(),
        topics: [{ topicName: METADATA_TOPIC_NAME, partitions: [partition] }],
      },
      { apiKey: DescribeQuorumRequest.apiKey, apiVersion, correlationId },
    );
    socket.cork();
    for (const c of chunks) socket.write(c);
    socket.uncork();
  }

  private deliver(from: number, message: RaftMessage): void {
    if (this.closed) return;
    this.stats.received++;
    this.opts.onMessage(from, message);
  }

  private sendResponse(to: number, message: RaftMessage, api: RaftApi): void {
    const key = `${to}:${message.correlationId}`;
    const p = this.pending.get(key);
    if (p === undefined || p.api !== api || p.socket.destroyed) {
      this.stats.droppedNoRoute++;
      return;
    }
    this.pending.delete(key);
    if (p.socket.writableLength > this.limits.socketBufferBytesMax) {
      this.stats.droppedFull++;
      return;
    }
    const chunks = encodeResponseFrame(api.response, message.body, {
      apiKey: api.apiKey,
      apiVersion: p.apiVersion,
      correlationId: message.correlationId,
    });
    writeChunks(p.socket, chunks);
    this.stats.sent++;
  }

  private acceptInbound(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.inboundSockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(Math.min(this.limits.frameBytesMax, this.limits.requestFrameBytesMax));
    socket.on('data', (chunk: Buffer) => {
      const problem = decoder.push(chunk, (frame) => this.onRequestFrame(socket, frame));
      if (problem !== null) {
        this.stats.droppedMalformed++;
        this.log(`closing an inbound connection: ${problem}`);
        socket.destroy();
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => this.inboundSockets.delete(socket));
  }

  private onRequestFrame(socket: net.Socket, frame: Buffer): void {
    if (this.closed || socket.destroyed) return;
    const decoded = decodeRequest(frame);
    if (decoded.ok && decoded.value.header.requestApiKey === DescribeQuorumRequest.apiKey) {
      this.answerDescribeQuorum(
        socket,
        decoded.value.header.correlationId,
        decoded.value.header.requestApiVersion,
      );
      return;
    }
    const api = decoded.ok ? API_BY_KEY.get(decoded.value.header.requestApiKey) : undefined;
    if (!decoded.ok || api === undefined) {
      this.stats.droppedMalformed++;
      this.log(
        `dropped a request: ${decoded.ok ? `api key ${decoded.value.header.requestApiKey}` : decoded.error.message}`,
      );
      return;
    }
    const { header, body } = decoded.value;
    const from = api.senderOf(body as never, header.requestApiVersion);
    if (from === undefined || from < 0) {
      this.stats.droppedMalformed++;
      return;
    }
    const key = `${from}:${header.correlationId}`;
    this.pending.delete(key);
    this.pending.set(key, { socket, api, apiVersion: header.requestApiVersion });
    if (this.pending.size > this.limits.pendingResponsesMax) {
      // Unanswered for long (a node that never answers some request): the oldest are forgotten.
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.deliver(from, { type: api.requestType, correlationId: header.correlationId, body } as RaftMessage);
  }
}

/** The outbound connection to one peer: connects on demand, queues while down, reconnects with backoff. */
class PeerLink {
  private socket: net.Socket | null = null;
  private connected = false;
  private queue: (QueuedFrame | undefined)[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private readonly inflight = new Map<number, RaftApi>();
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly peerId: number,
    private readonly peers: ReadonlyMap<number, PeerAddress>,
    private readonly limits: TcpTransportLimits,
    private readonly stats: TcpTransportStats,
    private readonly deliver: (message: RaftMessage) => void,
    private readonly log: (message: string) => void,
  ) {
    this.backoffMs = limits.reconnectBackoffMinMs;
  }

  send(frame: QueuedFrame): void {
    if (this.closed) return;
    const socket = this.socket;
    if (this.connected && socket !== null) {
      if (socket.writableLength > this.limits.socketBufferBytesMax) {
        this.stats.droppedFull++;
        return;
      }
      this.write(socket, frame);
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.bytes;
    while (
      this.queue.length - this.queueHead > this.limits.queueMessagesMax ||
      this.queuedBytes > this.limits.queueBytesMax
    ) {
      const dropped = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined;
      this.queuedBytes -= dropped.bytes;
      this.stats.droppedFull++;
    }
    if (this.queueHead > QUEUE_COMPACT_MIN && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    if (this.socket === null && this.retryTimer === null) this.connect();
  }

  disconnect(reason: string): void {
    if (this.socket !== null) {
      this.log(`disconnecting from ${this.peerId}: ${reason}`);
      this.socket.destroy();
    }
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.socket?.destroy();
    this.socket = null;
    this.queue = [];
    this.queueHead = 0;
    this.inflight.clear();
  }

  private write(socket: net.Socket, frame: QueuedFrame): void {
    this.inflight.set(frame.correlationId, frame.api);
    if (this.inflight.size > this.limits.inflightMax) {
      const oldest = this.inflight.keys().next().value;
      if (oldest !== undefined) this.inflight.delete(oldest);
    }
    writeChunks(socket, frame.chunks);
    this.stats.sent++;
  }

  private connect(): void {
    const address = this.peers.get(this.peerId);
    if (this.closed || address === undefined) return;
    const socket = net.connect({ host: address.host, port: address.port, noDelay: true });
    this.socket = socket;
    const decoder = new FrameDecoder(this.limits.frameBytesMax);
    socket.setTimeout(this.limits.connectTimeoutMs, () => {
      if (!this.connected) socket.destroy(new Error('connect timeout'));
    });
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      socket.setTimeout(0);
      this.connected = true;
      this.backoffMs = this.limits.reconnectBackoffMinMs;
      this.stats.connects++;
      // What waited too long is stale (the node has retried or moved on since): dropped.
      const staleBeforeMs = Date.now() - this.limits.queueAgeMaxMs;
      socket.cork();
      for (let i = this.queueHead; i < this.queue.length; i++) {
        const frame = this.queue[i]!;
        if (frame.queuedAtMs < staleBeforeMs) this.stats.droppedStale++;
        else this.write(socket, frame);
      }
      socket.uncork();
      this.queue = [];
      this.queueHead = 0;
      this.queuedBytes = 0;
    });
    socket.on('data', (chunk: Buffer) => {
      const problem = decoder.push(chunk, (frame) => this.onResponseFrame(frame));
      if (problem !== null) {
        this.stats.droppedMalformed++;
        this.log(`closing the connection to ${this.peerId}: ${problem}`);
        socket.destroy();
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      if (this.socket !== socket) return;
      if (this.connected) this.stats.disconnects++;
      this.socket = null;
      this.connected = false;
      // Answers to what was sent on this connection cannot come any more.
      this.inflight.clear();
      if (this.closed) return;
      // Retried after a backoff; jitter keeps peers that lost each other from retrying in step.
      const delayMs = this.backoffMs * (0.5 + Math.random() * 0.5);
      this.backoffMs = Math.min(this.limits.reconnectBackoffMaxMs, this.backoffMs * 2);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.connect();
      }, delayMs);
      this.retryTimer.unref();
    });
  }

  private onResponseFrame(frame: Buffer): void {
    if (frame.length < 4) {
      this.stats.droppedMalformed++;
      return;
    }
    // Both response header versions start with the correlation id.
    const correlationId = frame.readInt32BE(0);
    const api = this.inflight.get(correlationId);
    if (api === undefined) {
      this.stats.droppedNoRoute++;
      return;
    }
    this.inflight.delete(correlationId);
    const decoded = decodeResponse(api.response, frame, api.version);
    if (!decoded.ok) {
      this.stats.droppedMalformed++;
      this.log(`dropped a ${api.responseType} from ${this.peerId}: ${decoded.error.message}`);
      return;
    }
    this.deliver({ type: api.responseType, correlationId, body: decoded.value.body } as RaftMessage);
  }
}

function totalBytes(chunks: readonly Buffer[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** Writes a frame's chunks as one writev (cork), without waiting for the socket to drain. */
function writeChunks(socket: net.Socket, chunks: readonly Buffer[]): void {
  if (chunks.length === 1) {
    socket.write(chunks[0]!);
    return;
  }
  socket.cork();
  for (const c of chunks) socket.write(c);
  socket.uncork();
}

/** The queue drops its consumed head once it is this long and half the array. */
const QUEUE_COMPACT_MIN = 64;
