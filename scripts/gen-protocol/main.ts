/**
 * npm run gen:protocol -- [spec folder]
 * npm run gen:check -- [spec folder]     (compares instead of writing; exits 1 on any difference)
 *
 * Generates src/protocol/generated/ from Kafka's JSON specs (default ../shared/kafka-spec):
 * every message in message/, coordinator-records/ and metadata-records/, an index, and the
 * API key table. Output is deterministic (sorted inputs, no timestamps); files no longer
 * produced are removed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageEmitter } from './emit-message.js';
import { emitApiKeys, emitIndex } from './emit-tables.js';
import { loadMessage, type MessageModel } from './spec.js';

const FOLDERS = ['message', 'coordinator-records', 'metadata-records'] as const;

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const specArg = args.find((a) => !a.startsWith('--'));
const specDir = resolve(specArg ?? join(repoRoot, '../shared/kafka-spec'));
const outDir = join(repoRoot, 'src/protocol/generated');

if (!existsSync(join(specDir, 'message'))) {
  console.error(
    `gen:protocol: ${specDir} has no message/ folder; pass the Kafka spec folder as the argument`,
  );
  process.exit(2);
}

const files = new Map<string, string>();
const models: { folder: string; model: MessageModel }[] = [];
const seen = new Map<string, string>();
for (const folder of FOLDERS) {
  const dir = join(specDir, folder);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const source = `${folder}/${name}`;
    const model = loadMessage(join(dir, name), source);
    const clash = seen.get(model.name);
    if (clash !== undefined)
      throw new Error(`${source}: message name ${model.name} also defined in ${clash}`);
    seen.set(model.name, source);
    models.push({ folder, model });
    files.set(`${folder}/${model.name}.ts`, new MessageEmitter(model).emit());
  }
}
files.set('index.ts', emitIndex(models));
files.set('api-keys.ts', emitApiKeys(models.filter((m) => m.folder === 'message').map((m) => m.model)));

// Write changed files and remove stale ones, so the generated tree mirrors the specs exactly.
// With --check nothing is written: every difference is listed and the exit code is 1.
const differing: string[] = [];
for (const [path, text] of files) {
  const full = join(outDir, path);
  if (existsSync(full) && readFileSync(full, 'utf8') === text) continue;
  differing.push(`${existsSync(full) ? 'changed' : 'missing'}: ${path}`);
  if (check) continue;
  mkdirSync(resolve(full, '..'), { recursive: true });
  writeFileSync(full, text);
}
const walk = (dir: string): void => {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (!files.has(relative(outDir, full))) {
      differing.push(`stale: ${relative(outDir, full)}`);
      if (!check) rmSync(full);
    }
  }
};
walk(outDir);
const summary = `${models.length} messages from ${specDir} → ${relative(repoRoot, outDir)}`;
if (check) {
  if (differing.length > 0) {
    console.error(`gen:check: generated code differs from the specs (${summary}); run npm run gen:protocol`);
    for (const d of differing) console.error(`  ${d}`);
    process.exit(1);
  }
  console.log(`gen:check: generated code matches (${summary})`);
} else {
  console.log(`gen:protocol: ${summary} (${differing.length} files written or removed)`);
}
