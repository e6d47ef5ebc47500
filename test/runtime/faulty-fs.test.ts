import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { FaultyFileSystem, FS_OPS, seededRng } from '../../src/runtime/faulty-fs.js';
import type { CrashReport, FaultyFileSystemOptions, FsOp } from '../../src/runtime/faulty-fs.js';
import type { FileHandle } from '../../src/runtime/fs.js';

let root = '';
let dirs = 0;
before(() => {
  root = fs.mkdtempSync(os.tmpdir() + '/samsa-');
});
after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A fresh empty folder under the test's temp folder. */
function freshDir(): string {
  const d = `${root}/d${dirs++}`;
  fs.mkdirSync(d);
  return d;
}

function errnoOf(code: string): number {
  return -(os.constants.errno as Record<string, number>)[code]!;
}

/** Asserts `p` rejects with a Node-like error with this code (and syscall, when given). */
async function rejectsWith(p: Promise<unknown>, code: string, syscall?: string): Promise<void> {
  await assert.rejects(p, (e: NodeJS.ErrnoException) => {
    assert.equal(e.code, code);
    assert.equal(e.errno, errnoOf(code));
    if (syscall !== undefined) assert.equal(e.syscall, syscall);
    return true;
  });
}

function bytes(fill: string, n: number): Buffer {
  return Buffer.alloc(n, fill);
}

function read(path: string): Buffer | null {
  return fs.existsSync(path) ? fs.readFileSync(path) : null;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

void describe('FaultyFileSystem: pass-through and counters', () => {
  void test('forwards every operation and counts calls per operation', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem();
    await f.mkdir(`${d}/sub`);
    const h = await f.open(`${d}/sub/a`, 'create');
    assert.equal(await h.writev([Buffer.from('hello '), Buffer.from('world')], 0), 11);
    const into = Buffer.alloc(5);
    assert.equal(await h.read(into, 0, 5, 6), 5);
    assert.equal(into.toString(), 'world');
    await h.sync();
    await h.truncate(5);
    assert.equal(await h.sizeBytes(), 5);
    await h.close();
    assert.equal((await f.readFile(`${d}/sub/a`))?.toString(), 'hello');
    await f.writeFileAtomic(`${d}/sub/b`, 'atomic');
    await f.rename(`${d}/sub/b`, `${d}/sub/c`);
    assert.deepEqual((await f.readdir(`${d}/sub`)).sort(), ['a', 'c']);
    assert.equal((await f.stat(`${d}/sub/c`))?.sizeBytes, 6);
    await f.syncDir(`${d}/sub`);
    await f.unlink(`${d}/sub/c`);
    await f.rmdir(`${d}/sub`);
    assert.equal(fs.existsSync(`${d}/sub`), false);

    const counts = f.counts();
    for (const op of FS_OPS) assert.equal(counts[op], 1, op);
    assert.equal(f.count('writev'), 1);
    f.resetCounts();
    assert.ok(FS_OPS.every((op) => f.count(op) === 0));
  });

  void test('faulted calls are counted too', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem();
    f.inject({ op: 'stat', persistent: true, fault: { kind: 'error', code: 'EIO' } });
    for (let i = 0; i < 3; i++) await rejectsWith(f.stat(d), 'EIO');
    assert.equal(f.count('stat'), 3);
  });
});

