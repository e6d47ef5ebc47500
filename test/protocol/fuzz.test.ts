/**
 * Fuzzing the decoders: mutated valid encodings (bit flips, truncation at every length, inserted
 * and overwritten bytes, hostile lengths) and random buffers go to decodeRequest and to
 * decodeMessage of every request codec at every version; random and mutated buffers to every
 * response codec (and every other codec). Nothing may throw, every decode must finish quickly, and
 * N input bytes must never decode into more than N array elements (or longer buffers).
 *
 * The fuzzing runs in worker threads with a heap limit and a watchdog, so a decoder that loops or
 * allocates without bound fails the test within seconds, naming the codec and version, instead of
 * hanging the run or exhausting the machine's memory.
 *
 * Environment: FUZZ_ITERATIONS (mutated inputs per codec and version, default 24), FUZZ_SEED
 * (reproduce a run), FUZZ_ONLY (a regular expression on codec names), FUZZ_HEAP_MB (default 512),
 * FUZZ_STALL_MS (no progress for this long is a hang, default 20000).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { decodeMessage, encodeMessage, type DecodeResult } from '../../src/protocol/message.js';
import { decodeRequest, decodeResponse, encodeRequestFrame } from '../../src/protocol/frame.js';
import { apis, type ApiDefinition } from '../../src/protocol/generated/api-keys.js';
import { DecodeError } from '../../src/protocol/primitives/errors.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import {
  allCodecs,
  caseSeed,
  census,
  hex,
  randomMessage,
  Rng,
  seedFromEnv,
  versionsOf,
  type AnyCodec,
} from './support/random-message.js';
import { lengthFields, mutate, randomBuffer, setLength } from './support/mutate.js';

const ITERATIONS = Math.max(1, Number(process.env['FUZZ_ITERATIONS'] ?? 24));
const BASE_SEED = seedFromEnv('FUZZ_SEED', 0xf022);
const ONLY = process.env['FUZZ_ONLY'] !== undefined ? new RegExp(process.env['FUZZ_ONLY']) : null;
const HEAP_MB = Number(process.env['FUZZ_HEAP_MB'] ?? 512);
const STALL_MS = Number(process.env['FUZZ_STALL_MS'] ?? 20_000);
/** A single decode taking longer than this (twice) is treated as a hang; the slowest take a few ms. */
const MAX_DECODE_MS = 500;

// ------------------------------------------------------------------ checks (run in the workers)

interface Stats {
  decodes: number;
  ok: number;
  slowestMs: number;
}
const stats: Stats = { decodes: 0, ok: 0, slowestMs: 0 };

/** A caught exception inside decodeMessage surfaces as "<Codec>: TypeError: …": a decoder bug, not bad input. */
const THROWN = /\b(Range|Type|Reference|Syntax)?Error: /;

function checkResult(where: () => string, input: Buffer, r: DecodeResult<unknown>): void {
  assert.equal(typeof r.ok, 'boolean', where());
  if (!r.ok) {
    assert.ok(r.error instanceof DecodeError, `${where()}: error is not a DecodeError`);
    assert.doesNotMatch(r.error.message, THROWN, `${where()}: decoder threw`);
    return;
  }
  stats.ok++;
  const n = input.length;
  assert.ok(r.end >= 0 && r.end <= n, `${where()}: end ${r.end} outside the input of ${n}`);
  // decodeRequest returns the codec too: count only what was decoded.
  const v = r.value as { header?: unknown; body?: unknown; codec?: unknown };
  const c = census(v.codec !== undefined ? { header: v.header, body: v.body } : r.value);
  // Every array element takes at least one byte of its own, so N bytes hold at most N elements.
  assert.ok(c.arrayElements <= n, `${where()}: ${n} bytes decoded into ${c.arrayElements} array elements`);
  assert.ok(c.longestBuffer <= n, `${where()}: a ${c.longestBuffer}-byte buffer from ${n} bytes`);
  // A uuid is 22 characters from 16 bytes, and absent fields hold short default strings.
  assert.ok(c.longestString <= 2 * n + 64, `${where()}: a ${c.longestString}-char string from ${n} bytes`);
}

