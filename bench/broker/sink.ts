/**
 * The baseline of the broker benchmark: the least a Node process can do with the same bytes.
 *
 *   Produce frames: each connection's frames are written whole, in arrival order, to a file of
 *   its own with fs.write, one write at a time (fdatasync after each in fsync mode), and each
 *   is answered with a fixed ProduceResponse frame (its correlation id patched) once written.
 *   Fetch frames, catching up: the next `partitionMaxBytes` of the given files (the broker's own
 *   segment files) are read into a new buffer with fs.read and sent back as the records of a
 *   FetchResponse.
 *   Relay mode (the latency baseline): produced batches get offsets from a counter, are written
 *   as above but all queued frames with one fs.writev, and once written go to the fetch waiting
 *   for them (or to the next fetch). Group mode writes produce frames that way too, without the
 *   relay: a diagnostic baseline that issues writes the way the log does.
 *
 * A connection's files are removed when it closes. Nothing is parsed beyond what each path needs.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { decodeRequest } from '../../src/protocol/frame.js';
import type { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import type { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import {
  fetchResponseFrame,
  FrameReader,
  MiB,
  produceResponseFrame,
  REQUEST_CORRELATION_AT,
  RESPONSE_CORRELATION_AT,
} from './wire.js';

export interface SinkMode {
  /** fdatasync after every write (the baseline of log.flush.interval.messages=1). */
  fsync: boolean;
  /** Hand written batches to waiting fetches (the latency baseline); implies `group`. */
  relay: boolean;
  /** Write all queued frames with one fs.writev, as a log groups appends (default: one fs.write each). */
  group: boolean;
  /** Files served to catching-up fetches, in order (wrapping around at the end). */
  fetchFiles: string[];
}

interface ParkedFetch {
  conn: SinkConnection;
  correlationId: number;
  apiVersion: number;
  timer: NodeJS.Timeout;
}

const PRODUCE_RESPONSE = produceResponseFrame('sink', 0);

class SinkConnection {
  private readonly reader = new FrameReader();
  private readonly queue: Buffer[] = [];
  private writing = false;
  private fd = -1;
  private position = 0;
  private fetchFile = 0;
  private fetchPosition = 0;
  private closed = false;

  constructor(
    private readonly sink: Sink,
    readonly socket: net.Socket,
    private readonly path: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk, (frame) => this.onFrame(frame)));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      this.sink.forget(this);
      if (this.fd >= 0) {
        const fd = this.fd;
        this.fd = -1;
        this.sink.cleanup(
          new Promise<void>((resolve) => fs.close(fd, () => fs.unlink(this.path, () => resolve()))),
        );
      }
    });
  }

  private onFrame(frame: Buffer): void {
    const apiKey = frame.readInt16BE(4);
    if (apiKey === 0) {
      this.queue.push(frame);
      this.pump();
    } else if (apiKey === 1) {
      this.fetch(frame);
    } else {
      this.socket.destroy();
    }
  }

  /**
   * Writes queued produce frames: one fs.write per frame, one at a time; in group (and relay)
   * mode, all that is queued with one fs.writev, as a log groups appends (one write per 1 KiB
   * record would cost a threadpool round trip each). Each frame is answered once written.
   */
  private pump(): void {
    if (this.writing || this.closed || this.queue.length === 0) return;
    this.writing = true;
    if (this.fd < 0) this.fd = fs.openSync(this.path, 'w');
    const relay = this.sink.mode.relay;
    const frames = relay || this.sink.mode.group ? this.queue.splice(0) : [this.queue.shift()!];
    const records = relay ? frames.map((f) => this.sink.assignOffsets(f)) : null;
    const written = (): void => {
      for (const frame of frames) {
        const response = Buffer.from(PRODUCE_RESPONSE);
        response.writeInt32BE(frame.readInt32BE(REQUEST_CORRELATION_AT), RESPONSE_CORRELATION_AT);
        if (!this.closed) this.socket.write(response);
      }
      if (records !== null) this.sink.deliver(records);
      this.writing = false;
      this.pump();
    };
    let left = frames;
    const step = (err: NodeJS.ErrnoException | null, n: number): void => {
      if (err !== null) throw err;
      this.position += n;
      left = remaining(left, n);
      if (left.length > 0) writeSome();
      else if (this.sink.mode.fsync) {
        fs.fdatasync(this.fd, (e) => {
          if (e !== null) throw e;
          written();
        });
      } else written();
    };
    const writeSome = (): void => {
      if (left.length === 1) fs.write(this.fd, left[0]!, 0, left[0]!.length, this.position, step);
      else fs.writev(this.fd, left, this.position, step);
    };
    writeSome();
  }

  private fetch(frame: Buffer): void {
    const decoded = decodeRequest(frame.subarray(4));
    if (!decoded.ok) throw decoded.error;
    const req = decoded.value.body as FetchRequest;
    const apiVersion = decoded.value.header.requestApiVersion;
    const correlationId = decoded.value.header.correlationId;
    if (this.sink.mode.relay) {
      this.sink.park(this, correlationId, apiVersion, req.maxWaitMs);
      return;
    }
    const files = this.sink.fetchFds;
    if (files.length === 0) throw new Error('no files to serve fetches from');
    const want = req.topics[0]?.partitions[0]?.partitionMaxBytes ?? MiB;
    const buf = Buffer.allocUnsafe(want);
    const read = (): void => {
      fs.read(files[this.fetchFile]!, buf, 0, want, this.fetchPosition, (err, n) => {
        if (err !== null) throw err;
        if (n === 0) {
          this.fetchFile = (this.fetchFile + 1) % files.length;
          this.fetchPosition = 0;
          read();
          return;
        }
        this.fetchPosition += n;
        this.reply(fetchResponseFrame(correlationId, apiVersion, buf.subarray(0, n), 0));
      });
    };
    read();
  }

  reply(chunks: Buffer[]): void {
    if (this.closed) return;
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
  }
}

