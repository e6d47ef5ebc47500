/**
 * Shared harness for client tests: a real Samsa broker on 127.0.0.1 with its own temporary
 * data folder, removed when the broker stops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';

export type TestBroker = RunningBroker & { dataDir: string };

/** Starts a broker on a free port; `stop()` also removes its data folder. */
export async function startTestBroker(config: Record<string, string> = {}): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-client-'));
  let running: RunningBroker;
  try {
    running = await startBroker({ port: 0, dataDir, config });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    ...running,
    dataDir,
    stop: async () => {
      try {
        await running.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs `fn` against a fresh broker and always stops it (and removes its data) afterwards. */
export async function withBroker<T>(
  config: Record<string, string>,
  fn: (b: TestBroker) => Promise<T>,
): Promise<T> {
  const broker = await startTestBroker(config);
  try {
    return await fn(broker);
  } finally {
    await broker.stop();
  }
}