void describe('FaultyFileSystem: error faults', () => {
  void test('a one-shot rule fires on the nth call matching its path, with a Node-like error', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem();
    const rule = f.inject({ op: 'open', path: '.log', nth: 2, fault: { kind: 'error', code: 'ENOSPC' } });
    await (await f.open(`${d}/0.log`, 'create')).close();
    await (await f.open(`${d}/0.index`, 'create')).close(); // not matching: not counted
    await assert.rejects(f.open(`${d}/1.log`, 'create'), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOSPC');
      assert.equal(e.errno, errnoOf('ENOSPC'));
      assert.equal(e.syscall, 'open');
      assert.equal(e.path, `${d}/1.log`);
      assert.match(e.message, /^ENOSPC: no space left on device, open '/);
      return true;
    });
    assert.equal(fs.existsSync(`${d}/1.log`), false, 'a failed open creates nothing');
    await (await f.open(`${d}/2.log`, 'create')).close();
    assert.equal(rule.matched, 2);
    assert.equal(rule.fired, 1);
    assert.equal(rule.active, false);
  });

  void test('a persistent rule fires on every matching call from the nth until cleared', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem();
    const h = await f.open(`${d}/seg`, 'create');
    const rule = f.inject({
      op: 'writev',
      nth: 2,
      persistent: true,
      fault: { kind: 'error', code: 'EDQUOT' },
    });
    await h.writev([Buffer.from('1')], 0);
    for (let i = 2; i <= 4; i++)
      await rejectsWith(h.writev([Buffer.from(String(i))], i - 1), 'EDQUOT', 'write');
    assert.equal(rule.fired, 3);
    assert.equal(rule.active, true);
    rule.clear();
    assert.equal(rule.active, false);
    await h.writev([Buffer.from('5')], 1);
    await h.close();
    assert.equal(read(`${d}/seg`)?.toString(), '15', 'failed writes wrote nothing');
  });

  void test('a path predicate selects the files; clearFaults removes every rule', async () => {
    const d = freshDir();
    fs.writeFileSync(`${d}/0.log`, 'x');
    fs.writeFileSync(`${d}/0.index`, 'x');
    fs.writeFileSync(`${d}/1.index`, 'x');
    const f = new FaultyFileSystem();
    f.inject({
      op: 'unlink',
      path: (p) => p.endsWith('.index'),
      persistent: true,
      fault: { kind: 'error', code: 'EACCES' },
    });
    await f.unlink(`${d}/0.log`);
    await rejectsWith(f.unlink(`${d}/0.index`), 'EACCES', 'unlink');
    assert.equal(fs.existsSync(`${d}/0.index`), true);
    f.clearFaults();
    await f.unlink(`${d}/1.index`);
    assert.deepEqual(fs.readdirSync(d), ['0.index']);
  });

  void test('one rule can name several operations; a rename matches on either path', async () => {
    const d = freshDir();
    fs.writeFileSync(`${d}/a`, 'x');
    const f = new FaultyFileSystem();
    f.inject({
      op: ['sync', 'syncDir', 'rename'],
      path: 'target',
      persistent: true,
      fault: { kind: 'error', code: 'EIO' },
    });
    await rejectsWith(f.rename(`${d}/a`, `${d}/target`), 'EIO', 'rename');
    assert.equal(fs.existsSync(`${d}/a`), true, 'a failed rename moves nothing');
    await f.rename(`${d}/a`, `${d}/b`);
    const h = await f.open(`${d}/target`, 'create');
    await rejectsWith(h.sync(), 'EIO', 'fdatasync');
    await h.close();
    await f.syncDir(d);
    await rejectsWith(f.syncDir(`${d}/target`), 'EIO', 'fsync');
  });

  void test('every operation can fail, and a failed one is not performed', async () => {
    const d = freshDir();
    fs.writeFileSync(`${d}/file`, 'content');
    fs.mkdirSync(`${d}/folder`);
    const f = new FaultyFileSystem();
    const h = await f.open(`${d}/file`, 'readWrite');
    const cases: Array<[FsOp, string, () => Promise<unknown>]> = [
      ['readFile', 'open', () => f.readFile(`${d}/file`)],
      ['writeFileAtomic', 'write', () => f.writeFileAtomic(`${d}/file`, 'new')],
      ['mkdir', 'mkdir', () => f.mkdir(`${d}/new-folder`)],
      ['rmdir', 'rm', () => f.rmdir(`${d}/folder`)],
      ['readdir', 'scandir', () => f.readdir(d)],
      ['stat', 'stat', () => f.stat(`${d}/file`)],
      ['read', 'read', () => h.read(Buffer.alloc(3), 0, 3, 0)],
      ['truncate', 'ftruncate', () => h.truncate(1)],
      ['sizeBytes', 'fstat', () => h.sizeBytes()],
    ];
    for (const [op, syscall, call] of cases) {
      const rule = f.inject({ op, fault: { kind: 'error', code: 'EIO' } });
      await rejectsWith(call(), 'EIO', syscall);
      assert.equal(rule.fired, 1, op);
    }
    assert.equal(read(`${d}/file`)?.toString(), 'content');
    assert.equal(fs.existsSync(`${d}/new-folder`), false);
    assert.equal(fs.existsSync(`${d}/folder`), true);
    // close fails but releases the handle, as the OS does
    f.inject({ op: 'close', fault: { kind: 'error', code: 'EIO' } });
    await rejectsWith(h.close(), 'EIO', 'close');
    await rejectsWith(h.sizeBytes(), 'EBADF');
  });

  void test('probabilistic rules are seeded: the same seed fires on the same calls', async () => {
    const d = freshDir();
    const pattern = async (opts: FaultyFileSystemOptions, p: number): Promise<string> => {
      const f = new FaultyFileSystem(opts);
      f.inject({ op: 'stat', probability: p, persistent: true, fault: { kind: 'error', code: 'EIO' } });
      let out = '';
      for (let i = 0; i < 200; i++)
        out += await f.stat(d).then(
          () => '.',
          () => 'x',
        );
      return out;
    };
    const a = await pattern({ random: 7 }, 0.3);
    assert.equal(await pattern({ random: seededRng(7) }, 0.3), a);
    assert.notEqual(await pattern({ random: 8 }, 0.3), a);
    const fired = [...a].filter((c) => c === 'x').length;
    assert.ok(fired > 30 && fired < 90, `fired ${fired} of 200 at p=0.3`);
    assert.equal(await pattern({ random: 7 }, 0), '.'.repeat(200));

    // one-shot with a probability: fires once, at the first lucky call
    const f = new FaultyFileSystem({ random: 3 });
    const rule = f.inject({ op: 'stat', probability: 0.2, fault: { kind: 'error', code: 'EIO' } });
    let failures = 0;
    for (let i = 0; i < 100; i++) await f.stat(d).catch(() => failures++);
    assert.equal(failures, 1);
    assert.equal(rule.fired, 1);
  });

  void test('rules are validated', () => {
    const f = new FaultyFileSystem();
    assert.throws(() => f.inject({ op: 'open', nth: 0, fault: { kind: 'error', code: 'EIO' } }), RangeError);
    assert.throws(
      () => f.inject({ op: 'open', probability: 2, fault: { kind: 'error', code: 'EIO' } }),
      RangeError,
    );
  });
});

