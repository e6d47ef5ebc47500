/** Helpers for interop tests: a broker per test, external client processes with bounded time. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startBroker, type RunningBroker } from '../../../src/broker/embed.js';

export async function withBroker(
  config: Record<string, string>,
  run: (b: RunningBroker, dataDir: string) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(`${tmpdir()}/samsa-interop-`);
  const b = await startBroker({ port: 0, dataDir, config });
  try {
    await run(b, dataDir);
  } finally {
    await b.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with input, killing it after `timeoutMs`. */
export function run(
  cmd: string,
  args: string[],
  input: string | Buffer = '',
  timeoutMs = 60_000,
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    // A command that exits before reading all its input is judged by its exit code and stderr.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Whether a command exists on this machine (CI installs them; a developer machine may not have them). */
export async function have(cmd: string, args: string[] = ['-V']): Promise<boolean> {
  try {
    // A command that runs but fails (a Python module that does not import) is not there either.
    return (await run(cmd, args, '', 10_000)).code === 0;
  } catch {
    return false;
  }
}

/** The Java client's murmur2 (as kafkajs's default partitioner and librdkafka's murmur2_random use). */
export function murmur2(data: Buffer): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (seed ^ data.length) | 0;
  const len4 = data.length >> 2;
  for (let i = 0; i < len4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4]! & 0xff) +
      ((data[i4 + 1]! & 0xff) << 8) +
      ((data[i4 + 2]! & 0xff) << 16) +
      ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = data.length % 4;
  const base = data.length - rest;
  if (rest === 3) h ^= (data[base + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[base + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[base]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

/** Partition the Java client picks for a key: positive murmur2 modulo the partition count. */
export function javaPartition(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
