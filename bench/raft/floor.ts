/**
 * The floor of a replicated, durable commit on this machine: the I/O a Raft commit does, and
 * nothing else, in the same three-process shape, driven through the same control protocol as
 * src/raft/process-main.ts (so bench/raft measures both with the same client).
 *
 *   leader:   node floor.ts leader <dir> <port1>,<port2> [fsync]
 *             reads `{"cmd":"propose","id":…,"data":[…]}` lines; what arrived together is written
 *             and fdatasynced as one append, sent to both followers, and answered
 *             (`{"event":"reply","id":…,"ok":true,"commitMs":…}`) when one follower acknowledges
 *             (a majority of three, with the leader)
 *   follower: node floor.ts follower <dir> [fsync]
 *             listens on a free port (printed as `{"event":"ready","port":…}`); each message
 *             (int32 size, then bytes) is written and fdatasynced, then acknowledged (int32 0)
 *
 * No terms, no votes, no log format, no fetch protocol, no retries: a lower bound, not a design.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as readline from 'node:readline';

const [role, dir, third, fourth] = process.argv.slice(2);
const fsyncArg = role === 'leader' ? fourth : third;
const fsync = fsyncArg !== 'false';
if (dir === undefined || (role !== 'leader' && role !== 'follower')) {
  throw new Error('usage: floor.ts leader <dir> <port1>,<port2> [fsync] | follower <dir> [fsync]');
}
fs.mkdirSync(dir, { recursive: true });
const fd = fs.openSync(path.join(dir, 'log'), 'w');
let position = 0;
const emit = (o: Record<string, unknown>): void =>
  void process.stdout.write(JSON.stringify({ tMs: Date.now(), ...o }) + '\n');

function append(chunks: Buffer[]): void {
  const n = fs.writevSync(fd, chunks, position);
  position += n;
  if (fsync) fs.fdatasyncSync(fd);
}

if (role === 'follower') {
  const server = net.createServer({ noDelay: true }, (socket) => {
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const frames: Buffer[] = [];
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const size = buf.readInt32BE(0);
        frames.push(buf.subarray(4, 4 + size));
        buf = buf.subarray(4 + size);
      }
      if (frames.length === 0) return;
      append(frames);
      const ack = Buffer.alloc(4 * frames.length);
      socket.write(ack);
    });
  });
  server.listen(0, '127.0.0.1', () =>
    emit({ event: 'ready', port: (server.address() as net.AddressInfo).port }),
  );
  // The parent's end of stdin closing means it is gone.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
} else {
  const ports = (third ?? '').split(',').map(Number);
  interface Waiting {
    ids: unknown[];
    startedMs: number[];
  }
  /** Appends acknowledged, per follower (each acknowledges in order). */
  const acked: number[] = ports.map(() => 0);
  /** Every append sent, by sequence number; dropped once answered. */
  const sentBatches: (Waiting | undefined)[] = [];
  let answered = 0;
  const sockets = ports.map((port, i) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let pending = 0;
    s.on('data', (d: Buffer) => {
      pending += d.length;
      while (pending >= 4) {
        pending -= 4;
        acked[i]!++;
      }
      // A batch commits once one follower has it (with the leader: two of three).
      const committed = Math.max(...acked);
      const nowMs = performance.now();
      while (answered < committed) {
        const b = sentBatches[answered]!;
        for (let k = 0; k < b.ids.length; k++) {
          emit({ event: 'reply', id: b.ids[k], ok: true, commitMs: nowMs - b.startedMs[k]! });
        }
        sentBatches[answered] = undefined;
        answered++;
      }
    });
    return s;
  });
  let queued: { id: unknown; data: string[]; startedMs: number }[] = [];
  const flush = (): void => {
    const batch = queued;
    queued = [];
    if (batch.length === 0) return;
    const body = Buffer.from(JSON.stringify(batch.map((b) => b.data)), 'utf8');
    const frame = Buffer.alloc(4 + body.length);
    frame.writeInt32BE(body.length, 0);
    body.copy(frame, 4);
    append([frame]);
    sentBatches.push({ ids: batch.map((b) => b.id), startedMs: batch.map((b) => b.startedMs) });
    for (const s of sockets) s.write(frame);
  };
  let scheduled = false;
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const cmd = JSON.parse(line) as { cmd: string; id: unknown; data?: string[] };
    if (cmd.cmd === 'propose') {
      queued.push({ id: cmd.id, data: cmd.data ?? [], startedMs: performance.now() });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          flush();
        });
      }
    } else if (cmd.cmd === 'usage') {
      const c = process.cpuUsage();
      emit({ event: 'reply', id: cmd.id, ok: true, cpuUs: c.user + c.system });
    } else emit({ event: 'reply', id: cmd.id, ok: false, error: `unknown command ${cmd.cmd}` });
  });
  lines.on('close', () => process.exit(0));
  let connected = 0;
  for (const s of sockets) {
    s.once('connect', () => {
      if (++connected === sockets.length) emit({ event: 'ready' });
    });
  }
}