void describe('FaultyFileSystem: torn writes', () => {
  void test('writes exactly the first K bytes of the chunks, then fails with EIO', async () => {
    const d = freshDir();
    fs.writeFileSync(`${d}/seg`, 'HEADER');
    const f = new FaultyFileSystem();
    const h = await f.open(`${d}/seg`, 'readWrite');
    f.inject({ op: 'writev', path: 'seg', fault: { kind: 'tornWrite', bytes: 5 } });
    const chunks = [Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')];
    await rejectsWith(h.writev(chunks, 6), 'EIO', 'write');
    assert.equal(read(`${d}/seg`)?.toString(), 'HEADERabcde');
    // one-shot: the retry goes through whole
    await h.writev(chunks, 6);
    assert.equal(read(`${d}/seg`)?.toString(), 'HEADERabcdefghij');
    // K beyond the total writes everything and still fails; a custom code
    f.inject({ op: 'writev', fault: { kind: 'tornWrite', bytes: 100, code: 'ENOSPC' } });
    await rejectsWith(h.writev([Buffer.from('XY')], 16), 'ENOSPC', 'write');
    assert.equal(read(`${d}/seg`)?.toString(), 'HEADERabcdefghijXY');
    // K = 0 writes nothing
    f.inject({ op: 'writev', fault: { kind: 'tornWrite', bytes: 0 } });
    await rejectsWith(h.writev([Buffer.from('ZZ')], 18), 'EIO');
    assert.equal(read(`${d}/seg`)?.length, 18);
    await h.close();
  });

  void test('without K, a seeded random strict prefix is written', async () => {
    const data = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
    const run = async (seed: number): Promise<number[]> => {
      const d = freshDir();
      const f = new FaultyFileSystem({ random: seed });
      f.inject({ op: 'writev', persistent: true, fault: { kind: 'tornWrite' } });
      const lengths: number[] = [];
      for (let i = 0; i < 20; i++) {
        const h = await f.open(`${d}/f${i}`, 'create');
        await rejectsWith(h.writev([data.subarray(0, 10), data.subarray(10)], 0), 'EIO');
        await h.close();
        const got = read(`${d}/f${i}`)!;
        assert.ok(got.length < data.length);
        assert.deepEqual(got, data.subarray(0, got.length));
        lengths.push(got.length);
      }
      return lengths;
    };
    const a = await run(11);
    assert.deepEqual(await run(11), a);
    assert.ok(new Set(a).size > 5, `varied lengths: ${a.join(',')}`);
  });

  void test('on another operation a torn write acts as an error', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem();
    const h = await f.open(`${d}/x`, 'create');
    f.inject({ op: 'sync', fault: { kind: 'tornWrite', code: 'ENOSPC' } });
    await rejectsWith(h.sync(), 'ENOSPC', 'fdatasync');
    await h.close();
  });
});

