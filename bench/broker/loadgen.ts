/**
 * The load generator of the broker benchmark: a process of its own, so the broker (or the
 * baseline) never shares an event loop with its client. Driven by its parent over IPC, it runs
 * one round per command and answers with what it measured:
 *
 *   produce  pre-encoded Produce requests (distinct batches, correlation ids patched in place),
 *            one partition each, pipelined with a bounded window per connection
 *   fetch    one consumer catching up: Fetch requests one at a time, each from the offset after
 *            the last whole batch received, until the target bytes arrived
 *   latency  produce at a fixed rate (one single-record batch per request, evenly spaced) on one
 *            connection while another long-polls Fetch: per record, send → produce answer and
 *            send → seen in a fetch answer
 *
 * The client's own CPU time over each timed stretch comes back too, to show it is not the limit.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  checkFetchResponse,
  checkProduceResponse,
  FetchFrame,
  forEachBatch,
  FrameReader,
  makeBatches,
  MiB,
  produceFrame,
  REQUEST_CORRELATION_AT,
  scanBatches,
  type BatchShape,
} from './wire.js';

export interface ProduceCommand {
  cmd: 'produce';
  port: number;
  topic: string;
  /** One connection per entry, producing to that partition. */
  partitions: number[];
  requestsPerConnection: number;
  window: number;
  shape: BatchShape;
  /** Distinct requests per connection, cycled (more than `window`). */
  poolSize: number;
}

export interface ProduceResult {
  seconds: number;
  batchBytes: number;
  records: number;
  requests: number;
  cpuUs: number;
}

export interface FetchCommand {
  cmd: 'fetch';
  port: number;
  topicId: string;
  targetBytes: number;
  maxBytes: number;
}

export interface FetchResult {
  seconds: number;
  bytes: number;
  requests: number;
  records: number;
  cpuUs: number;
}

export interface LatencyCommand {
  cmd: 'latency';
  port: number;
  topic: string;
  topicId: string;
  rate: number;
  seconds: number;
  valueBytes: number;
  maxWaitMs: number;
  /**
   * `spin`: each record sent at its own time (setImmediate turns; a core busy in the client).
   * `timer`: a 1 ms timer sends what is due (about rate/1000 requests back to back each tick).
   */
  pacer: 'spin' | 'timer';
}

export interface LatencyResult {
  sent: number;
  acked: number;
  seen: number;
  /** Send → produce answer, µs, per record in offset order. */
  produceUs: number[];
  /** Send → record in a fetch answer, µs. */
  endToEndUs: number[];
  /** How late the pacer sent, at most, ms (the client's own hiccups). */
  maxLagMs: number;
  fetches: number;
  cpuUs: number;
  seconds: number;
}

type Command = (ProduceCommand | FetchCommand | LatencyCommand | { cmd: 'stop' }) & { id: number };

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

function cpuUs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return u.user + u.system;
}

// ------------------------------------------------------------------ produce

interface Pool {
  frames: Buffer[];
  batchBytes: number;
  recordsPerBatch: number;
}

const pools = new Map<string, Pool>();

function poolFor(topic: string, partition: number, shape: BatchShape, size: number): Pool {
  const key = `${topic}/${partition}/${shape.valueBytes}/${shape.batchBytes}/${size}`;
  let p = pools.get(key);
  if (p === undefined) {
    const { batches, recordsPerBatch } = makeBatches(shape, size);
    p = {
      frames: batches.map((b) => produceFrame(topic, partition, b)),
      batchBytes: batches[0]!.length,
      recordsPerBatch,
    };
    pools.set(key, p);
  }
  return p;
}

/** Sends `n` requests from `pool` with at most `window` unanswered; resolves when all are answered. */
function produceOn(socket: net.Socket, pool: Pool, n: number, window: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = 0;
    const reader = new FrameReader();
    const frames = pool.frames;
    const pump = (): void => {
      while (sent < n && sent - done < window) {
        const f = frames[sent % frames.length]!;
        // Safe to patch: the pool is larger than the window, so this buffer's last send was answered.
        f.writeInt32BE(sent, REQUEST_CORRELATION_AT);
        socket.write(f);
        sent++;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (frame) => {
          const r = checkProduceResponse(frame);
          if (r.correlationId !== done) throw new Error(`answer ${r.correlationId} out of order (${done})`);
          done++;
        });
      } catch (e) {
        socket.destroy();
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (done === n) resolve();
      else pump();
    });
    socket.on('close', () => {
      if (done < n) reject(new Error(`connection closed after ${done} of ${n} answers`));
    });
    pump();
  });
}

async function produce(c: ProduceCommand): Promise<ProduceResult> {
  if (c.poolSize <= c.window) throw new Error('the pool must be larger than the window');
  const ps = c.partitions.map((p) => poolFor(c.topic, p, c.shape, c.poolSize));
  const sockets = await Promise.all(c.partitions.map(() => connect(c.port)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await Promise.all(sockets.map((s, i) => produceOn(s, ps[i]!, c.requestsPerConnection, c.window)));
  } finally {
    for (const s of sockets) s.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  const requests = c.requestsPerConnection * sockets.length;
  return {
    seconds,
    batchBytes: requests * ps[0]!.batchBytes,
    records: requests * ps[0]!.recordsPerBatch,
    requests,
    cpuUs: cpuUs(cpu0),
  };
}

// ------------------------------------------------------------------ fetch

async function fetch(c: FetchCommand): Promise<FetchResult> {
  const ff = new FetchFrame(c.topicId, 0, {
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: c.maxBytes,
    partitionMaxBytes: c.maxBytes,
  });
  const socket = await connect(c.port);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let offset = 0;
  let bytes = 0;
  let requests = 0;
  let records = 0;
  let empty = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const reader = new FrameReader();
      socket.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk, (frame) => {
            const r = checkFetchResponse(frame);
            if (r.correlationId !== requests - 1) throw new Error('fetch answer out of order');
            if (r.records.length === 0 && ++empty > 3)
              throw new Error(`empty fetches at offset ${offset} after ${bytes} bytes`);
            bytes += r.records.length;
            const s = scanBatches(r.records);
            if (s.nextOffset >= 0) offset = s.nextOffset;
            records += s.records;
            if (bytes >= c.targetBytes) resolve();
            else socket.write(ff.at(requests++, offset));
          });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
      socket.on('close', () => reject(new Error('connection closed during fetch')));
      socket.write(ff.at(requests++, offset));
    });
  } finally {
    socket.destroy();
  }
  return { seconds: (performance.now() - t0) / 1000, bytes, requests, records, cpuUs: cpuUs(cpu0) };
}

