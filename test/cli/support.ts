/**
 * Runs the `samsa` CLI as a child process, as a user's shell would: arguments, optional stdin,
 * and the exit code, stdout and stderr it ends with. From the TypeScript sources it runs under
 * tsx; from the compiled tests (dist/) it runs the compiled CLI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const fromSource = import.meta.url.endsWith('.ts');
const entry = fileURLToPath(new URL(`./run-cli.${fromSource ? 'ts' : 'js'}`, import.meta.url));
/** The repository root, where tsx resolves from. */
const cwd = fileURLToPath(new URL(fromSource ? '../../' : '../../../', import.meta.url));

/** No CLI run in a test takes this long; past it the child is killed and the test fails. */
export const CLI_TIMEOUT_MS = 30_000;

/** A CLI child process still running (a consumer waiting for records), stopped by the test. */
export interface RunningCli {
  /** Resolves when the process ends; a test that never stops it fails after CLI_TIMEOUT_MS. */
  result: Promise<CliResult>;
  /** Sends SIGTERM, as a user's Ctrl-C or a service manager would. */
  stop(): void;
  /** stdout so far. */
  stdout(): string;
}

export function startCli(
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): RunningCli {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.env?.['SAMSA_BOOTSTRAP_SERVER'] === undefined) delete env['SAMSA_BOOTSTRAP_SERVER'];
  const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), entry, ...args], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => stdout.push(c));
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? CLI_TIMEOUT_MS);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin ?? '');
  return {
    result,
    stop: () => void child.kill('SIGTERM'),
    stdout: () => Buffer.concat(stdout).toString('utf8'),
  };
}

export function runCli(
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return startCli(args, options).result;
}

/** The whitespace-separated cells of a table's data rows, keyed by header (Kafka's column layout). */
export function parseTable(text: string, firstHeader: string): Record<string, string>[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const at = lines.findIndex((l) => l.trim().split(/\s+/)[0] === firstHeader);
  if (at === -1) return [];
  const headers = lines[at]!.trim().split(/\s+/);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(at + 1)) {
    const cells = line.trim().split(/\s+/);
    if (cells[0] === firstHeader) break;
    rows.push(Object.fromEntries(headers.map((h, i) => [h, cells[i] ?? ''])));
  }
  return rows;
}

export interface CliBroker {
  /** host:port of the broker (valid once the suite's before hook ran). */
  bootstrap: () => string;
  /** Runs `samsa <command> --bootstrap-server <broker> <rest>`. */
  samsa: (args: readonly string[], options?: { stdin?: string }) => Promise<CliResult>;
  /** The same, left running (a consumer waiting for records). */
  start: (args: readonly string[]) => RunningCli;
}

/** A real broker for the enclosing describe(): started before its tests, stopped after them. */
export function cliBroker(config: Record<string, string> = {}): CliBroker {
  let broker: RunningBroker | null = null;
  let dataDir: string | null = null;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'samsa-cli-'));
    broker = await startBroker({
      port: 0,
      dataDir,
      config: { 'num.partitions': '1', 'group.initial.rebalance.delay.ms': '0', ...config },
    });
  });
  after(async () => {
    await broker?.stop();
    if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
  });
  const bootstrap = (): string => {
    assert.ok(broker !== null, 'the broker is started in before()');
    return broker.bootstrap;
  };
  const withBootstrap = (args: readonly string[]): string[] => [
    args[0]!,
    '--bootstrap-server',
    bootstrap(),
    ...args.slice(1),
  ];
  return {
    bootstrap,
    samsa: (args, options = {}) => runCli(withBootstrap(args), options),
    start: (args) => startCli(withBootstrap(args)),
  };
}

/** Asserts the exit code, showing both streams when it is not the expected one. */
export function expectCode(r: CliResult, code: number, what: string): CliResult {
  assert.equal(r.code, code, `${what}: exit ${code} expected (stdout: ${r.stdout}; stderr: ${r.stderr})`);
  return r;
}
