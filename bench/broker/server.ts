/**
 * A server process of the broker benchmark, driven by its parent over the IPC channel:
 *
 *   server.ts broker <dataDir> <config JSON>   a Samsa broker (startBroker) on a free port
 *   server.ts sink <dir>                       the raw Node baseline (sink.ts) on a free port
 *   server.ts bare <dir>                       a Node TCP server that only listens: the floor
 *                                              of start time and memory (no module loaded)
 *
 * Modules are imported for the kind asked only, so each process holds no more code than it needs.
 * It reports `{ type: 'ready', port, startMs, sinceProcessStartMs }` (startMs: the call to
 * startBroker, or to listen, until it resolved; sinceProcessStartMs: from the process's start,
 * Node's boot and module loading included), then answers `{ id, cmd }` messages:
 * `usage` (CPU time, RSS, heap, /proc/self/io counters, event-loop delay and GC pauses since the
 * previous `usage`), `reset` (sink only: the mode of the next round) and `stop`.
 * It exits when the parent goes away.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import * as net from 'node:net';
import type { RunningBroker } from '../../src/broker/embed.js';
import type { Sink, SinkMode } from './sink.js';

interface Command {
  id: number;
  cmd: 'usage' | 'reset' | 'stop';
  mode?: SinkMode;
}

const [kind, dir, configJson] = process.argv.slice(2);
if ((kind !== 'broker' && kind !== 'sink' && kind !== 'bare') || dir === undefined) {
  process.stderr.write('usage: server.ts broker <dataDir> <config JSON> | sink <dir> | bare <dir>\n');
  process.exit(2);
}
const send = (m: unknown): void => {
  process.send?.(m);
};
process.on('disconnect', () => process.exit(0));

let broker: RunningBroker | null = null;
let sink: Sink | null = null;
let bare: net.Server | null = null;
let port: number;
let startMs: number;
if (kind === 'broker') {
  const { startBroker } = await import('../../src/broker/embed.js');
  const started = performance.now();
  broker = await startBroker({
    port: 0,
    dataDir: dir,
    config: JSON.parse(configJson ?? '{}') as Record<string, string>,
  });
  startMs = performance.now() - started;
  port = broker.port;
} else if (kind === 'sink') {
  const { Sink } = await import('./sink.js');
  const started = performance.now();
  const s = await Sink.start(dir);
  startMs = performance.now() - started;
  sink = s.sink;
  port = s.port;
} else {
  const started = performance.now();
  const server = net.createServer((socket) => socket.destroy());
  bare = server;
  port = await new Promise<number>((resolve) =>
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : 0);
    }),
  );
  startMs = performance.now() - started;
}
send({ type: 'ready', port, startMs, sinceProcessStartMs: performance.now() });

// Event-loop delay and GC pauses since the previous `usage` command: where a server's hiccups come from.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });

function hiccups(): Record<string, number> {
  const out = {
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    gcCount: gc.count,
    gcTotalMs: gc.totalMs,
    gcMaxMs: gc.maxMs,
  };
  loopDelay.reset();
  gc.count = 0;
  gc.totalMs = 0;
  gc.maxMs = 0;
  return out;
}

/** Linux's I/O counters of this process (bytes and calls of read and write syscalls), or null. */
function io(): Record<string, number> | null {
  try {
    const out: Record<string, number> = {};
    for (const l of readFileSync('/proc/self/io', 'utf8').split('\n')) {
      const [k, v] = l.split(':');
      if (k !== undefined && v !== undefined) out[k.trim()] = Number(v);
    }
    return out;
  } catch {
    return null;
  }
}

process.on('message', (m: Command) => {
  void (async () => {
    switch (m.cmd) {
      case 'usage': {
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        send({
          id: m.id,
          cpuUs: cpu.user + cpu.system,
          loopActiveMs: performance.eventLoopUtilization().active,
          atMs: performance.now(),
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          io: io(),
          hiccups: hiccups(),
        });
        return;
      }
      case 'reset':
        await sink?.reset(m.mode!);
        send({ id: m.id });
        return;
      case 'stop':
        await broker?.stop();
        await sink?.close();
        await new Promise<void>((r) => (bare === null ? r() : bare.close(() => r())));
        send({ id: m.id });
        // Let the reply go out, then exit (a --cpu-prof profile is written on exit).
        setTimeout(() => process.exit(0), 20);
        return;
    }
  })().catch((e: unknown) => {
    process.stderr.write(`server ${kind}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
});
