/**
 * The package's public client entry point: `import { Producer, Consumer, Admin } from 'samsa/client'`
 * resolves through package.json "exports" (to the compiled dist/, which `npm test` builds first).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

void test("'samsa/client' exports Producer, Consumer, Admin and the client errors", async (t) => {
  // The package path points at dist/ (tests run from the repository root); from source without a build it is missing.
  if (!existsSync('dist/src/client/index.js')) return t.skip('dist/ not built (npm test builds it first)');
  const client = (await import('samsa/client')) as Record<string, unknown>;
  for (const name of ['Producer', 'Consumer', 'Admin', 'KafkaClientError', 'ConfigError']) {
    assert.equal(typeof client[name], 'function', `samsa/client exports ${name}`);
  }
  const { Producer } = client as {
    Producer: new (o: { bootstrapServers: string }) => { close(): Promise<void> };
  };
  const p = new Producer({ bootstrapServers: '127.0.0.1:1' });
  await p.close();
});
