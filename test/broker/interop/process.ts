/**
 * The real `samsa server` command as a child process (bin/samsa.js, running the compiled CLI),
 * for tests that stop it with signals and start it again on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file with a package.json (tests also run from dist/test/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SamsaStartOptions {
  port: number;
  dataDir: string;
  /** More `--override key=value` settings. */
  overrides?: string[];
  /** How long to wait for the startup line. */
  timeoutMs?: number;
}

/** One `samsa server` process; every started one is tracked so `killAll` can end leftovers. */
export class SamsaProcess {
  private static readonly live = new Set<SamsaProcess>();
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<Exit>;
  private exitValue: Exit | null = null;
  private out = '';
  private err = '';
  private readonly listeners = new Set<() => void>();

  private constructor(o: SamsaStartOptions) {
    this.port = o.port;
    const bin = join(repoRoot(), 'bin', 'samsa.js');
    const args = [
      bin,
      'server',
      '--override',
      `listeners=PLAINTEXT://127.0.0.1:${o.port}`,
      '--override',
      `log.dirs=${o.dataDir}`,
      '--override',
      'num.partitions=3',
      ...(o.overrides ?? []).flatMap((kv) => ['--override', kv]),
    ];
    this.child = spawn(process.execPath, args, {
      cwd: dirname(o.dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    SamsaProcess.live.add(this);
    this.child.stdout!.on('data', (c: Buffer) => {
      this.out += c.toString('utf8');
      for (const l of this.listeners) l();
    });
    this.child.stderr!.on('data', (c: Buffer) => {
      this.err += c.toString('utf8');
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitValue = { code, signal };
        SamsaProcess.live.delete(this);
        for (const l of this.listeners) l();
        resolve(this.exitValue);
      });
      this.child.once('error', (e) => {
        this.err += `spawn failed: ${e.message}\n`;
        this.exitValue = { code: null, signal: null };
        SamsaProcess.live.delete(this);
        for (const l of this.listeners) l();
        resolve(this.exitValue);
      });
    });
  }

  /** Starts `samsa server` and waits for its "listening on" line. */
  static async start(o: SamsaStartOptions): Promise<SamsaProcess> {
    const p = new SamsaProcess(o);
    try {
      await p.waitFor('listening on', o.timeoutMs ?? 30_000);
    } catch (e) {
      p.child.kill('SIGKILL');
      await p.exited;
      throw e;
    }
    return p;
  }

  /** SIGKILLs every process still running and waits for each to exit. */
  static async killAll(): Promise<void> {
    await Promise.all(
      [...SamsaProcess.live].map(async (p) => {
        p.child.kill('SIGKILL');
        await p.exited;
      }),
    );
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** stdout and stderr, for assertion messages. */
  get output(): string {
    return `--- stdout ---\n${this.out}--- stderr ---\n${this.err}`;
  }

  /** Resolves once stdout contains `text`; rejects if the process exits first or after `timeoutMs`. */
  waitFor(text: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.out.includes(text)) done(null);
        else if (this.exitValue !== null)
          done(
            new Error(
              `samsa exited (${JSON.stringify(this.exitValue)}) before printing "${text}"\n${this.output}`,
            ),
          );
      };
      const timer = setTimeout(
        () => done(new Error(`samsa did not print "${text}" in ${timeoutMs} ms\n${this.output}`)),
        timeoutMs,
      );
      const done = (e: Error | null): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (e === null) resolve();
        else reject(e);
      };
      this.listeners.add(check);
      check();
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Sends `signal` and waits for the exit; SIGKILLs and throws after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<Exit> {
    if (this.exitValue !== null) return this.exitValue;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    const exit = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (exit === null) {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`samsa did not exit within ${timeoutMs} ms of ${signal}\n${this.output}`);
    }
    return exit;
  }
}