function timed<T>(where: () => string, input: Buffer, f: () => T): T {
  const run = (): { out: T; ms: number } => {
    const t0 = performance.now();
    let out: T;
    try {
      out = f();
    } catch (e) {
      assert.fail(`${where()}: threw ${String(e)}\ninput: ${hex(input)}`);
    }
    return { out, ms: performance.now() - t0 };
  };
  let { out, ms } = run();
  stats.decodes++;
  // A slow decode is timed again, so a GC pause on a loaded machine is not taken for a hang.
  if (ms >= MAX_DECODE_MS) ({ out, ms } = run());
  stats.slowestMs = Math.max(stats.slowestMs, ms);
  assert.ok(ms < MAX_DECODE_MS, `${where()}: decoding ${input.length} bytes took ${ms.toFixed(1)} ms, twice`);
  return out;
}

/** decodeMessage, plus the raw codec read (which must not throw either). */
function fuzzMessage(
  codec: AnyCodec,
  input: Buffer,
  version: number,
  where: () => string,
): DecodeResult<unknown> {
  const w = (): string => `${where()} [FUZZ_SEED=${BASE_SEED}] input ${hex(input)}`;
  timed(w, input, () => codec.read(new Reader(input), version));
  const r = timed(w, input, () => decodeMessage(codec, input, version));
  checkResult(w, input, r);
  return r;
}

function fuzzFrame(input: Buffer, where: () => string): DecodeResult<unknown> {
  const w = (): string => `${where()} [FUZZ_SEED=${BASE_SEED}] frame ${hex(input)}`;
  const r = timed(w, input, () => decodeRequest(input));
  checkResult(w, input, r);
  return r;
}

/** Valid encodings of random messages of `codec` at `version`, small enough to truncate everywhere. */
function samples(codec: AnyCodec, version: number, rng: Rng, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++)
    out.push(encodeMessage(codec, randomMessage(codec, version, rng, { large: 0 }), version));
  return out;
}

// ------------------------------------------------------------------ jobs

/** What a job reports through: `unit` runs one named check (its failure does not stop the others). */
interface JobContext {
  unit(name: string, body: (at: (detail: string) => void) => void): void;
}

const codecs = allCodecs().filter((c) => ONLY === null || ONLY.test(c.name));
const requests = codecs.filter((c) => c.schema.type === 'request');
const responses = codecs.filter((c) => c.schema.type === 'response');
const others = codecs.filter((c) => c.schema.type !== 'request' && c.schema.type !== 'response');
const apiList = (Object.values(apis) as ApiDefinition[]).filter(
  (a) => ONLY === null || ONLY.test(a.request.name),
);

function fuzzRequestCodec(codec: AnyCodec, at: (detail: string) => void): void {
  for (const version of versionsOf(codec)) {
    const seed = caseSeed(BASE_SEED, `req/${codec.name}/${version}`);
    at(`v${version} (case seed ${seed})`);
    const rng = new Rng(seed);
    const where = (what: string) => (): string => `${codec.name} v${version} ${what} (case seed ${seed})`;
    const valid = samples(codec, version, rng, 3);

    // Truncation at every length: a prefix of a valid encoding can never decode.
    for (const [i, buf] of valid.slice(0, 2).entries()) {
      for (let len = 0; len < buf.length; len++) {
        const r = fuzzMessage(codec, buf.subarray(0, len), version, where(`sample ${i} truncated to ${len}`));
        assert.equal(r.ok, false, where(`sample ${i} truncated to ${len} of ${buf.length} decoded`)());
        // The same through decodeMessage's end bound, with the rest of the buffer still there.
        const bounded = decodeMessage(codec, buf, version, 0, len);
        assert.equal(bounded.ok, false, where(`sample ${i} bounded at ${len}`)());
      }
    }

    // Mutations of valid encodings.
    for (let i = 0; i < ITERATIONS; i++) {
      const base = valid[i % valid.length]!;
      const m = mutate(rng, base, lengthFields(codec, base, version), valid[(i + 1) % valid.length]!);
      fuzzMessage(codec, m.out, version, where(`mutation ${i} (${m.how})`));
    }

    // Every length field of one sample set to hostile values.
    const base = valid[0]!;
    for (const f of lengthFields(codec, base, version)) {
      for (let k = 0; k < 3; k++)
        fuzzMessage(codec, setLength(rng, base, f), version, where(`length ${f.kind}@${f.pos}`));
    }

    // Purely random buffers.
    for (let i = 0; i < ITERATIONS; i++)
      fuzzMessage(codec, randomBuffer(rng, 96), version, where(`random ${i}`));
  }
}