void describe('FaultyFileSystem: delays', () => {
  void test("'before' delays the start, so a later call overtakes it", async () => {
    const d = freshDir();
    const f = new FaultyFileSystem();
    const a = await f.open(`${d}/a`, 'create');
    const b = await f.open(`${d}/b`, 'create');
    f.inject({ op: 'writev', path: `${d}/a`, fault: { kind: 'delay', ms: 40 } });
    const order: string[] = [];
    const pa = a.writev([Buffer.from('A')], 0).then(() => order.push('a'));
    await b.writev([Buffer.from('B')], 0).then(() => order.push('b'));
    assert.equal(read(`${d}/a`)?.length, 0, 'the delayed write has not happened yet');
    await pa;
    assert.deepEqual(order, ['b', 'a']);
    assert.equal(read(`${d}/a`)?.toString(), 'A');
    await a.close();
    await b.close();
  });

  void test("'after' takes effect at once and resolves later", async () => {
    const d = freshDir();
    const f = new FaultyFileSystem();
    const h = await f.open(`${d}/a`, 'create');
    f.inject({ op: 'writev', fault: { kind: 'delay', ms: 60, at: 'after' } });
    let resolved = false;
    const p = h.writev([Buffer.from('A')], 0).then(() => (resolved = true));
    await delay(20);
    assert.equal(read(`${d}/a`)?.toString(), 'A');
    assert.equal(resolved, false);
    await p;
    await h.close();
  });

  void test('delays go through the injected sleep and combine with an error', async () => {
    const d = freshDir();
    const slept: number[] = [];
    const f = new FaultyFileSystem({
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    f.inject({ op: 'stat', fault: { kind: 'delay', ms: 5 } });
    f.inject({ op: 'stat', fault: { kind: 'delay', ms: 7 } });
    f.inject({ op: 'stat', fault: { kind: 'error', code: 'EIO' } });
    await rejectsWith(f.stat(d), 'EIO');
    assert.deepEqual(slept, [12]);
  });

  void test('onFault reports every firing', async () => {
    const d = freshDir();
    const events: string[] = [];
    const f = new FaultyFileSystem({ onFault: (e) => events.push(`${e.op}:${e.fault.kind}:${e.path}`) });
    f.inject({ op: 'stat', fault: { kind: 'error', code: 'EIO' } });
    await f.stat(d).catch(() => undefined);
    await f.stat(d);
    assert.deepEqual(events, [`stat:error:${d}`]);
  });
});

void describe('FaultyFileSystem: synchronous writes', () => {
  void test('writeSync obeys the writev rules: counted, failed, torn; a delay cannot apply and throws', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem();
    const h = await f.open(`${d}/seg`, 'create');
    assert.ok(h.writeSync !== undefined, 'offered when the wrapped handle has it');
    assert.equal(h.writeSync([Buffer.from('abc'), Buffer.from('de')], 0), 5);
    f.inject({ op: 'writev', path: 'seg', fault: { kind: 'error', code: 'ENOSPC' } });
    assert.throws(() => h.writeSync!([Buffer.from('x')], 5), { code: 'ENOSPC', syscall: 'write' });
    f.inject({ op: 'writev', fault: { kind: 'tornWrite', bytes: 2 } });
    assert.throws(() => h.writeSync!([Buffer.from('fgh')], 5), { code: 'EIO', syscall: 'write' });
    assert.equal(read(`${d}/seg`)?.toString(), 'abcdefg');
    f.inject({ op: 'writev', fault: { kind: 'delay', ms: 10 } });
    assert.throws(() => h.writeSync!([Buffer.from('z')], 7), /delay rule fired on a synchronous write/);
    assert.equal(f.count('writev'), 4);
    await h.close();
    assert.throws(() => h.writeSync!([Buffer.from('z')], 7), { code: 'EBADF' });
  });

  void test('crash mode: an unsynced synchronous write may be lost, a synced one survives', async () => {
    const outcomes = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      const h = await f.open(`${d}/log`, 'create');
      h.writeSync!([SYNCED], 0);
      await h.sync();
      await f.syncDir(d);
      h.writeSync!([UNSYNCED[0]!], SYNCED.length);
      await f.simulateCrash(seed);
      const got = read(`${d}/log`)!;
      assert.deepEqual(got, FULL.subarray(0, got.length));
      assert.ok(got.length >= SYNCED.length, 'the synced bytes survive');
      outcomes.add(got.length);
    }
    assert.ok(outcomes.size > 2, `varied outcomes: ${[...outcomes].join(',')}`);
  });
});

