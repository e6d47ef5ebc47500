/**
 * One TCP connection to one broker: requests go out with increasing correlation ids and come
 * back in the same order (Kafka answers in order per connection); each response is matched to
 * its request by id, and a response that does not answer the oldest request fails the
 * connection, since every later answer would be misread. On open the connection negotiates API
 * versions with ApiVersions (KIP-511 fallback included), so callers pick versions with
 * `version()`.
 */
import { connect, type OnReadOpts, type Socket } from 'node:net';

import { ErrorCode } from '../protocol/error-codes.js';
import { apiByKey, apis } from '../protocol/generated/api-keys.js';
import { ApiVersionsResponse } from '../protocol/generated/message/ApiVersionsResponse.js';
import { decodeResponse, encodeRequestFrame } from '../protocol/frame.js';
import type { MessageCodec } from '../protocol/primitives/codec.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { clientError, ConfigError, kafkaError, KafkaClientError } from './errors.js';

/** Sent in ApiVersions v3+ so brokers can tell Samsa's client apart (KIP-511). */
export const CLIENT_SOFTWARE_NAME = 'samsa';
export const CLIENT_SOFTWARE_VERSION = '0.1.0';

/**
 * Largest response frame accepted. Kafka's clients do not cap receives, but a corrupt size
 * prefix would otherwise make us buffer gigabytes; 1 GiB is far above fetch.max.bytes.
 */
export const MAX_RESPONSE_FRAME_BYTES = 1024 * 1024 * 1024;

export interface ConnectionOptions {
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Requests sent but not yet answered; further requests wait in a queue (max.in.flight.requests.per.connection). */
  maxInFlightRequests: number;
  /** Timers go through this clock; the system clock by default. */
  clock?: Clock;
  log?: (message: string) => void;
}

export interface SendOptions {
  /** Overrides requestTimeoutMs for this request (e.g. a Fetch with a long maxWaitMs, or JoinGroup). */
  timeoutMs?: number;
}

interface Request {
  correlationId: number;
  apiName: string;
  frame: Buffer[];
  /** False for acks=0 produce: written, never answered. */
  expectResponse: boolean;
  /** Decodes the response frame (size prefix removed); throws to reject. */
  onFrame: (frame: Buffer) => void;
  fail: (e: Error) => void;
  cancelTimer: () => void;
}

interface VersionRange {
  minVersion: number;
  maxVersion: number;
}

/** The highest stable version this client can encode for an API, or -1 if it cannot. */
export function clientMaxVersion(apiKey: number): number {
  const api = apiByKey(apiKey);
  if (api === undefined) return -1;
  const max = api.latestVersionUnstable ? api.maxVersion - 1 : api.maxVersion;
  return max >= api.minVersion ? max : -1;
}

/** Socket reads land in a reusable buffer of this size while no frame longer than a read is being received. */
const READ_BUFFER_BYTES = 64 * 1024;
const SIZE_PREFIX_BYTES = 4;

/**
 * Cuts size-prefixed frames out of socket reads. The socket reads (net.Socket's onread) into
 * the buffer readBuffer() gives: a reusable read buffer, out of which whole frames are copied;
 * or, once a frame is known to go on past a read, that frame's own buffer, allocated at its
 * size, so the rest of a large response (a fetch) lands where it is decoded from instead of
 * being collected as socket chunks and copied together. That buffer is allocated uninitialised,
 * so a corrupt size prefix under MAX_RESPONSE_FRAME_BYTES reserves address space rather than
 * filling memory.
 */
class FrameReader {
  private readonly readBuf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** The frame being read straight into, and how much of it has arrived. */
  private partial: Buffer | null = null;
  private partialFilled = 0;
  /** A size prefix split between reads. */
  private readonly prefix = Buffer.allocUnsafe(SIZE_PREFIX_BYTES);
  private prefixFilled = 0;
  /** Whole frames not taken yet (next() takes them from `readyHead` on). */
  private ready: Buffer[] = [];
  private readyHead = 0;
  private error: Error | null = null;

