/**
 * Reading a whole topic back with external consumers (kcat, the Python clients under python/)
 * and judging what came back against what was sent.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from './process.js';
import { javaPartition, run } from './support.js';

export const PYTHON = '/usr/bin/python3';

/** The Python client scripts (not compiled: found from the repository root). */
export const PYTHON_SCRIPTS = {
  confluent: join(repoRoot(), 'test', 'broker', 'interop', 'python', 'confluent_client.py'),
  kafkaPython: join(repoRoot(), 'test', 'broker', 'interop', 'python', 'kafka_python_client.py'),
};

export interface Seen {
  partition: number;
  offset: number;
  key: string;
  value: string;
  /** `name=value` pairs joined with commas, in record order. */
  headers: string;
  timestamp?: number;
}

export function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** Every record of `topic` from the beginning to the end of each partition, read with kcat (no group). */
export async function kcatConsumeAll(bootstrap: string, topic: string): Promise<Seen[]> {
  const r = await run('kcat', ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-J', '-q']);
  assert.equal(r.code, 0, r.stderr);
  return jsonLines<{
    partition: number;
    offset: number;
    key: string | null;
    payload: string | null;
    headers?: string[];
    ts?: number;
  }>(r.stdout).map((j) => {
    // kcat lists headers as a flat array: name, value, name, value …
    const h = j.headers ?? [];
    const pairs: string[] = [];
    for (let i = 0; i + 1 < h.length; i += 2) pairs.push(`${h[i]}=${h[i + 1]}`);
    return {
      partition: j.partition,
      offset: j.offset,
      key: j.key ?? '',
      value: j.payload ?? '',
      headers: pairs.join(','),
      ...(j.ts !== undefined ? { timestamp: j.ts } : {}),
    };
  });
}

/** Runs one of the Python scripts; its stdout is JSON lines. */
export async function python<T = Record<string, unknown>>(
  script: string,
  args: (string | number)[],
  timeoutMs = 60_000,
): Promise<T[]> {
  const r = await run(PYTHON, [script, ...args.map(String)], '', timeoutMs);
  assert.equal(r.code, 0, `${script} ${args.join(' ')} exited with ${r.code}\n${r.stderr}`);
  return jsonLines<T>(r.stdout);
}

/** Every record of `topic` read with a Python script's `consume` command (assignment, no group). */
export async function pythonConsumeAll(script: string, bootstrap: string, topic: string): Promise<Seen[]> {
  const lines = await python<Seen & { event?: string; complete?: boolean; error?: string }>(script, [
    'consume',
    bootstrap,
    topic,
  ]);
  const end = lines.at(-1);
  assert.equal(end?.event, 'end', `consume did not finish: ${JSON.stringify(end)}`);
  assert.equal(end.complete, true, 'consume reached the end of every partition');
  const errors = lines.filter((l) => l.event === 'error');
  assert.deepEqual(errors, [], 'no consumer errors');
  return lines.filter((l) => l.event === undefined);
}

export interface Expected {
  key: string;
  headers: string;
  /** Records of one key must come back in increasing `seq`. */
  seq: number;
  timestamp?: number;
}

export interface CheckOptions {
  partitions: number;
  /** What was sent with each value (values are unique). */
  sent: ReadonlyMap<string, Expected>;
  /** Values that must be present (acknowledged); any other sent value may be absent. */
  required: Iterable<string>;
}

/**
 * Checks a whole topic read back: every required value exactly once, nothing unknown, no
 * duplicates, keys, headers (and timestamps) as sent, each record on the Java client's
 * partition for its key, per-key order, and offsets continuous from 0 in every partition.
 * Returns how many records were present without being required.
 */
export function checkTopic(seen: readonly Seen[], o: CheckOptions): { extra: number } {
  const byValue = new Map<string, Seen>();
  for (const s of seen) {
    assert.ok(!byValue.has(s.value), `${s.value} appears more than once`);
    byValue.set(s.value, s);
  }
  let required = 0;
  for (const v of o.required) {
    required++;
    assert.ok(byValue.has(v), `acknowledged record ${v} is missing`);
  }
  const offsets = new Map<number, number[]>();
  for (const s of seen) {
    let list = offsets.get(s.partition);
    if (list === undefined) offsets.set(s.partition, (list = []));
    list.push(s.offset);
  }
  for (const [p, list] of offsets) {
    list.sort((a, b) => a - b);
    list.forEach((off, i) => assert.equal(off, i, `offsets of partition ${p} are continuous from 0`));
  }
  const ordered = [...seen].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const lastSeq = new Map<string, number>();
  for (const s of ordered) {
    const e = o.sent.get(s.value);
    assert.ok(e !== undefined, `record ${JSON.stringify(s)} was never sent`);
    assert.equal(s.key, e.key, `key of ${s.value}`);
    assert.equal(s.headers, e.headers, `headers of ${s.value}`);
    if (e.timestamp !== undefined) assert.equal(s.timestamp, e.timestamp, `timestamp of ${s.value}`);
    assert.equal(
      s.partition,
      javaPartition(Buffer.from(s.key), o.partitions),
      `${s.value} (key ${s.key}) on the Java client's partition`,
    );
    const last = lastSeq.get(s.key) ?? -1;
    assert.ok(e.seq > last, `per-key order for ${s.key}: ${s.value} after seq ${last}`);
    lastSeq.set(s.key, e.seq);
  }
  return { extra: seen.length - required };
}