// --- crash model ---

const SYNCED = bytes('S', 100);
const UNSYNCED = [bytes('a', 50), bytes('b', 50), bytes('c', 50)];
const FULL = Buffer.concat([SYNCED, ...UNSYNCED]);

/** A log: 100 bytes written and synced (name synced too), then three unsynced 50-byte appends. */
async function appendScenario(f: FaultyFileSystem, d: string): Promise<FileHandle> {
  const h = await f.open(`${d}/log`, 'create');
  await h.writev([SYNCED], 0);
  await h.sync();
  await f.syncDir(d);
  let pos = SYNCED.length;
  for (const w of UNSYNCED) {
    await h.writev([w], pos);
    pos += w.length;
  }
  return h;
}

function withoutPaths(r: CrashReport, d: string): unknown {
  return { ...r, files: r.files.map((x) => ({ ...x, path: x.path.slice(d.length) })) };
}

void describe('FaultyFileSystem: crash model', () => {
  void test('needs crashMode', async () => {
    await assert.rejects(new FaultyFileSystem().simulateCrash(1), /crashMode/);
  });

  void test("'prefix': synced data survives, the unsynced suffix is cut at a random point", async () => {
    const sizes = new Set<number>();
    for (let seed = 0; seed < 150; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      await appendScenario(f, d);
      const report = await f.simulateCrash(seed);
      const got = read(`${d}/log`)!;
      assert.ok(got.length >= SYNCED.length && got.length <= FULL.length, `size ${got.length}`);
      assert.deepEqual(got, FULL.subarray(0, got.length));
      assert.deepEqual(report.files, [
        {
          path: `${d}/log`,
          present: true,
          sizeBytes: got.length,
          syncedSizeBytes: 100,
          unsyncedOps: report.files[0]!.unsyncedOps,
        },
      ]);
      const kept = report.files[0]!.unsyncedOps.filter((o) => o === 'kept').length;
      assert.ok(got.length >= 100 + 50 * kept && got.length <= Math.min(250, 149 + 50 * kept));
      sizes.add(got.length);
    }
    assert.ok(sizes.has(100), 'all unsynced writes lost');
    assert.ok(sizes.has(250), 'all unsynced writes kept');
    assert.ok(
      [...sizes].some((s) => s % 50 !== 0),
      'a torn write',
    );
  });

  void test('a seed replays the same outcome; another seed may not', async () => {
    const outcome = async (seed: number, model: 'prefix' | 'independent'): Promise<string> => {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      const h = await appendScenario(f, d);
      await h.truncate(120);
      await h.writev([bytes('d', 30)], 200);
      await f.writeFileAtomic(`${d}/meta`, 'm');
      const o = await f.open(`${d}/other`, 'create');
      await o.writev([bytes('o', 10)], 0);
      await f.rename(`${d}/other`, `${d}/other2`);
      const report = await f.simulateCrash(seededRng(seed), { model });
      return JSON.stringify({
        report: withoutPaths(report, d),
        log: read(`${d}/log`)?.toString('hex'),
        other: read(`${d}/other`)?.toString('hex'),
        other2: read(`${d}/other2`)?.toString('hex'),
      });
    };
    for (const model of ['prefix', 'independent'] as const) {
      const seen = new Set<string>();
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const a = await outcome(seed, model);
        assert.equal(await outcome(seed, model), a, `${model} seed ${seed}`);
        seen.add(a);
      }
      assert.ok(seen.size > 1, `${model}: seeds give different outcomes`);
    }
  });

  void test("'independent': each unsynced write is kept, lost, torn or zeroed; synced bytes survive", async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 150; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      await appendScenario(f, d);
      const report = await f.simulateCrash(seed, { model: 'independent' });
      const got = read(`${d}/log`)!;
      const outcomes = report.files[0]!.unsyncedOps;
      assert.equal(outcomes.length, 3);
      assert.deepEqual(got.subarray(0, 100), SYNCED);
      assert.ok(got.length <= FULL.length);
      outcomes.forEach((o, i) => {
        seen.add(o);
        const region = got.subarray(100 + 50 * i, 150 + 50 * i);
        const w = UNSYNCED[i]!;
        const zeros = (b: Buffer): boolean => b.every((x) => x === 0);
        switch (o) {
          case 'kept':
            assert.deepEqual(region, w);
            break;
          case 'zeroed':
            assert.ok(region.length === 50 && zeros(region));
            break;
          case 'lost':
            assert.ok(zeros(region), 'a lost write leaves nothing or a hole of zeros');
            break;
          case 'torn': {
            let k = 0;
            while (k < region.length && region[k] === w[0]) k++;
            assert.ok(k > 0 && k < 50, `torn length ${k}`);
            assert.ok(zeros(region.subarray(k)));
            break;
          }
        }
      });
      // the size is set by the last write that reached the disk in any form
      const lastIdx = outcomes.reduce((acc, o, i) => (o === 'lost' ? acc : i), -1);
      if (lastIdx >= 0 && outcomes[lastIdx] !== 'torn') assert.equal(got.length, 150 + 50 * lastIdx);
      if (lastIdx < 0) assert.equal(got.length, 100);
    }
    assert.deepEqual([...seen].sort(), ['kept', 'lost', 'torn', 'zeroed']);
  });

  void test('an unsynced overwrite of synced bytes is old, new, or a torn mix', async () => {
    const kinds = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      const h = await f.open(`${d}/idx`, 'create');
      await h.writev([bytes('A', 100)], 0);
      await h.sync();
      await f.syncDir(d);
      await h.writev([bytes('B', 30)], 20);
      await f.simulateCrash(seed);
      const got = read(`${d}/idx`)!;
      assert.equal(got.length, 100);
      const region = got.subarray(20, 50).toString();
      assert.match(region, /^B*A*$/);
      assert.equal(got.subarray(0, 20).toString() + got.subarray(50).toString(), 'A'.repeat(70));
      kinds.add(region === 'A'.repeat(30) ? 'old' : region === 'B'.repeat(30) ? 'new' : 'mix');
    }
    assert.deepEqual([...kinds].sort(), ['mix', 'new', 'old']);
  });

  void test('an unsynced truncate may be undone; a synced one stays', async () => {
    const sizes = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      const h = await f.open(`${d}/log`, 'create');
      await h.writev([FULL], 0);
      await h.sync();
      await f.syncDir(d);
      await h.truncate(200);
      await h.sync();
      await h.truncate(40);
      await f.simulateCrash(seed);
      const got = read(`${d}/log`)!;
      assert.deepEqual(got, FULL.subarray(0, got.length));
      sizes.add(got.length);
    }
    assert.deepEqual([...sizes].sort(), [200, 40]);
  });

  void test('a new file whose folder was not synced may vanish; its synced data never tears', async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      const h = await f.open(`${d}/new`, 'create');
      await h.writev([SYNCED], 0);
      await h.sync();
      await f.simulateCrash(seed);
      const got = read(`${d}/new`);
      assert.ok(got === null || got.equals(SYNCED));
      outcomes.add(got === null ? 'absent' : 'present');
    }
    assert.deepEqual([...outcomes].sort(), ['absent', 'present']);
    for (let seed = 0; seed < 20; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      const h = await f.open(`${d}/new`, 'create');
      await h.writev([SYNCED], 0);
      await h.sync();
      await f.syncDir(d);
      await f.simulateCrash(seed);
      assert.deepEqual(read(`${d}/new`), SYNCED);
    }
  });

  void test('an unsynced rename is done or not, never both or neither; syncDir makes it durable', async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const d = freshDir();
      fs.writeFileSync(`${d}/target`, 'old');
      const f = new FaultyFileSystem({ crashMode: true });
      const h = await f.open(`${d}/next`, 'create');
      await h.writev([Buffer.from('new')], 0);
      await h.sync();
      await f.syncDir(d);
      await f.rename(`${d}/next`, `${d}/target`);
      await f.simulateCrash(seed);
      const state = `${read(`${d}/next`)?.toString()}/${read(`${d}/target`)?.toString()}`;
      assert.ok(state === 'new/old' || state === 'undefined/new', state);
      outcomes.add(state);
    }
    assert.equal(outcomes.size, 2);
    for (let seed = 0; seed < 10; seed++) {
      const d = freshDir();
      fs.writeFileSync(`${d}/a`, 'x');
      const f = new FaultyFileSystem({ crashMode: true });
      await f.rename(`${d}/a`, `${d}/b`);
      await f.syncDir(d);
      await f.simulateCrash(seed);
      assert.deepEqual(fs.readdirSync(d), ['b']);
    }
  });

  void test('unsynced name changes of a folder survive as an ordered prefix', async () => {
    for (let seed = 0; seed < 40; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      await (await f.open(`${d}/1`, 'create')).close();
      await f.rename(`${d}/1`, `${d}/2`);
      await f.rename(`${d}/2`, `${d}/3`);
      const report = await f.simulateCrash(seed);
      const names = fs.readdirSync(d);
      const expected = [[], ['1'], ['2'], ['3']][report.namespaceOpsKept]!;
      assert.deepEqual(names, expected);
      assert.equal(report.namespaceOpsKept + report.namespaceOpsLost, 3);
    }
  });

  void test('an unsynced unlink may be undone, bringing back the synced content', async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const d = freshDir();
      fs.writeFileSync(`${d}/old.log`, 'durable');
      const f = new FaultyFileSystem({ crashMode: true });
      await f.unlink(`${d}/old.log`);
      await f.simulateCrash(seed);
      const got = read(`${d}/old.log`)?.toString() ?? 'absent';
      assert.ok(got === 'durable' || got === 'absent');
      outcomes.add(got);
    }
    assert.equal(outcomes.size, 2);
    const d = freshDir();
    fs.writeFileSync(`${d}/old.log`, 'durable');
    const f = new FaultyFileSystem({ crashMode: true });
    await f.unlink(`${d}/old.log`);
    await f.syncDir(d);
    await f.simulateCrash(1);
    assert.equal(fs.existsSync(`${d}/old.log`), false);
  });

  void test('writeFileAtomic is durable and makes earlier name changes of its folder durable', async () => {
    for (let seed = 0; seed < 30; seed++) {
      const d = freshDir();
      fs.writeFileSync(`${d}/checkpoint`, 'v1');
      const f = new FaultyFileSystem({ crashMode: true });
      const h = await f.open(`${d}/created`, 'create');
      await h.writev([Buffer.from('c')], 0);
      await h.sync();
      await f.writeFileAtomic(`${d}/checkpoint`, 'v2');
      await f.simulateCrash(seed);
      assert.equal(read(`${d}/checkpoint`)?.toString(), 'v2');
      assert.equal(read(`${d}/created`)?.toString(), 'c');
      assert.equal(fs.existsSync(`${d}/checkpoint.tmp`), false);
    }
  });

  void test('handles opened before a crash are invalid after it, in-flight calls included', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem({ crashMode: true });
    const h = await appendScenario(f, d);
    const r = await f.open(`${d}/log`, 'read');
    f.inject({ op: 'writev', fault: { kind: 'delay', ms: 30 } });
    const inFlight = rejectsWith(h.writev([bytes('z', 10)], 250), 'EBADF', 'write');
    await f.simulateCrash(0);
    const afterCrash = read(`${d}/log`)!;
    await inFlight;
    assert.deepEqual(read(`${d}/log`), afterCrash, 'the in-flight write did not reach the disk');
    assert.ok(!afterCrash.includes('z'));
    for (const handle of [h, r]) {
      await rejectsWith(handle.writev([Buffer.from('x')], 0), 'EBADF', 'write');
      await rejectsWith(handle.read(Buffer.alloc(1), 0, 1, 0), 'EBADF', 'read');
      await rejectsWith(handle.sync(), 'EBADF', 'fdatasync');
      await rejectsWith(handle.truncate(0), 'EBADF', 'ftruncate');
      await rejectsWith(handle.sizeBytes(), 'EBADF', 'fstat');
      await rejectsWith(handle.close(), 'EBADF', 'close');
    }
    // the file system itself works on: the restarted node opens the files again
    const h2 = await f.open(`${d}/log`, 'readWrite');
    assert.equal(await h2.sizeBytes(), afterCrash.length);
    await h2.close();
  });

  void test('after a crash, what is on disk is the new durable state', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem({ crashMode: true });
    await appendScenario(f, d);
    await f.simulateCrash(5);
    const first = read(`${d}/log`)!;
    for (let seed = 0; seed < 10; seed++) {
      const report = await f.simulateCrash(seed);
      assert.deepEqual(read(`${d}/log`), first);
      assert.deepEqual(report.files[0]!.unsyncedOps, []);
      assert.equal(report.files[0]!.syncedSizeBytes, first.length);
    }
    // and new unsynced writes after it are again at risk, never the old state
    const h = await f.open(`${d}/log`, 'readWrite');
    await h.writev([bytes('n', 10)], first.length);
    await f.simulateCrash(2);
    const got = read(`${d}/log`)!;
    assert.deepEqual(got.subarray(0, first.length), first);
  });

  void test('a file written after an unlink is separate from the unlinked one', async () => {
    const outcomes = new Set<string | undefined>();
    for (let seed = 0; seed < 30; seed++) {
      const d = freshDir();
      fs.writeFileSync(`${d}/f`, 'first');
      const f = new FaultyFileSystem({ crashMode: true });
      await f.unlink(`${d}/f`);
      const h = await f.open(`${d}/f`, 'create');
      await h.writev([Buffer.from('second')], 0);
      await h.sync();
      await f.simulateCrash(seed);
      const got = read(`${d}/f`)?.toString();
      // unlink and create both lost, unlink kept and create lost, or both kept
      assert.ok(got === 'first' || got === undefined || got === 'second', String(got));
      outcomes.add(got);
    }
    assert.equal(outcomes.size, 3);
  });

  void test('folders: a renamed folder carries its files; a removed one is not brought back', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const d = freshDir();
      const f = new FaultyFileSystem({ crashMode: true });
      await f.mkdir(`${d}/topic-0`);
      await appendScenario(f, `${d}/topic-0`);
      await f.rename(`${d}/topic-0`, `${d}/topic-0.deleted`);
      await f.mkdir(`${d}/gone`);
      await appendScenario(f, `${d}/gone`);
      await f.rmdir(`${d}/gone`);
      const report = await f.simulateCrash(seed);
      assert.deepEqual(fs.readdirSync(d), ['topic-0.deleted']);
      const got = read(`${d}/topic-0.deleted/log`)!;
      assert.deepEqual(got, FULL.subarray(0, got.length));
      assert.ok(got.length >= SYNCED.length);
      assert.deepEqual(
        report.files.map((x) => x.path),
        [`${d}/topic-0.deleted/log`],
      );
    }
  });

  void test('files the crash-mode file system never changed are left alone', async () => {
    const d = freshDir();
    fs.writeFileSync(`${d}/untouched`, 'u');
    const f = new FaultyFileSystem({ crashMode: true });
    await f.readFile(`${d}/untouched`);
    const r = await f.open(`${d}/untouched`, 'read');
    await appendScenario(f, d);
    fs.writeFileSync(`${d}/outside`, 'o');
    const report = await f.simulateCrash(3);
    assert.deepEqual(
      report.files.map((x) => x.path),
      [`${d}/log`],
    );
    assert.equal(read(`${d}/untouched`)?.toString(), 'u');
    assert.equal(read(`${d}/outside`)?.toString(), 'o');
    await rejectsWith(r.close(), 'EBADF');
  });

  void test('calls made while simulateCrash runs are refused', async () => {
    const d = freshDir();
    const f = new FaultyFileSystem({ crashMode: true });
    await appendScenario(f, d);
    const crash = f.simulateCrash(1);
    await assert.rejects(f.stat(d), /simulated crash/);
    await crash;
    assert.notEqual(await f.stat(d), null);
  });
});
