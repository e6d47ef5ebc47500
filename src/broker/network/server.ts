/**
 * The network layer: a TCP server speaking Kafka frames.
 *
 * Per connection, requests are handled as they arrive (pipelining) and their responses go out
 * in request order, whatever order they finish in. Every queue is bounded: a connection with
 * `maxInFlightRequests` unanswered requests, or whose unsent responses pass
 * `maxUnsentResponseBytes`, is not read until it drains; connections past `maxConnections`
 * are refused; a frame over `socket.request.max.bytes` is refused before any allocation; idle
 * connections are closed after `connections.max.idle.ms`. A bad frame or a failing handler
 * closes that connection with a log line — nothing a client sends reaches past it.
 */
import * as net from 'node:net';
import { FrameDecoder } from '../../protocol/frame-decoder.js';

export interface NetworkLimits {
  /** socket.request.max.bytes */
  maxFrameBytes: number;
  /** Unanswered requests per connection before it stops being read. */
  maxInFlightRequests: number;
  /** Bytes of responses waiting in a socket's buffer before it stops being read. */
  maxUnsentResponseBytes: number;
  /** max.connections */
  maxConnections: number;
  /** connections.max.idle.ms */
  idleMs: number;
}

export const DEFAULT_NETWORK_LIMITS: NetworkLimits = {
  maxFrameBytes: 104_857_600,
  maxInFlightRequests: 100,
  maxUnsentResponseBytes: 16 * 1024 * 1024,
  maxConnections: 10_000,
  idleMs: 600_000,
};

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
}

/**
 * Handles one frame (size prefix removed). Resolves to the response frame's chunks (size prefix
 * included), null for a request that gets no response (acks=0 produce), or a string to close the
 * connection with that reason.
 */
export type FrameHandler = (frame: Buffer, conn: ConnectionInfo) => Promise<Buffer[] | null | string>;

interface Slot {
  done: boolean;
  response: Buffer[] | null;
}

class Connection {
  readonly info: ConnectionInfo;
  private readonly socket: net.Socket;
  private readonly decoder: FrameDecoder;
  private readonly slots: Slot[] = [];
  /** Frames received but not yet dispatched because maxInFlightRequests were unanswered. */
  private readonly backlog: Buffer[] = [];
  private readonly limits: NetworkLimits;
  private readonly handle: FrameHandler;
  private readonly logLine: (m: string) => void;
  private closed = false;
  private pausedForDrain = false;
  private flushScheduled = false;

  constructor(
    socket: net.Socket,
    id: number,
    limits: NetworkLimits,
    handle: FrameHandler,
    log: (m: string) => void,
  ) {
    this.socket = socket;
    this.info = { id, remoteAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` };
    this.limits = limits;
    this.handle = handle;
    this.logLine = log;
    this.decoder = new FrameDecoder(limits.maxFrameBytes, 'socket.request.max.bytes');
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.pausedForDrain = false;
      this.maybeResume();
    });
    socket.on('timeout', () => {
      if (this.slots.length === 0) this.close(`idle for ${limits.idleMs} ms`);
    });
    socket.on('error', () => this.close(null));
    socket.on('close', () => {
      this.closed = true;
    });
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const error = this.decoder.push(chunk, this.onFrame);
    if (error !== null) this.close(error);
  }

  /**
   * One TCP chunk can hold many small requests: past the in-flight limit they wait in the backlog
   * (the socket is paused meanwhile, so it is bounded by one chunk) until slots free up.
   */
  private readonly onFrame = (frame: Buffer): void => {
    if (this.backlog.length === 0 && this.slots.length < this.limits.maxInFlightRequests && !this.closed) {
      this.dispatch(frame);
    } else {
      this.backlog.push(frame);
    }
  };

  private dispatchBacklog(): void {
    while (this.backlog.length > 0 && this.slots.length < this.limits.maxInFlightRequests && !this.closed) {
      this.dispatch(this.backlog.shift()!);
    }
  }

  private dispatch(frame: Buffer): void {
    const slot: Slot = { done: false, response: null };
    this.slots.push(slot);
    if (this.slots.length >= this.limits.maxInFlightRequests) this.socket.pause();
    void this.answer(slot, frame);
  }

  /** Runs the handler of one request and puts its response in its slot (no closures per request). */
  private async answer(slot: Slot, frame: Buffer): Promise<void> {
    let response: Buffer[] | null | string;
    try {
      response = await this.handle(frame, this.info);
    } catch (e) {
      this.close(`handler failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return;
    }
    if (typeof response === 'string') {
      this.close(response);
      return;
    }
    slot.done = true;
    slot.response = response;
    if (!this.flushScheduled) {
      // Responses that complete together (a group of appends written by one writev) leave in one
      // socket write: the flush runs once the promise callbacks of this turn have all run.
      this.flushScheduled = true;
      process.nextTick(this.flushNow);
    }
  }

  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Writes finished responses at the head of the queue, in request order. */
  private flush(): void {
    if (this.closed) return;
    let wrote = false;
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!;
      if (slot.response === null) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      for (const chunk of slot.response) this.socket.write(chunk);
    }
    if (wrote) {
      this.socket.uncork();
      if (this.socket.writableLength > this.limits.maxUnsentResponseBytes) {
        this.pausedForDrain = true;
        this.socket.pause();
      }
    }
    this.maybeResume();
  }

  private maybeResume(): void {
    this.dispatchBacklog();
    if (
      !this.closed &&
      !this.pausedForDrain &&
      this.backlog.length === 0 &&
      this.slots.length < this.limits.maxInFlightRequests
    ) {
      this.socket.resume();
    }
  }

  close(reason: string | null): void {
    if (this.closed) return;
    this.closed = true;
    if (reason !== null)
      this.logLine(`closing connection ${this.info.id} from ${this.info.remoteAddress}: ${reason}`);
    this.socket.destroy();
  }

  /** Waits up to `ms` for unanswered requests to be answered, then closes. */
  async drainAndClose(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    this.backlog.length = 0;
    while (!this.closed && this.slots.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    if (!this.closed) this.socket.end();
    this.close(null);
  }
}

export class NetworkServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly limits: NetworkLimits;
  private nextId = 1;

  constructor(handle: FrameHandler, limits: NetworkLimits, log: (m: string) => void) {
    this.limits = limits;
    this.server = net.createServer((socket) => {
      if (this.connections.size >= limits.maxConnections) {
        log(
          `refusing a connection from ${socket.remoteAddress ?? '?'}: ${limits.maxConnections} connections open (max.connections)`,
        );
        socket.destroy();
        return;
      }
      const conn = new Connection(socket, this.nextId++, limits, handle, log);
      this.connections.add(conn);
      socket.on('close', () => this.connections.delete(conn));
    });
    this.server.on('error', (e) => log(`listener error: ${String(e)}`));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen({ host: host === '' ? undefined : host, port }, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, gives in-flight requests up to `graceMs` to be answered, closes every connection. */
  async close(graceMs = 2000): Promise<void> {
    const closing = new Promise<void>((r) => this.server.close(() => r()));
    await Promise.all([...this.connections].map((c) => c.drainAndClose(graceMs)));
    await closing;
  }
}