function fuzzRequestFrames(api: ApiDefinition, at: (detail: string) => void): void {
  for (let version = api.minVersion; version <= api.maxVersion; version++) {
    const seed = caseSeed(BASE_SEED, `frame/${api.name}/${version}`);
    at(`v${version} (case seed ${seed})`);
    const rng = new Rng(seed);
    const where = (what: string) => (): string => `${api.name} v${version} frame ${what} (case seed ${seed})`;
    const body = randomMessage(api.request, version, rng, { large: 0 });
    const clientId = rng.chance(0.2) ? null : rng.pick(['', 'client', 'klient-é-€-😀']);
    const correlationId = rng.int(-5, 1e9);
    const frame = Buffer.concat(
      encodeRequestFrame(api.request, body, { apiVersion: version, correlationId, clientId }),
    );
    const valid = frame.subarray(4);
    const r = fuzzFrame(valid, where('valid'));
    assert.ok(r.ok, where('valid did not decode')());
    assert.equal(r.end, valid.length, where('valid')());

    for (let len = 0; len < valid.length; len++) {
      const t = fuzzFrame(valid.subarray(0, len), where(`truncated to ${len}`));
      assert.equal(t.ok, false, where(`truncated to ${len} of ${valid.length} decoded`)());
    }
    for (let i = 0; i < ITERATIONS; i++) {
      const m = mutate(rng, valid, [], valid);
      fuzzFrame(m.out, where(`mutation ${i} (${m.how})`));
    }
    // Header fields set to hostile values: api key, version, client id length.
    const edits: [number, number][] = [
      [0, -1],
      [0, 0x7fff],
      [2, -1],
      [2, version + 1],
      [2, 0x7fff],
      [8, -2],
      [8, 0x7fff],
    ];
    for (const [pos, v] of edits) {
      if (pos + 2 > valid.length) continue;
      const out = Buffer.from(valid);
      out.writeInt16BE(v, pos);
      fuzzFrame(out, where(`header int16 ${v}@${pos}`));
    }
  }
}

function fuzzRandomFrames(at: (detail: string) => void): void {
  const rng = new Rng(caseSeed(BASE_SEED, 'random-frames'));
  const n = ITERATIONS * 200;
  for (let i = 0; i < n; i++) {
    if (i % 500 === 0) at(`frame ${i}`);
    let frame = randomBuffer(rng, 128);
    if (rng.chance(0.7) && frame.length >= 8 && apiList.length > 0) {
      const api = rng.pick(apiList);
      frame.writeInt16BE(api.apiKey, 0);
      frame.writeInt16BE(rng.int(api.minVersion - 1, api.maxVersion + 1), 2);
      if (rng.chance(0.5) && frame.length >= 10) frame.writeInt16BE(rng.pick([-1, 0, 3, 0x7fff]), 8);
      if (rng.chance(0.3)) frame = frame.subarray(0, rng.int(0, frame.length));
    }
    fuzzFrame(frame, () => `random frame ${i}`);
  }
}