// ------------------------------------------------------------------ latency

async function latency(c: LatencyCommand): Promise<LatencyResult> {
  const pool = poolFor(c.topic, 0, { valueBytes: c.valueBytes, batchBytes: c.valueBytes + 100 }, 256);
  if (pool.recordsPerBatch !== 1) throw new Error('latency batches must hold one record');
  const n = Math.max(1, Math.round(c.rate * c.seconds));
  const sentAt = new Float64Array(n);
  const produceUs = new Float64Array(n).fill(-1);
  const endToEndUs = new Float64Array(n).fill(-1);
  const producer = await connect(c.port);
  const consumer = await connect(c.port);
  const ff = new FetchFrame(c.topicId, 0, {
    maxWaitMs: c.maxWaitMs,
    minBytes: 1,
    maxBytes: MiB,
    partitionMaxBytes: MiB,
  });
  let sent = 0;
  let acked = 0;
  let seen = 0;
  let fetches = 0;
  let maxLagMs = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown): void => reject(e instanceof Error ? e : new Error(String(e)));
      const deadline = setTimeout(
        () => fail(new Error(`latency round unfinished: ${acked} acked, ${seen} seen of ${n}`)),
        c.seconds * 1000 + 10_000,
      );
      const finish = (): void => {
        if (acked === n && seen === n) {
          clearTimeout(deadline);
          resolve();
        }
      };
      const producerReader = new FrameReader();
      producer.on('data', (chunk: Buffer) => {
        const now = performance.now();
        try {
          producerReader.push(chunk, (frame) => {
            const r = checkProduceResponse(frame);
            if (r.correlationId !== acked) throw new Error('produce answer out of order');
            produceUs[acked] = (now - sentAt[acked]!) * 1000;
            acked++;
          });
        } catch (e) {
          fail(e);
        }
        finish();
      });
      let offset = 0;
      const consumerReader = new FrameReader();
      consumer.on('data', (chunk: Buffer) => {
        const now = performance.now();
        try {
          consumerReader.push(chunk, (frame) => {
            const r = checkFetchResponse(frame);
            forEachBatch(r.records, (base, last) => {
              for (let o = base; o <= last && o < n; o++) {
                if (endToEndUs[o]! < 0 && o < sent) {
                  endToEndUs[o] = (now - sentAt[o]!) * 1000;
                  seen++;
                }
              }
              offset = last + 1;
            });
            if (seen < n) consumer.write(ff.at(++fetches, offset));
          });
        } catch (e) {
          fail(e);
        }
        finish();
      });
      producer.on('close', () => (acked < n ? fail(new Error('producer connection closed')) : undefined));
      consumer.on('close', () => (seen < n ? fail(new Error('consumer connection closed')) : undefined));
      consumer.write(ff.at(fetches, offset));

      // Sends what is due, then waits a setImmediate turn (spin: I/O runs between turns) or 1 ms.
      const frames = pool.frames;
      const interval = 1000 / c.rate;
      const start = performance.now() + 20;
      const tick = (): void => {
        let now = performance.now();
        while (sent < n && start + sent * interval <= now) {
          if (sent - acked >= frames.length - 1) break; // never patch a frame still unanswered
          const lag = now - (start + sent * interval);
          if (lag > maxLagMs) maxLagMs = lag;
          const f = frames[sent % frames.length]!;
          f.writeInt32BE(sent, REQUEST_CORRELATION_AT);
          sentAt[sent] = now;
          producer.write(f);
          sent++;
          now = performance.now();
        }
        if (sent < n) {
          if (c.pacer === 'spin') setImmediate(tick);
          else setTimeout(tick, 1);
        }
      };
      setImmediate(tick);
    });
  } finally {
    producer.destroy();
    consumer.destroy();
  }
  return {
    sent,
    acked,
    seen,
    produceUs: Array.from(produceUs, Math.round),
    endToEndUs: Array.from(endToEndUs, Math.round),
    maxLagMs,
    fetches: fetches + 1,
    cpuUs: cpuUs(cpu0),
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------ IPC

process.on('disconnect', () => process.exit(0));
process.on('message', (m: Command) => {
  if (m.cmd === 'stop') {
    process.send?.({ id: m.id });
    setTimeout(() => process.exit(0), 20);
    return;
  }
  const run = (): Promise<unknown> => {
    switch (m.cmd) {
      case 'produce':
        return produce(m);
      case 'fetch':
        return fetch(m);
      case 'latency':
        return latency(m);
    }
  };
  run().then(
    (result) => process.send?.({ id: m.id, result }),
    (e: unknown) =>
      process.send?.({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
process.send?.({ type: 'ready' });
