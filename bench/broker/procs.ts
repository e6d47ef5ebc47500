/**
 * Child processes of the broker benchmark: the broker, the baseline sink and the load generator
 * each run in a process of their own (spawned with this process's Node flags, so it works under
 * tsx and compiled alike), spoken to over the IPC channel with `{ id, cmd, … }` messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** This process's Node flags (tsx's loader when run under tsx), without profiling flags. */
export function childExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^--(cpu-prof|heap-prof|prof)/.test(a)) {
      if (!a.includes('=') && /-(dir|name|interval)$/.test(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** A sibling script of this module: `.ts` under tsx, `.js` once compiled. */
export function siblingScript(name: string): string {
  return fileURLToPath(
    new URL(import.meta.url.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, import.meta.url),
  );
}

interface Reply {
  id?: number;
  type?: string;
  error?: string;
  [k: string]: unknown;
}

export class Child {
  readonly process: ChildProcess;
  /** The first `{ type: 'ready' }` message, and when it arrived (ms after the spawn). */
  readonly ready: Promise<{ message: Reply; spawnToReadyMs: number }>;
  readonly exited: Promise<void>;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(script: string, args: string[], extraNodeFlags: string[] = []) {
    const spawnedAt = performance.now();
    this.process = spawn(
      process.execPath,
      [...childExecArgv(), ...extraNodeFlags, siblingScript(script), ...args],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    let markReady!: (r: { message: Reply; spawnToReadyMs: number }) => void;
    let failReady!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.process.on('message', (m: Reply) => {
      if (m.type === 'ready') {
        markReady({ message: m, spawnToReadyMs: performance.now() - spawnedAt });
        return;
      }
      const w = m.id === undefined ? undefined : this.waiting.get(m.id);
      if (w === undefined) return;
      this.waiting.delete(m.id!);
      if (m.error !== undefined) w.reject(new Error(`${script}: ${m.error}`));
      else w.resolve(m);
    });
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        const e = new Error(`${script} exited (code ${code}, signal ${signal})`);
        failReady(e);
        for (const w of this.waiting.values()) w.reject(e);
        this.waiting.clear();
        resolve();
      });
    });
  }

  call(message: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.process.send({ ...message, id });
    });
  }

  /** Asks a server child to stop (answering in-flight work), then waits for it to exit. */
  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      await this.call({ cmd: 'stop' }).catch(() => undefined);
      this.process.disconnect();
    }
    await this.exited;
  }

  /** Ends the child at once (for a child with no stop command, or one that hangs). */
  async kill(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    await this.exited;
  }
}

export interface Usage {
  cpuUs: number;
  /** The event loop's busy time since it started (eventLoopUtilization().active), ms. */
  loopActiveMs: number;
  /** When the sample was taken (the process's performance.now()), ms. */
  atMs: number;
  rss: number;
  heapUsed: number;
  /** /proc/self/io of the process (wchar, syscw, rchar, syscr, …), where there is one. */
  io: Record<string, number> | null;
  /** Since the previous `usage` call: event-loop delay p99 and max, GC pauses (count, total, longest), ms. */
  hiccups: {
    loopDelayP99Ms: number;
    loopDelayMaxMs: number;
    gcCount: number;
    gcTotalMs: number;
    gcMaxMs: number;
  };
}

export async function usage(c: Child): Promise<Usage> {
  const r = await c.call({ cmd: 'usage' });
  return {
    cpuUs: r['cpuUs'] as number,
    loopActiveMs: r['loopActiveMs'] as number,
    atMs: r['atMs'] as number,
    rss: r['rss'] as number,
    heapUsed: r['heapUsed'] as number,
    io: (r['io'] as Record<string, number> | null) ?? null,
    hiccups: r['hiccups'] as Usage['hiccups'],
  };
}
