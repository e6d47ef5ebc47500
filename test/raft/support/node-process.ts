/**
 * A Raft node as a child process (src/raft/process-main.ts), driven over its stdin/stdout JSON
 * lines: for the real-process test and bench/raft. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Compiled (dist/), the children run compiled too; else they run the sources through tsx. */
const COMPILED = import.meta.url.endsWith('.js');
/** RAFT_PROCESS_MAIN names another process-main.ts (a patched core, say) to run instead. */
const SCRIPT =
  process.env['RAFT_PROCESS_MAIN'] ??
  fileURLToPath(new URL(`../../../src/raft/process-main.${COMPILED ? 'js' : 'ts'}`, import.meta.url));
const NODE_ARGS = COMPILED ? [SCRIPT] : ['--import', 'tsx', SCRIPT];
/** Where `tsx` resolves from (the repository), or dist/ when compiled. */
const CWD = fileURLToPath(new URL('../../../', import.meta.url));

/** Log lines kept per process (the most recent). */
const LOG_LINES_MAX = 2000;

export interface NodeEvent {
  event: string;
  tMs: number;
  [k: string]: unknown;
}

export interface NodeState {
  role: string;
  epoch: number;
  leaderId: number;
  highWatermark: number;
  logStart: number;
  logEnd: number;
  applied: number;
  appliedEnd: number;
}

export class NodeProcess {
  readonly id: number;
  readonly child: ChildProcess;
  readonly events: NodeEvent[] = [];
  /** The node's log lines (core and transport), most recent last, at most LOG_LINES_MAX. */
  readonly logs: NodeEvent[] = [];
  /** Lines that were not JSON events (a crash's stack trace on stderr, say). */
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly replies = new Map<number, (e: NodeEvent) => void>();
  private readonly listeners = new Set<(e: NodeEvent) => void>();
  private nextId = 1;
  private exitedFlag = false;

  /** `script`: another program speaking the same protocol (a benchmark's baseline), by path. */
  constructor(id: number, args: readonly string[], script?: string) {
    this.id = id;
    const nodeArgs = script === undefined ? NODE_ARGS : COMPILED ? [script] : ['--import', 'tsx', script];
    this.child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: CWD,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.onLine(line);
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => this.stderr.push(chunk));
    this.child.stdin!.on('error', () => undefined); // a killed child's pipe
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitedFlag = true;
        resolve({ code, signal });
      });
    });
  }

  get alive(): boolean {
    return !this.exitedFlag;
  }

  private onLine(line: string): void {
    let e: NodeEvent;
    try {
      e = JSON.parse(line) as NodeEvent;
    } catch {
      this.stderr.push(line);
      return;
    }
    if (e.event === 'reply' && typeof e['id'] === 'number') {
      const r = this.replies.get(e['id']);
      this.replies.delete(e['id']);
      r?.(e);
    } else if (e.event === 'log') {
      this.logs.push(e);
      if (this.logs.length > LOG_LINES_MAX) this.logs.splice(0, this.logs.length - LOG_LINES_MAX);
    } else this.events.push(e);
    for (const l of this.listeners) l(e);
  }

  /** Sends a command; resolves with its reply, or rejects after `timeoutMs` or if the process exits. */
  command(cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<NodeEvent> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.alive) {
        reject(new Error(`node ${this.id} has exited`));
        return;
      }
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new Error(`node ${this.id}: no reply to ${JSON.stringify(cmd)} within ${timeoutMs} ms`));
      }, timeoutMs);
      void this.exited.then(() => {
        clearTimeout(timer);
        if (this.replies.delete(id)) reject(new Error(`node ${this.id} exited before replying`));
      });
      this.replies.set(id, (e) => {
        clearTimeout(timer);
        resolve(e);
      });
      this.child.stdin!.write(JSON.stringify({ ...cmd, id }) + '\n');
    });
  }

  /** Sends a command without waiting for (or keeping) its reply: for high-rate proposals, see `onEvent`. */
  commandNoWait(cmd: Record<string, unknown>, onReply: (e: NodeEvent) => void): void {
    const id = this.nextId++;
    this.replies.set(id, onReply);
    this.child.stdin!.write(JSON.stringify({ ...cmd, id }) + '\n');
  }

  async state(timeoutMs = 10_000): Promise<NodeState> {
    const r = await this.command({ cmd: 'state' }, timeoutMs);
    return r as unknown as NodeState;
  }

  /** Resolves with the first event (past or future) that `match` accepts; rejects after `timeoutMs`. */
  waitForEvent(what: string, match: (e: NodeEvent) => boolean, timeoutMs: number): Promise<NodeEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const listener = (e: NodeEvent): void => {
        if (!match(e)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(e);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(
          new Error(`node ${this.id}: no ${what} within ${timeoutMs} ms; stderr: ${this.stderr.join('')}`),
        );
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  onEvent(listener: (e: NodeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** SIGKILL (no chance to flush or say goodbye), then waits for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** `n` distinct ports that were free a moment ago on 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export interface ClusterOptions {
  readonly ids: readonly number[];
  readonly ports: readonly number[];
  readonly dirOf: (id: number) => string;
  /** More arguments for every node (timeouts, …). */
  readonly args: readonly string[];
}

/** A set of node processes on 127.0.0.1 that can be killed and restarted on their data dirs. */
export class Cluster {
  readonly nodes = new Map<number, NodeProcess>();
  readonly voters: string;

  constructor(private readonly opts: ClusterOptions) {
    this.voters = opts.ids.map((id, i) => `${id}@127.0.0.1:${opts.ports[i]!}`).join(',');
  }

  /** Starts (or restarts) node `id`; resolves once it listens. */
  async start(id: number, readyTimeoutMs = 20_000): Promise<NodeProcess> {
    const p = new NodeProcess(id, [
      '--node-id',
      String(id),
      '--voters',
      this.voters,
      '--dir',
      this.opts.dirOf(id),
      ...this.opts.args,
    ]);
    this.nodes.set(id, p);
    await p.waitForEvent('ready', (e) => e.event === 'ready', readyTimeoutMs);
    return p;
  }

  live(): NodeProcess[] {
    return [...this.nodes.values()].filter((p) => p.alive);
  }

  /**
   * Waits until every live node names the same leader in the same epoch, that leader says it
   * leads, and (when given) its epoch is above `aboveEpoch`. Polls `state` every `pollMs`.
   */
  async waitForLeader(
    timeoutMs: number,
    aboveEpoch = -1,
    pollMs = 20,
  ): Promise<{ leader: NodeProcess; epoch: number }> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const live = this.live();
      const states = await Promise.all(live.map((p) => p.state(timeoutMs).catch(() => null)));
      last = JSON.stringify(states.map((s, i) => [live[i]!.id, s?.role, s?.epoch, s?.leaderId]));
      const leaderState = states.find((s) => s?.role === 'leader');
      if (leaderState !== undefined && leaderState !== null && leaderState.epoch > aboveEpoch) {
        const agreed = states.every(
          (s) => s !== null && s.epoch === leaderState.epoch && s.leaderId === leaderState.leaderId,
        );
        const leader = live[states.indexOf(leaderState)]!;
        if (agreed) return { leader, epoch: leaderState.epoch };
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new Error(
      `no agreed leader within ${timeoutMs} ms; last states [id, role, epoch, leader]: ${last}`,
    );
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((p) => p.kill()));
  }
}
