/**
 * npm run gen:protocol -- [spec folder]
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
const specDir = resolve(process.argv[2] ?? join(repoRoot, '../shared/kafka-spec'));
const outDir = join(repoRoot, 'src/protocol/generated');

if (!existsSync(join(specDir, 'message'))) {
  console.error(`gen:protocol: ${specDir} has no message/ folder; pass the Kafka spec folder as the argument`);
  process.exit(2);
}

const files = new Map<string, string>();
const models: { folder: string; model: MessageModel }[] = [];
const seen = new Map<string, string>();
for (const folder of FOLDERS) {
  const dir = join(specDir, folder);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const source = `${folder}/${name}`;
    const model = loadMessage(join(dir, name), source);
    const clash = seen.get(model.name);
    if (clash !== undefined) throw new Error(`${source}: message name ${model.name} also defined in ${clash}`);
    seen.set(model.name, source);
    models.push({ folder, model });
    files.set(`${folder}/${model.name}.ts`, new MessageEmitter(model).emit());
  }
}
files.set('index.ts', emitIndex(models));
files.set('api-keys.ts', emitApiKeys(models.filter((m) => m.folder === 'message').map((m) => m.model)));

// Write changed files and remove stale ones, so the generated tree mirrors the specs exactly.
let written = 0;
for (const [path, text] of files) {
  const full = join(outDir, path);
  mkdirSync(resolve(full, '..'), { recursive: true });
  if (existsSync(full) && readFileSync(full, 'utf8') === text) continue;
  writeFileSync(full, text);
  written++;
}
let removed = 0;
const walk = (dir: string): void => {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (!files.has(relative(outDir, full))) {
      rmSync(full);
      removed++;
    }
  }
};
walk(outDir);
console.log(
  `gen:protocol: ${models.length} messages from ${specDir} → ${relative(repoRoot, outDir)} (${written} written, ${removed} removed)`,
);