  /** Where the socket's next read goes (never empty: a finished frame is handed over at once). */
  readBuffer(): Buffer {
    return this.partial === null ? this.readBuf : this.partial.subarray(this.partialFilled);
  }

  /** The socket read `nread` bytes into the buffer readBuffer() gave last. */
  filled(nread: number): void {
    if (this.error !== null) return;
    if (this.partial !== null) {
      this.partialFilled += nread;
      if (this.partialFilled === this.partial.length) {
        this.ready.push(this.partial);
        this.partial = null;
      }
      return;
    }
    const data = this.readBuf;
    let pos = 0;
    while (pos < nread) {
      let size: number;
      if (this.prefixFilled > 0 || nread - pos < SIZE_PREFIX_BYTES) {
        const n = Math.min(SIZE_PREFIX_BYTES - this.prefixFilled, nread - pos);
        data.copy(this.prefix, this.prefixFilled, pos, pos + n);
        this.prefixFilled += n;
        pos += n;
        if (this.prefixFilled < SIZE_PREFIX_BYTES) return;
        this.prefixFilled = 0;
        size = this.prefix.readInt32BE(0);
      } else {
        size = data.readInt32BE(pos);
        pos += SIZE_PREFIX_BYTES;
      }
      if (size < 0 || size > MAX_RESPONSE_FRAME_BYTES) {
        this.error = new Error(`response frame size ${size} is outside 0-${MAX_RESPONSE_FRAME_BYTES}`);
        return;
      }
      const available = nread - pos;
      if (available >= size) {
        // A copy: the read buffer is overwritten by the next read.
        this.ready.push(Buffer.from(data.subarray(pos, pos + size)));
        pos += size;
      } else {
        this.partial = Buffer.allocUnsafe(size);
        data.copy(this.partial, 0, pos, nread);
        this.partialFilled = available;
        return;
      }
    }
  }

  /** The next whole frame body, null when more bytes are needed; throws after a bad size prefix. */
  next(): Buffer | null {
    if (this.readyHead < this.ready.length) {
      const frame = this.ready[this.readyHead]!;
      this.readyHead++;
      if (this.readyHead === this.ready.length) {
        this.ready = [];
        this.readyHead = 0;
      }
      return frame;
    }
    if (this.error !== null) throw this.error;
    return null;
  }
}

export class BrokerConnection {
  readonly host: string;
  readonly port: number;
  /** -1 for bootstrap connections, whose node id is not known yet. */
  readonly nodeId: number;
  readonly options: ConnectionOptions;

  private readonly socket: Socket;
  private readonly clock: Clock;
  private readonly reader: FrameReader;
  /** Sent and awaiting a response, in send order (Map keeps insertion order). */
  private readonly inFlight = new Map<number, Request>();
  /** Waiting for an in-flight slot. */
  private readonly queue: Request[] = [];
  private nextCorrelationId = 0;
  private closeReason: KafkaClientError | null = null;
  private readonly closeListeners: ((reason: KafkaClientError) => void)[] = [];
  /** API key → versions the broker serves, from ApiVersions. */
  private brokerVersions = new Map<number, VersionRange>();
  /** Greatest number of requests in flight at once, for tests and diagnostics. */
  private peakInFlight = 0;

  private constructor(
    socket: Socket,
    host: string,
    port: number,
    nodeId: number,
    options: ConnectionOptions,
    reader: FrameReader,
  ) {
    this.socket = socket;
    this.reader = reader;
    this.host = host;
    this.port = port;
    this.nodeId = nodeId;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    socket.on('error', (e) =>
      this.fail(clientError('CONNECTION_CLOSED', `connection to ${this.address} failed: ${e.message}`, e)),
    );
    socket.on('close', () =>
      this.fail(clientError('CONNECTION_CLOSED', `connection to ${this.address} was closed`)),
    );
  }