/** Random buffers and mutated valid encodings; for response codecs also decodeResponse on a random frame. */
function fuzzAnyCodec(codec: AnyCodec, at: (detail: string) => void): void {
  for (const version of versionsOf(codec)) {
    const seed = caseSeed(BASE_SEED, `${codec.schema.type}/${codec.name}/${version}`);
    at(`v${version} (case seed ${seed})`);
    const rng = new Rng(seed);
    const where = (what: string) => (): string => `${codec.name} v${version} ${what} (case seed ${seed})`;
    for (let i = 0; i < ITERATIONS; i++)
      fuzzMessage(codec, randomBuffer(rng, 96), version, where(`random ${i}`));
    const valid = samples(codec, version, rng, 2);
    for (let i = 0; i < ITERATIONS; i++) {
      const base = valid[i % 2]!;
      const m = mutate(rng, base, lengthFields(codec, base, version), valid[(i + 1) % 2]!);
      fuzzMessage(codec, m.out, version, where(`mutation ${i} (${m.how})`));
    }
    if (codec.schema.type === 'response') {
      for (let i = 0; i < 4; i++) {
        const frame = randomBuffer(rng, 64);
        const w = (): string => `${where('decodeResponse')()} frame ${hex(frame)}`;
        checkResult(
          w,
          frame,
          timed(w, frame, () => decodeResponse(codec, frame, version)),
        );
      }
    }
  }
}

/** Bodies claiming 2^31-1 or 2^32-1 elements, bytes or tagged fields, for every codec at every version. */
function fuzzHostile(codec: AnyCodec, at: (detail: string) => void): void {
  const hostile = [
    Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0]),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07, 0, 0, 0, 0]),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0]),
    Buffer.from([0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x07]),
    Buffer.from([0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f]),
  ];
  for (const version of versionsOf(codec)) {
    at(`v${version}`);
    for (const buf of hostile)
      fuzzMessage(codec, buf, version, () => `${codec.name} v${version} hostile ${hex(buf)}`);
  }
}

const half = Math.ceil(requests.length / 2);

/** Each job runs in its own worker; the request decoders, the biggest, are split in two. */
const JOBS: Record<string, (ctx: JobContext) => void> = {
  [`request decoders ${requests[0]?.name ?? ''}…: mutated, truncated and random bodies`]: (ctx) => {
    for (const c of requests.slice(0, half)) ctx.unit(c.name, (at) => fuzzRequestCodec(c, at));
  },
  [`request decoders ${requests[half]?.name ?? ''}…: mutated, truncated and random bodies`]: (ctx) => {
    for (const c of requests.slice(half)) ctx.unit(c.name, (at) => fuzzRequestCodec(c, at));
  },
  'decodeRequest: mutated and truncated frames of every API and version, and random frames': (ctx) => {
    for (const api of apiList) ctx.unit(`${api.name} frames`, (at) => fuzzRequestFrames(api, at));
    ctx.unit('random frames, with and without a plausible header', fuzzRandomFrames);
  },
  'responses, headers, data and records: random and mutated buffers; hostile lengths for every codec': (
    ctx,
  ) => {
    for (const c of [...responses, ...others]) ctx.unit(c.name, (at) => fuzzAnyCodec(c, at));
    for (const c of codecs) ctx.unit(`${c.name} hostile lengths`, (at) => fuzzHostile(c, at));
  },
};

// ------------------------------------------------------------------ worker side

type FromWorker =
  | { type: 'at'; unit: string; detail: string }
  | { type: 'unit'; unit: string; error: string | null }
  | { type: 'done'; stats: Stats };

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const job = JOBS[(workerData as { job: string }).job]!;
  job({
    unit(name, body) {
      port.postMessage({ type: 'at', unit: name, detail: 'start' } satisfies FromWorker);
      let error: string | null = null;
      try {
        body((detail) => port.postMessage({ type: 'at', unit: name, detail } satisfies FromWorker));
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      port.postMessage({ type: 'unit', unit: name, error } satisfies FromWorker);
    },
  });
  port.postMessage({ type: 'done', stats } satisfies FromWorker);
}

// ------------------------------------------------------------------ main side

interface JobResult {
  units: Map<string, string | null>;
  stats: Stats | null;
  /** Why the worker died (out of memory, stalled, crashed), or null when it finished. */
  died: string | null;
  ms: number;
}