/** What is left of `chunks` once their first `n` bytes are written. */
function remaining(chunks: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < chunks.length && n >= chunks[i]!.length) n -= chunks[i++]!.length;
  if (i === chunks.length) return [];
  return [chunks[i]!.subarray(n), ...chunks.slice(i + 1)];
}

export class Sink {
  mode: SinkMode = { fsync: false, relay: false, group: false, fetchFiles: [] };
  fetchFds: number[] = [];
  private readonly server: net.Server;
  private readonly connections = new Set<SinkConnection>();
  private readonly cleanups = new Set<Promise<void>>();
  private nextId = 0;
  private nextOffset = 0;
  private pending: Buffer[] = [];
  private parked: ParkedFetch | null = null;

  private constructor(private readonly dir: string) {
    this.server = net.createServer((socket) => {
      this.connections.add(new SinkConnection(this, socket, `${this.dir}/sink-${this.nextId++}.bin`));
    });
  }

  static start(dir: string): Promise<{ sink: Sink; port: number }> {
    const sink = new Sink(dir);
    return new Promise((resolve, reject) => {
      sink.server.once('error', reject);
      sink.server.listen({ host: '127.0.0.1', port: 0 }, () => {
        const addr = sink.server.address();
        resolve({ sink, port: typeof addr === 'object' && addr !== null ? addr.port : 0 });
      });
    });
  }

  forget(c: SinkConnection): void {
    this.connections.delete(c);
  }

  cleanup(p: Promise<void>): void {
    this.cleanups.add(p);
    void p.then(() => this.cleanups.delete(p));
  }

  /** A new mode for the next round; waits for the files of closed connections to be removed. */
  async reset(mode: SinkMode): Promise<void> {
    await Promise.all([...this.cleanups]);
    for (const fd of this.fetchFds) fs.closeSync(fd);
    this.mode = mode;
    this.fetchFds = mode.fetchFiles.map((f) => fs.openSync(f, 'r'));
    this.nextOffset = 0;
    this.pending = [];
    if (this.parked !== null) clearTimeout(this.parked.timer);
    this.parked = null;
  }

  /** Relay mode: stamps offsets on the batches of a produce frame; returns the records. */
  assignOffsets(frame: Buffer): Buffer {
    const decoded = decodeRequest(frame.subarray(4));
    if (!decoded.ok) throw decoded.error;
    const records = (decoded.value.body as ProduceRequest).topicData[0]?.partitionData[0]?.records;
    if (records === null || records === undefined) throw new Error('produce without records');
    let pos = 0;
    while (pos + 27 <= records.length) {
      const size = records.readInt32BE(pos + 8) + 12;
      records.writeUInt32BE(Math.floor(this.nextOffset / 2 ** 32), pos);
      records.writeUInt32BE(this.nextOffset % 2 ** 32, pos + 4);
      this.nextOffset += records.readInt32BE(pos + 23) + 1;
      pos += size;
    }
    return records;
  }

  /** Relay mode: written records go to the waiting fetch, or wait for the next one. */
  deliver(records: Buffer[]): void {
    this.pending.push(...records);
    const p = this.parked;
    if (p === null) return;
    this.parked = null;
    clearTimeout(p.timer);
    this.answer(p.conn, p.correlationId, p.apiVersion);
  }

  park(conn: SinkConnection, correlationId: number, apiVersion: number, maxWaitMs: number): void {
    if (this.pending.length > 0 || maxWaitMs <= 0) {
      this.answer(conn, correlationId, apiVersion);
      return;
    }
    const timer = setTimeout(() => {
      this.parked = null;
      this.answer(conn, correlationId, apiVersion);
    }, maxWaitMs);
    this.parked = { conn, correlationId, apiVersion, timer };
  }

  private answer(conn: SinkConnection, correlationId: number, apiVersion: number): void {
    const records = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    conn.reply(fetchResponseFrame(correlationId, apiVersion, records, this.nextOffset));
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    await Promise.all([...this.cleanups]);
    for (const fd of this.fetchFds) fs.closeSync(fd);
    this.fetchFds = [];
  }
}