  /** Connects and runs the ApiVersions handshake. */
  static async open(
    host: string,
    port: number,
    options: ConnectionOptions,
    nodeId = -1,
  ): Promise<BrokerConnection> {
    validateConnectionOptions(options);
    const clock = options.clock ?? systemClock;
    const startMs = clock.nowMs();
    const reader = new FrameReader();
    let conn: BrokerConnection | null = null;
    const socket = await connectSocket(host, port, options.connectTimeoutMs, clock, {
      buffer: () => reader.readBuffer(),
      callback: (nread) => {
        reader.filled(nread);
        conn?.onData();
        return true; // false would pause reading
      },
    });
    conn = new BrokerConnection(socket, host, port, nodeId, options, reader);
    // Frames read before the connection existed (a broker speaking first) are handled now.
    conn.onData();
    try {
      // The handshake is part of opening: a broker that accepts but never answers is as
      // unreachable as one that does not accept, and gets the rest of connectTimeoutMs.
      await conn.handshake(Math.max(1, options.connectTimeoutMs - (clock.nowMs() - startMs)));
    } catch (e) {
      conn.close();
      if (e instanceof KafkaClientError && e.errorName === 'REQUEST_TIMED_OUT') {
        throw clientError(
          'CONNECT_TIMEOUT',
          `cannot connect to ${conn.address}: no ApiVersions answer within ${options.connectTimeoutMs} ms`,
          e,
        );
      }
      throw e;
    }
    return conn;
  }

  /** "host:port" (IPv6 hosts in brackets). */
  get address(): string {
    return formatAddress(this.host, this.port);
  }

  get closed(): boolean {
    return this.closeReason !== null;
  }

  /** Requests sent and not yet answered. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Requests waiting for an in-flight slot. */
  get queuedCount(): number {
    return this.queue.length;
  }

  /** The most requests that were ever in flight at once on this connection. */
  get maxObservedInFlight(): number {
    return this.peakInFlight;
  }

  /** The versions the broker advertised for an API, or undefined if it does not serve it. */
  brokerVersionRange(apiKey: number): VersionRange | undefined {
    return this.brokerVersions.get(apiKey);
  }

  /** Highest version both sides support (client: generated codec range, stable versions only), capped by maxWanted; -1 if none. */
  version(apiKey: number, maxWanted?: number): number {
    const api = apiByKey(apiKey);
    const broker = this.brokerVersions.get(apiKey);
    if (api === undefined || broker === undefined) return -1;
    let max = Math.min(clientMaxVersion(apiKey), broker.maxVersion);
    if (maxWanted !== undefined) max = Math.min(max, maxWanted);
    return max >= Math.max(api.minVersion, broker.minVersion) ? max : -1;
  }