/** Starts this module in a worker (through tsx when running from TypeScript sources). */
function startWorker(job: string): Worker {
  const self = import.meta.url;
  const options = { workerData: { job }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } };
  if (!self.endsWith('.ts')) return new Worker(new URL(self), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(self)});`;
  return new Worker(new URL('data:text/javascript,' + encodeURIComponent(boot)), options);
}

function runJob(job: string): Promise<JobResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const result: JobResult = { units: new Map(), stats: null, died: null, ms: 0 };
    let last = '(starting)';
    let lastProgress = performance.now();
    const worker = startWorker(job);
    const watchdog = setInterval(() => {
      if (performance.now() - lastProgress > STALL_MS) {
        result.died = `no progress for ${STALL_MS} ms while fuzzing ${last} [FUZZ_SEED=${BASE_SEED}]: a decoder hangs`;
        void worker.terminate();
      }
    }, 250);
    worker.on('message', (m: FromWorker) => {
      lastProgress = performance.now();
      if (m.type === 'at') last = `${m.unit} ${m.detail}`;
      else if (m.type === 'unit') result.units.set(m.unit, m.error);
      else result.stats = m.stats;
    });
    worker.on('error', (e: Error & { code?: string }) => {
      result.died ??=
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `heap over ${HEAP_MB} MB while fuzzing ${last} [FUZZ_SEED=${BASE_SEED}]: a decoder allocates without bound`
          : `worker failed while fuzzing ${last}: ${e.stack ?? e.message}`;
    });
    worker.on('exit', (code) => {
      clearInterval(watchdog);
      if (result.died === null && result.stats === null)
        result.died = `worker exited (code ${code}) while fuzzing ${last}`;
      result.ms = performance.now() - t0;
      resolve(result);
    });
  });
}

/** Runs at most `limit` jobs at a time, in order, starting them right away. */
function schedule(jobs: string[], limit: number): Map<string, Promise<JobResult>> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> =>
    new Promise((resolve) => {
      const go = (): void => {
        running++;
        resolve();
      };
      if (running < limit) go();
      else waiting.push(go);
    });
  const release = (): void => {
    running--;
    waiting.shift()?.();
  };
  const out = new Map<string, Promise<JobResult>>();
  for (const job of jobs)
    out.set(
      job,
      acquire().then(() => runJob(job).finally(release)),
    );
  return out;
}

if (isMainThread) {
  const results = schedule(Object.keys(JOBS), Math.max(1, availableParallelism()));
  const total: Stats = { decodes: 0, ok: 0, slowestMs: 0 };

  void describe(`fuzzing decoders (FUZZ_ITERATIONS=${ITERATIONS}, FUZZ_SEED=${BASE_SEED})`, () => {
    for (const [job, promise] of results) {
      void test(job, { timeout: 600_000 }, async (t) => {
        const r = await promise;
        for (const [unit, error] of r.units) {
          await t.test(unit, () => {
            if (error !== null) assert.fail(error);
          });
        }
        if (r.died !== null) assert.fail(r.died);
        assert.ok(r.units.size > 0 || ONLY !== null, 'the job checked nothing');
        if (r.stats !== null) {
          total.decodes += r.stats.decodes;
          total.ok += r.stats.ok;
          total.slowestMs = Math.max(total.slowestMs, r.stats.slowestMs);
        }
        t.diagnostic(
          `${r.stats?.decodes ?? 0} decodes, ${r.stats?.ok ?? 0} ok, ${(r.ms / 1000).toFixed(1)} s`,
        );
      });
    }

    void test('the fuzzer ran, and some mutated inputs still decoded (it reaches past the first field)', () => {
      if (ONLY !== null) return;
      assert.ok(total.decodes > 100_000, `only ${total.decodes} decodes`);
      assert.ok(total.ok > 5_000, `only ${total.ok} inputs decoded`);
    });
  });

  void describe('the fuzz harness catches runaway decoders', () => {
    void test('a worker that allocates without bound is stopped and reported', async () => {
      const boot = `const a = []; for (;;) a.push(new Array(1000).fill(a.length));`;
      const w = new Worker(boot, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 32 } });
      const code = await new Promise<string | undefined>((resolve) => {
        w.on('error', (e: Error & { code?: string }) => resolve(e.code));
        w.on('exit', () => resolve(undefined));
      });
      assert.equal(code, 'ERR_WORKER_OUT_OF_MEMORY');
    });
  });
}
