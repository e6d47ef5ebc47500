/**
 * The module dependency rule (DESIGN.md, "Shape of the code") is enforced by ESLint; this test
 * proves the rule can fail: an import against the direction is reported, one along it is not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

/** The repository root: the nearest folder above this file (source or compiled) with the ESLint config. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'eslint.config.js'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('eslint.config.js not found above the test');
    dir = parent;
  }
  return dir;
}

const eslint = new ESLint({ cwd: repoRoot() });

async function restrictedImportMessages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

void test('protocol may not import storage or broker', async () => {
  const messages = await restrictedImportMessages(
    'src/protocol/index.ts',
    "import { x } from '../storage/log.js';\nimport { y } from '../broker/server.js';\nexport { x, y };\n",
  );
  assert.equal(messages.length, 2);
  assert.match(messages[0]!, /src\/protocol must not depend on src\/storage/);
});

void test('a deeper relative import against the direction is caught too', async () => {
  const messages = await restrictedImportMessages(
    'src/protocol/message.ts',
    "import { z } from '../../broker/handlers/00-produce.js';\nexport { z };\n",
  );
  assert.equal(messages.length, 1);
});

void test('imports along the dependency direction pass', async () => {
  const messages = await restrictedImportMessages(
    'src/protocol/frame.ts',
    "import { Reader } from './primitives/reader.js';\nexport { Reader };\n",
  );
  assert.deepEqual(messages, []);
});