  /** Sends at `version`; resolves the decoded response body. Rejects KafkaClientError on timeout/close. */
  send<Req, Res>(
    api: { request: MessageCodec<Req>; response: MessageCodec<Res> },
    version: number,
    body: Req,
    options?: SendOptions,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.enqueue(api.request, version, body, options?.timeoutMs, reject, (frame) => {
        const decoded = decodeResponse(api.response, frame, version);
        if (!decoded.ok) {
          throw clientError(
            'PROTOCOL_ERROR',
            `${api.response.name} v${version} from ${this.address} could not be decoded: ${decoded.error.message}`,
            decoded.error,
          );
        }
        resolve(decoded.value.body);
      });
    });
  }

  /** For acks=0 produce: writes the request, expects no response. Throws if the connection is closed. */
  sendOneWay<Req>(codec: MessageCodec<Req>, version: number, body: Req): void {
    if (this.closeReason !== null) throw this.closeReason;
    const correlationId = this.takeCorrelationId();
    const frame = encodeRequestFrame(codec, body, {
      apiVersion: version,
      correlationId,
      clientId: this.options.clientId,
    });
    const request: Request = {
      correlationId,
      apiName: codec.name,
      frame,
      expectResponse: false,
      onFrame: () => undefined,
      fail: () => undefined,
      cancelTimer: () => undefined,
    };
    this.queue.push(request);
    this.pump();
  }

  /** Calls `listener` once when the connection closes, with the reason. */
  onClose(listener: (reason: KafkaClientError) => void): void {
    if (this.closeReason !== null) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  close(): void {
    this.fail(clientError('CONNECTION_CLOSED', `connection to ${this.address} was closed by the client`));
  }

  // ------------------------------------------------------------------ internals

  private takeCorrelationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = id === 0x7fffffff ? 0 : id + 1;
    return id;
  }

  private enqueue<Req>(
    codec: MessageCodec<Req>,
    version: number,
    body: Req,
    timeoutMs: number | undefined,
    reject: (e: Error) => void,
    onFrame: (frame: Buffer) => void,
  ): void {
    if (this.closeReason !== null) {
      reject(this.closeReason);
      return;
    }
    const correlationId = this.takeCorrelationId();
    let frame: Buffer[];
    try {
      frame = encodeRequestFrame(codec, body, {
        apiVersion: version,
        correlationId,
        clientId: this.options.clientId,
      });
    } catch (e) {
      // An encode error is the caller's bug (bad version or value); the connection is fine.
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    let settled = false;
    const limitMs = timeoutMs ?? this.options.requestTimeoutMs;
    const request: Request = {
      correlationId,
      apiName: codec.name,
      frame,
      expectResponse: true,
      onFrame: (f) => {
        if (settled) return;
        settled = true;
        request.cancelTimer();
        try {
          onFrame(f);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
      fail: (e) => {
        if (settled) return;
        settled = true;
        request.cancelTimer();
        reject(e);
      },
      cancelTimer: () => undefined,
    };
    // The timeout counts from the call, queueing included, so no caller waits longer than asked.
    request.cancelTimer = this.clock.schedule(limitMs, () => {
      const e = clientError(
        'REQUEST_TIMED_OUT',
        `${codec.name} to ${this.address} got no response within ${limitMs} ms`,
      );
      request.fail(e);
      // As Kafka's clients do: a broker that stopped answering may answer late, and a late
      // answer on this connection would be taken for the next request's.
      this.fail(
        clientError(
          'CONNECTION_CLOSED',
          `connection to ${this.address} closed after ${codec.name} timed out (${limitMs} ms)`,
        ),
      );
    });
    this.queue.push(request);
    this.pump();
  }

  /** Writes queued requests while in-flight slots are free. */
  private pump(): void {
    if (this.closeReason !== null) return;
    let corked = false;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.expectResponse && this.inFlight.size >= this.options.maxInFlightRequests) break;
      this.queue.shift();
      if (!corked) {
        this.socket.cork();
        corked = true;
      }
      if (next.expectResponse) {
        this.inFlight.set(next.correlationId, next);
        if (this.inFlight.size > this.peakInFlight) this.peakInFlight = this.inFlight.size;
      }
      for (const chunk of next.frame) this.socket.write(chunk);
    }
    if (corked) this.socket.uncork();
  }

  private onData(): void {
    if (this.closeReason !== null) return;
    for (;;) {
      let frame: Buffer | null;
      try {
        frame = this.reader.next();
      } catch (e) {
        this.fail(clientError('PROTOCOL_ERROR', `bad response from ${this.address}: ${String(e)}`));
        return;
      }
      if (frame === null) return;
      this.onFrame(frame);
      if (this.closeReason !== null) return;
    }
  }

  private onFrame(frame: Buffer): void {
    if (frame.length < 4) {
      this.fail(clientError('PROTOCOL_ERROR', `response from ${this.address} is shorter than its header`));
      return;
    }
    const correlationId = frame.readInt32BE(0);
    const oldest = this.inFlight.values().next();
    if (oldest.done === true || oldest.value.correlationId !== correlationId) {
      const expected = oldest.done === true ? 'none' : String(oldest.value.correlationId);
      this.fail(
        clientError(
          'PROTOCOL_ERROR',
          `response from ${this.address} has correlation id ${correlationId}, expected ${expected}`,
        ),
      );
      return;
    }
    const request = oldest.value;
    this.inFlight.delete(correlationId);
    request.onFrame(frame);
    this.pump();
  }

  private fail(reason: KafkaClientError): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    this.socket.destroy();
    const pending = [...this.inFlight.values(), ...this.queue];
    this.inFlight.clear();
    this.queue.length = 0;
    for (const r of pending) r.fail(reason);
    this.options.log?.(reason.message);
    for (const l of this.closeListeners.splice(0)) l(reason);
  }

  /**
   * ApiVersions at our highest version; a broker that does not serve it answers
   * UNSUPPORTED_VERSION in v0 format with its own ApiVersions range, and we retry at that.
   */
  private async handshake(timeoutMs: number): Promise<void> {
    let version = clientMaxVersion(apis.ApiVersions.apiKey);
    // One retry at the broker's version, then v0 as a last resort.
    const maxAttempts = 3;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const response = await this.sendApiVersions(version, timeoutMs);
      if (response.errorCode === ErrorCode.NONE) {
        this.brokerVersions = new Map(
          response.apiKeys.map((k) => [k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion }]),
        );
        return;
      }
      if (response.errorCode !== ErrorCode.UNSUPPORTED_VERSION || version === 0) {
        throw kafkaError(response.errorCode, `ApiVersions v${version} to ${this.address}`);
      }
      const advertised = response.apiKeys.find((k) => k.apiKey === apis.ApiVersions.apiKey);
      const fallback = advertised === undefined ? 0 : Math.min(advertised.maxVersion, version - 1);
      this.options.log?.(`${this.address} does not serve ApiVersions v${version}; retrying at v${fallback}`);
      version = Math.max(0, fallback);
    }
    throw clientError('PROTOCOL_ERROR', `ApiVersions negotiation with ${this.address} did not converge`);
  }

  /** ApiVersions at `version`; an error response in v0 format (the KIP-511 fallback) is decoded as v0. */
  private sendApiVersions(version: number, timeoutMs: number): Promise<ApiVersionsResponse> {
    const codec = apis.ApiVersions;
    return new Promise<ApiVersionsResponse>((resolve, reject) => {
      this.enqueue(
        codec.request,
        version,
        { clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION },
        timeoutMs,
        reject,
        (frame) => {
          const decoded = decodeResponse(codec.response, frame, version);
          if (decoded.ok) {
            resolve(decoded.value.body);
            return;
          }
          const v0 = decodeResponse(codec.response, frame, 0);
          if (v0.ok && v0.value.body.errorCode !== ErrorCode.NONE) {
            resolve(v0.value.body);
            return;
          }
          throw clientError(
            'PROTOCOL_ERROR',
            `ApiVersions v${version} response from ${this.address} could not be decoded: ${decoded.error.message}`,
          );
        },
      );
    });
  }
}

/** "host:port", with IPv6 literals in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function validateConnectionOptions(o: ConnectionOptions): void {
  const positive = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v <= 0)
      throw new ConfigError(`${name} must be a positive integer, got ${String(v)}`);
  };
  positive('connectTimeoutMs', o.connectTimeoutMs);
  positive('requestTimeoutMs', o.requestTimeoutMs);
  positive('maxInFlightRequests', o.maxInFlightRequests);
}

function connectSocket(
  host: string,
  port: number,
  connectTimeoutMs: number,
  clock: Clock,
  onread: OnReadOpts,
): Promise<Socket> {
  const address = formatAddress(host, port);
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host, port, onread });
    let done = false;
    const finish = (e: KafkaClientError | null): void => {
      if (done) return;
      done = true;
      cancel();
      socket.removeListener('error', onError);
      // Until the connection attaches its own handlers; an unhandled 'error' would crash the process.
      socket.on('error', () => undefined);
      if (e === null) {
        socket.setNoDelay(true);
        resolve(socket);
      } else {
        socket.destroy();
        reject(e);
      }
    };
    const onError = (e: Error): void =>
      finish(clientError('CONNECTION_FAILED', `cannot connect to ${address}: ${e.message}`, e));
    const cancel = clock.schedule(connectTimeoutMs, () =>
      finish(
        clientError(
          'CONNECT_TIMEOUT',
          `cannot connect to ${address}: no connection within ${connectTimeoutMs} ms`,
        ),
      ),
    );
    socket.once('error', onError);
    socket.once('connect', () => finish(null));
  });
}
