/**
 * A FileSystem with programmable faults, for tests and the simulator. It wraps another
 * FileSystem (the real one by default) and forwards every call, except where a rule says to fail.
 *
 * Rules (`inject`). A rule names operations (`FsOp`) and optionally a path: a substring or a
 * predicate (handle operations are matched against the path the handle was opened with; a rename
 * matches when either its source or its target does). Every matching call counts; the rule fires
 * on the `nth` matching call (1-based, default 1), and with `persistent: true` on every matching
 * call from the nth on. With `probability: p` an eligible call fires only with probability p, drawn
 * from the file system's seeded random source. A one-shot rule is removed once it fires; any rule
 * can be removed with `clear()`. Rules are checked in the order they were added and every
 * matching rule counts the call; the delays of all firing rules add up, and the first firing
 * error or torn write decides the failure.
 *
 * Faults.
 * - `error`: the operation is not performed and rejects with a Node-like error (`code`,
 *   `errno`, `syscall`, `path`), e.g. ENOSPC, EIO, EDQUOT. (`close` is the exception: the
 *   handle is released, as the OS does, and then the error is thrown.)
 * - `tornWrite`: for `writev`, the first `bytes` bytes of the chunks (or a random number in
 *   [0, total) when `bytes` is omitted) are written at the position, then the call rejects with
 *   EIO (or `code`). On any other operation it acts like `error`.
 * - `delay`: the operation starts `ms` later (`at: 'before'`, the default: lets later calls
 *   overtake it) or takes effect now and resolves `ms` later (`at: 'after'`). A handle's
 *   `writeSync` (offered when the wrapped handle has one) obeys the `writev` rules, except that it
 *   cannot wait: a delay firing on it throws.
 *
 * Counters: `count(op)` and `counts()` give the calls made per operation (faulted ones included).
 *
 * Crash model (`crashMode: true`). The file system remembers what is durable:
 * - Data, per file (an inode, which follows renames): the content as of the last successful
 *   `sync()` of any handle on it (or as first seen, when the file was not yet touched), plus the
 *   ordered list of writes and truncates made since.
 * - Names, per folder: the ordered list of creations (open 'create' of a missing file), renames
 *   and unlinks since the last successful `syncDir` of that folder. A rename belongs to the folder
 *   of its target. `writeFileAtomic` is durable when it resolves (it syncs the file and the folder),
 *   and it makes the folder's earlier name changes durable too.
 * `simulateCrash(rng)` then rewrites the tracked files on disk into a state a power loss could leave:
 * - Names: per folder, a random prefix of the unsynced name changes survives (journaled file
 *   systems commit metadata in order), the rest is undone: a created file may vanish, an unlinked
 *   file may come back, a rename is either done or not (never both names, never neither).
 * - Data, model `'prefix'` (default): per file, a random prefix of the unsynced operations
 *   survives, the first lost one being a write may survive torn (a random prefix of its bytes),
 *   everything after is lost. For a file that is only appended to, this is: the unsynced suffix
 *   is cut at a random position between the synced size and the current size.
 * - Data, model `'independent'` (more pessimistic): each unsynced write independently survives
 *   whole, is lost, is torn (a random prefix of its bytes), or is zeroed (the file size reached
 *   the disk, the data did not); each unsynced truncate independently survives or not. A lost
 *   write followed by a surviving one leaves a hole of zeros.
 * Synced data that no later operation touched always survives. After a crash, every handle opened
 * before it is invalid (its calls reject with EBADF, in-flight calls included) and what is on
 * disk becomes the new durable state. All randomness comes from the seeded `FaultRng` passed in,
 * so a seed replays the same outcome for the same sequence of calls.
 *
 * Limits, on purpose: mkdir and rmdir (and renames of folders) are durable at once; writes that
 * overlap while both in flight are recorded in completion order; a failed `sync` leaves its writes
 * unsynced (no "fsyncgate" modelling); crash mode keeps the tracked files' contents in memory
 * (meant for small simulated data sets) and assumes every change to them goes through this
 * instance. Stop the crashed node's activity before it calls the file system again: calls made
 * while `simulateCrash` runs reject with EIO.
 */
import * as os from 'node:os';
import * as util from 'node:util';
import { dirOf, nodeFileSystem } from './fs.js';
import type { FileHandle, FileStat, FileSystem, OpenMode } from './fs.js';

export type FsOp =
  | 'open'
  | 'readFile'
  | 'writeFileAtomic'
  | 'rename'
  | 'unlink'
  | 'mkdir'
  | 'rmdir'
  | 'readdir'
  | 'stat'
  | 'syncDir'
  | 'writev'
  | 'read'
  | 'sync'
  | 'truncate'
  | 'sizeBytes'
  | 'close';

export const FS_OPS: readonly FsOp[] = [
  'open',
  'readFile',
  'writeFileAtomic',
  'rename',
  'unlink',
  'mkdir',
  'rmdir',
  'readdir',
  'stat',
  'syncDir',
  'writev',
  'read',
  'sync',
  'truncate',
  'sizeBytes',
  'close',
];

const HANDLE_OPS: ReadonlySet<FsOp> = new Set<FsOp>([
  'writev',
  'read',
  'sync',
  'truncate',
  'sizeBytes',
  'close',
]);

const SYSCALL: Record<FsOp, string> = {
  open: 'open',
  readFile: 'open',
  writeFileAtomic: 'write',
  rename: 'rename',
  unlink: 'unlink',
  mkdir: 'mkdir',
  rmdir: 'rm',
  readdir: 'scandir',
  stat: 'stat',
  syncDir: 'fsync',
  writev: 'write',
  read: 'read',
  sync: 'fdatasync',
  truncate: 'ftruncate',
  sizeBytes: 'fstat',
  close: 'close',
};

/** errno names; any other string is accepted too. */
export type ErrnoCode =
  | 'ENOSPC'
  | 'EIO'
  | 'EDQUOT'
  | 'EACCES'
  | 'EPERM'
  | 'EROFS'
  | 'EMFILE'
  | 'ENOENT'
  | 'EEXIST'
  | 'EBADF'
  | 'EAGAIN'
  | 'EINTR'
  | (string & {});

export type Fault =
  | { kind: 'error'; code: ErrnoCode }
  /** writev only: writes `bytes` (default: a random count in [0, total)) then rejects with `code` (default EIO). */
  | { kind: 'tornWrite'; bytes?: number; code?: ErrnoCode }
  /** 'before' (default): the call starts `ms` later; 'after': it takes effect now and resolves `ms` later. */
  | { kind: 'delay'; ms: number; at?: 'before' | 'after' };

export interface FaultRuleSpec {
  op: FsOp | readonly FsOp[];
  /** Substring of the path, or a predicate on it. Omitted: every path. */
  path?: string | ((path: string) => boolean);
  /** Fires on the nth matching call (1-based). Default 1. */
  nth?: number;
  /** Fires on every matching call from the nth on, until cleared. Default false: fires once. */
  persistent?: boolean;
  /** Each eligible call fires with this probability (seeded). Default 1. */
  probability?: number;
  fault: Fault;
}

export interface FaultRule {
  readonly spec: FaultRuleSpec;
  /** Matching calls seen so far. */
  readonly matched: number;
  /** Times the rule fired. */
  readonly fired: number;
  /** False once a one-shot rule fired or the rule was cleared. */
  readonly active: boolean;
  clear(): void;
}

export interface FaultEvent {
  op: FsOp;
  path: string;
  fault: Fault;
  rule: FaultRule;
}

/** A seeded source of uniform numbers in [0, 1). */
export interface FaultRng {
  next(): number;
}

/** mulberry32: small, fast, good enough for fault schedules. */
export function seededRng(seed: number): FaultRng {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

function toRng(r: FaultRng | number): FaultRng {
  return typeof r === 'number' ? seededRng(r) : r;
}

/** A uniform integer in [0, n). */
function randInt(rng: FaultRng, n: number): number {
  return Math.min(n - 1, Math.floor(rng.next() * n));
}

/** A Node-like system error: `ENOSPC: no space left on device, write '/path'` with code, errno, syscall, path. */
export function fsError(code: ErrnoCode, syscall: string, path?: string): NodeJS.ErrnoException {
  const num = (os.constants.errno as Record<string, number | undefined>)[code];
  const text = num !== undefined ? util.getSystemErrorMap().get(-num)?.[1] : undefined;
  const where = path !== undefined ? ` '${path}'` : '';
  const err: NodeJS.ErrnoException = new Error(`${code}: ${text ?? 'simulated error'}, ${syscall}${where}`);
  err.code = code;
  err.errno = num !== undefined ? -num : -5;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  return err;
}

export interface FaultyFileSystemOptions {
  /** The file system to forward to. Default: nodeFileSystem. */
  inner?: FileSystem;
  /** Track what is durable so that simulateCrash can lose what was not synced. */
  crashMode?: boolean;
  /** Seeded source for probabilistic rules and random torn-write lengths (a number is a seed). Default: seed 1. */
  random?: FaultRng | number;
  /** How delays wait. Default: setTimeout. A simulator can pass its virtual clock's sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Called whenever a rule fires. */
  onFault?: (event: FaultEvent) => void;
}

export type CrashDataModel = 'prefix' | 'independent';

export interface CrashOptions {
  /** How unsynced writes of a file are lost; see the header comment. Default 'prefix'. */
  model?: CrashDataModel;
}

export type UnsyncedOpOutcome = 'kept' | 'lost' | 'torn' | 'zeroed';

export interface CrashFileReport {
  path: string;
  /** Whether a file exists at `path` after the crash. */
  present: boolean;
  sizeBytes: number;
  /** Size of the file's synced content (0 when absent). */
  syncedSizeBytes: number;
  /** What the crash did with each unsynced write or truncate of the file now at `path`, in order. */
  unsyncedOps: UnsyncedOpOutcome[];
}

export interface CrashReport {
  /** Every tracked path, sorted. */
  files: CrashFileReport[];
  /** Unsynced creations, renames and unlinks that survived or were undone. */
  namespaceOpsKept: number;
  namespaceOpsLost: number;
}

class RuleImpl implements FaultRule {
  matched = 0;
  fired = 0;
  active = true;
  private readonly ops: ReadonlySet<FsOp>;

  constructor(
    readonly spec: FaultRuleSpec,
    private readonly remove: (r: RuleImpl) => void,
  ) {
    this.ops = new Set(typeof spec.op === 'string' ? [spec.op] : spec.op);
    if (spec.nth !== undefined && !(Number.isInteger(spec.nth) && spec.nth >= 1)) {
      throw new RangeError(`nth must be an integer >= 1, got ${spec.nth}`);
    }
    if (spec.probability !== undefined && !(spec.probability >= 0 && spec.probability <= 1)) {
      throw new RangeError(`probability must be in [0, 1], got ${spec.probability}`);
    }
  }

  matches(op: FsOp, paths: readonly string[]): boolean {
    if (!this.ops.has(op)) return false;
    const p = this.spec.path;
    if (p === undefined) return true;
    return paths.some((x) => (typeof p === 'string' ? x.includes(p) : p(x)));
  }

  clear(): void {
    if (!this.active) return;
    this.active = false;
    this.remove(this);
  }
}

interface Decision {
  epoch: number;
  delayAfterMs: number;
  failure: Exclude<Fault, { kind: 'delay' }> | null;
}

// ---------------------------------------------------------------------------------------------
// Crash-mode bookkeeping

/** A growable byte array: a file's content in memory. */
class Bytes {
  private buf: Buffer;
  private len: number;

  constructor(init?: Buffer) {
    this.buf = init ? Buffer.from(init) : Buffer.alloc(0);
    this.len = this.buf.length;
  }

  get length(): number {
    return this.len;
  }

  private extendTo(n: number): void {
    if (n <= this.len) return;
    if (n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(n, this.buf.length * 2, 64));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    } else {
      this.buf.fill(0, this.len, n);
    }
    this.len = n;
  }

  write(position: number, data: Buffer): void {
    this.extendTo(position + data.length);
    data.copy(this.buf, position);
  }

  zero(position: number, n: number): void {
    this.extendTo(position + n);
    this.buf.fill(0, position, position + n);
  }

  truncate(size: number): void {
    if (size < this.len) this.len = size;
    else this.extendTo(size);
  }

  clone(): Bytes {
    return new Bytes(this.buf.subarray(0, this.len));
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

type DataOp = { kind: 'write'; position: number; data: Buffer } | { kind: 'truncate'; sizeBytes: number };

function applyData(b: Bytes, op: DataOp): void {
  if (op.kind === 'write') b.write(op.position, op.data);
  else b.truncate(op.sizeBytes);
}

/** A file's identity; it follows renames and outlives unlinks while handles hold it. */
interface Inode {
  readonly id: number;
  durable: Bytes;
  pending: DataOp[];
}

type NsOp = { seq: number } & (
  | { kind: 'create'; path: string; node: Inode }
  | { kind: 'rename'; from: string; to: string; node: Inode }
  | { kind: 'unlink'; path: string; node: Inode }
);

function applyNs(ns: Map<string, Inode | null>, op: NsOp): void {
  switch (op.kind) {
    case 'create':
      ns.set(op.path, op.node);
      break;
    case 'rename':
      if (ns.get(op.from) === op.node) ns.set(op.from, null);
      ns.set(op.to, op.node);
      break;
    case 'unlink':
      ns.set(op.path, null);
      break;
  }
}

function normalize(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

function isUnder(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder === '/' ? '/' : `${folder}/`);
}

interface HandleState {
  readonly inner: FileHandle;
  readonly path: string;
  readonly epoch: number;
  readonly node: Inode | null;
  closed: boolean;
}

class CrashState {
  nextId = 1;
  seq = 0;
  /** What each tracked path holds now (null: nothing). */
  current = new Map<string, Inode | null>();
  /** What each tracked path holds durably. */
  durable = new Map<string, Inode | null>();
  /** Unsynced name changes per folder, oldest first. */
  logs = new Map<string, NsOp[]>();
  readonly tracking = new Map<string, Promise<void>>();

  newInode(content?: Buffer): Inode {
    return { id: this.nextId++, durable: new Bytes(content), pending: [] };
  }

  log(folder: string, op: NsOp): void {
    const list = this.logs.get(folder);
    if (list) list.push(op);
    else this.logs.set(folder, [op]);
  }

  /** Makes the folder's name changes made before `upToSeq` durable. */
  flushFolder(folder: string, upToSeq: number): void {
    const list = this.logs.get(folder);
    if (!list) return;
    let i = 0;
    while (i < list.length && list[i]!.seq < upToSeq) applyNs(this.durable, list[i++]!);
    if (i === list.length) this.logs.delete(folder);
    else this.logs.set(folder, list.slice(i));
  }

  /** A folder was renamed (durably, in this model): move every tracked path under it. */
  rekey(from: string, to: string): void {
    const re = (p: string): string => (isUnder(p, from) ? to + p.slice(from.length) : p);
    const remap = (m: Map<string, Inode | null>): Map<string, Inode | null> =>
      new Map([...m].map(([k, v]) => [re(k), v]));
    this.current = remap(this.current);
    this.durable = remap(this.durable);
    const logs = new Map<string, NsOp[]>();
    for (const [folder, ops] of this.logs) {
      logs.set(
        re(folder),
        ops.map((op) =>
          op.kind === 'rename' ? { ...op, from: re(op.from), to: re(op.to) } : { ...op, path: re(op.path) },
        ),
      );
    }
    this.logs = logs;
  }

  /** A folder was removed (durably, in this model): forget everything under it. */
  forgetTree(folder: string): void {
    for (const m of [this.current, this.durable]) {
      for (const k of [...m.keys()]) if (isUnder(k, folder)) m.delete(k);
    }
    for (const k of [...this.logs.keys()]) if (isUnder(k, folder)) this.logs.delete(k);
  }
}

/** What a crash leaves of one file's content, per the data model. */
function crashContent(
  node: Inode,
  rng: FaultRng,
  model: CrashDataModel,
): { data: Buffer; outcomes: UnsyncedOpOutcome[] } {
  const b = node.durable.clone();
  const ops = node.pending;
  const outcomes: UnsyncedOpOutcome[] = [];
  if (model === 'prefix') {
    const k = randInt(rng, ops.length + 1);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (i < k) {
        applyData(b, op);
        outcomes.push('kept');
      } else if (i === k && op.kind === 'write') {
        const cut = randInt(rng, op.data.length);
        if (cut > 0) b.write(op.position, op.data.subarray(0, cut));
        outcomes.push(cut > 0 ? 'torn' : 'lost');
      } else {
        outcomes.push('lost');
      }
    }
  } else {
    for (const op of ops) {
      if (op.kind === 'truncate') {
        const keep = randInt(rng, 2) === 0;
        if (keep) applyData(b, op);
        outcomes.push(keep ? 'kept' : 'lost');
        continue;
      }
      const r = randInt(rng, 4);
      if (r === 0) {
        b.write(op.position, op.data);
        outcomes.push('kept');
      } else if (r === 2 && op.data.length > 1) {
        b.write(op.position, op.data.subarray(0, 1 + randInt(rng, op.data.length - 1)));
        outcomes.push('torn');
      } else if (r === 3) {
        b.zero(op.position, op.data.length);
        outcomes.push('zeroed');
      } else {
        outcomes.push('lost');
      }
    }
  }
  return { data: b.toBuffer(), outcomes };
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------

export class FaultyFileSystem implements FileSystem {
  private readonly inner: FileSystem;
  private readonly random: FaultRng;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onFault: ((event: FaultEvent) => void) | undefined;
  private rules: RuleImpl[] = [];
  private readonly calls = Object.fromEntries(FS_OPS.map((op) => [op, 0])) as Record<FsOp, number>;
  private readonly crash: CrashState | null;
  private epoch = 0;
  private crashing = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly handles = new Set<HandleState>();

  constructor(options: FaultyFileSystemOptions = {}) {
    this.inner = options.inner ?? nodeFileSystem;
    this.random = toRng(options.random ?? 1);
    this.sleep = options.sleep ?? defaultSleep;
    this.onFault = options.onFault;
    this.crash = options.crashMode === true ? new CrashState() : null;
  }

  // --- rules and counters ---

  inject(spec: FaultRuleSpec): FaultRule {
    const rule = new RuleImpl(spec, (r) => {
      this.rules = this.rules.filter((x) => x !== r);
    });
    this.rules.push(rule);
    return rule;
  }

  /** Removes every rule. */
  clearFaults(): void {
    for (const r of [...this.rules]) r.clear();
  }

  /** Calls made to `op` so far (faulted ones included). */
  count(op: FsOp): number {
    return this.calls[op];
  }

  counts(): Record<FsOp, number> {
    return { ...this.calls };
  }

  resetCounts(): void {
    for (const op of FS_OPS) this.calls[op] = 0;
  }

  private decide(op: FsOp, paths: readonly string[]): { delayBeforeMs: number; decision: Decision } {
    let delayBeforeMs = 0;
    const decision: Decision = { epoch: this.epoch, delayAfterMs: 0, failure: null };
    for (const rule of [...this.rules]) {
      if (!rule.active || !rule.matches(op, paths)) continue;
      rule.matched++;
      if (rule.matched < (rule.spec.nth ?? 1)) continue;
      const p = rule.spec.probability ?? 1;
      if (p < 1 && !(this.random.next() < p)) continue;
      rule.fired++;
      if (rule.spec.persistent !== true) rule.clear();
      const fault = rule.spec.fault;
      this.onFault?.({ op, path: paths[0] ?? '', fault, rule });
      if (fault.kind === 'delay') {
        if (fault.at === 'after') decision.delayAfterMs += fault.ms;
        else delayBeforeMs += fault.ms;
      } else if (decision.failure === null) {
        decision.failure = fault;
      }
    }
    return { delayBeforeMs, decision };
  }

  /** Counts the call, refuses it on a closed or crashed handle (or while crashing), and decides its rules. */
  private admit(
    op: FsOp,
    paths: readonly string[],
    handle?: HandleState,
  ): { delayBeforeMs: number; decision: Decision } {
    this.calls[op]++;
    const path = paths[0] ?? '';
    if (handle !== undefined) {
      if (handle.closed || handle.epoch !== this.epoch) throw fsError('EBADF', SYSCALL[op], path);
    } else if (this.crashing) {
      throw crashedError(op, path);
    }
    return this.decide(op, paths);
  }

  /** Counts the call, applies its rules' delay-before, and throws an error fault (torn writes are the caller's). */
  private async enter(op: FsOp, paths: readonly string[], handle?: HandleState): Promise<Decision> {
    const path = paths[0] ?? '';
    const { delayBeforeMs, decision } = this.admit(op, paths, handle);
    if (delayBeforeMs > 0) await this.sleep(delayBeforeMs);
    if (decision.epoch !== this.epoch) throw crashedError(op, path);
    const f = decision.failure;
    if (f !== null && (f.kind === 'error' || op !== 'writev')) {
      if (op === 'close' && handle !== undefined) {
        handle.closed = true;
        this.handles.delete(handle);
        await handle.inner.close().catch(() => undefined);
      }
      throw fsError(f.code ?? 'EIO', SYSCALL[op], path);
    }
    return decision;
  }

  private async leave(d: Decision): Promise<void> {
    if (d.delayAfterMs > 0) await this.sleep(d.delayAfterMs);
  }

  /**
   * Runs a call on the inner file system for an operation that started in `epoch`: refused once a
   * crash happened, awaited by simulateCrash, and rejected when a crash happened while it ran.
   */
  private async io<T>(epoch: number, op: FsOp, path: string, call: () => Promise<T>): Promise<T> {
    if (epoch !== this.epoch) throw crashedError(op, path);
    const p = call();
    this.inflight.add(p);
    let out: T;
    try {
      out = await p;
    } catch (e) {
      throw epoch !== this.epoch ? crashedError(op, path) : e;
    } finally {
      this.inflight.delete(p);
    }
    if (epoch !== this.epoch) throw crashedError(op, path);
    return out;
  }

  /** Crash mode: starts tracking a path, recording what is on disk now as durable. Folders are not tracked. */
  private async track(epoch: number, op: FsOp, path: string): Promise<void> {
    const crash = this.crash!;
    if (crash.current.has(path)) return;
    let p = crash.tracking.get(path);
    if (p === undefined) {
      p = (async () => {
        try {
          const st = await this.io(epoch, op, path, () => this.inner.stat(path));
          if (st?.isDirectory === true) return;
          const data = st === null ? null : await this.io(epoch, op, path, () => this.inner.readFile(path));
          if (!crash.current.has(path)) {
            const node = data === null ? null : crash.newInode(data);
            crash.current.set(path, node);
            crash.durable.set(path, node);
          }
        } finally {
          crash.tracking.delete(path);
        }
      })();
      crash.tracking.set(path, p);
    }
    await p;
  }

  // --- FileSystem ---

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    const d = await this.enter('open', [path]);
    const crash = this.crash;
    if (crash !== null && mode !== 'read') await this.track(d.epoch, 'open', path);
    const inner = await this.io(d.epoch, 'open', path, () => this.inner.open(path, mode));
    let node: Inode | null = null;
    if (crash !== null && mode !== 'read') {
      node = crash.current.get(path) ?? null;
      if (node === null) {
        // A new file: its name is durable once its folder is synced.
        node = crash.newInode();
        crash.current.set(path, node);
        if (!crash.durable.has(path)) crash.durable.set(path, null);
        crash.log(dirOf(path), { seq: crash.seq++, kind: 'create', path, node });
      }
    }
    const state: HandleState = { inner, path, epoch: d.epoch, node, closed: false };
    this.handles.add(state);
    await this.leave(d);
    return this.wrapHandle(state);
  }

  async readFile(path: string): Promise<Buffer | null> {
    const d = await this.enter('readFile', [path]);
    const out = await this.io(d.epoch, 'readFile', path, () => this.inner.readFile(path));
    await this.leave(d);
    return out;
  }

  async writeFileAtomic(path: string, data: Buffer | string): Promise<void> {
    const d = await this.enter('writeFileAtomic', [path]);
    const crash = this.crash;
    const tmp = `${path}.tmp`;
    if (crash !== null) await this.track(d.epoch, 'writeFileAtomic', path);
    await this.io(d.epoch, 'writeFileAtomic', path, () => this.inner.writeFileAtomic(path, data));
    if (crash !== null) {
      const node = crash.newInode(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      // The file was synced, renamed into place and the folder synced: all of it is durable.
      crash.flushFolder(dirOf(path), crash.seq);
      crash.current.set(path, node);
      crash.durable.set(path, node);
      if (crash.current.has(tmp)) {
        crash.current.set(tmp, null);
        crash.durable.set(tmp, null);
      }
    }
    await this.leave(d);
  }

  async rename(from: string, to: string): Promise<void> {
    const d = await this.enter('rename', [from, to]);
    const crash = this.crash;
    if (crash !== null) {
      await this.track(d.epoch, 'rename', from);
      if (crash.current.has(from)) await this.track(d.epoch, 'rename', to);
    }
    await this.io(d.epoch, 'rename', from, () => this.inner.rename(from, to));
    if (crash !== null) {
      if (!crash.current.has(from)) {
        crash.rekey(normalize(from), normalize(to)); // a folder
      } else {
        const node = crash.current.get(from) ?? null;
        if (node !== null) {
          crash.current.set(from, null);
          crash.current.set(to, node);
          crash.log(dirOf(to), { seq: crash.seq++, kind: 'rename', from, to, node });
        }
      }
    }
    await this.leave(d);
  }

  async unlink(path: string): Promise<void> {
    const d = await this.enter('unlink', [path]);
    const crash = this.crash;
    if (crash !== null) await this.track(d.epoch, 'unlink', path);
    await this.io(d.epoch, 'unlink', path, () => this.inner.unlink(path));
    if (crash !== null) {
      const node = crash.current.get(path) ?? null;
      if (node !== null) {
        crash.current.set(path, null);
        crash.log(dirOf(path), { seq: crash.seq++, kind: 'unlink', path, node });
      }
    }
    await this.leave(d);
  }

  async mkdir(path: string): Promise<void> {
    const d = await this.enter('mkdir', [path]);
    await this.io(d.epoch, 'mkdir', path, () => this.inner.mkdir(path));
    await this.leave(d);
  }

  async rmdir(path: string): Promise<void> {
    const d = await this.enter('rmdir', [path]);
    await this.io(d.epoch, 'rmdir', path, () => this.inner.rmdir(path));
    this.crash?.forgetTree(normalize(path));
    await this.leave(d);
  }

  async readdir(path: string): Promise<string[]> {
    const d = await this.enter('readdir', [path]);
    const out = await this.io(d.epoch, 'readdir', path, () => this.inner.readdir(path));
    await this.leave(d);
    return out;
  }

  async stat(path: string): Promise<FileStat | null> {
    const d = await this.enter('stat', [path]);
    const out = await this.io(d.epoch, 'stat', path, () => this.inner.stat(path));
    await this.leave(d);
    return out;
  }

  async syncDir(path: string): Promise<void> {
    const d = await this.enter('syncDir', [path]);
    const upTo = this.crash?.seq ?? 0;
    await this.io(d.epoch, 'syncDir', path, () => this.inner.syncDir(path));
    this.crash?.flushFolder(normalize(path), upTo);
    await this.leave(d);
  }

  // --- handles ---

  private wrapHandle(h: HandleState): FileHandle {
    const innerWriteSync = h.inner.writeSync?.bind(h.inner);
    return {
      path: h.path,
      writev: (chunks, position) => this.hWritev(h, chunks, position),
      ...(innerWriteSync !== undefined && {
        writeSync: (chunks: readonly Buffer[], position: number) =>
          this.hWriteSync(h, innerWriteSync, chunks, position),
      }),
      read: async (into, offset, length, position) => {
        const d = await this.enter('read', [h.path], h);
        const n = await this.io(h.epoch, 'read', h.path, () => h.inner.read(into, offset, length, position));
        await this.leave(d);
        return n;
      },
      sync: async () => {
        const d = await this.enter('sync', [h.path], h);
        const upTo = h.node?.pending.length ?? 0;
        await this.io(h.epoch, 'sync', h.path, () => h.inner.sync());
        if (h.node !== null) {
          for (const op of h.node.pending.slice(0, upTo)) applyData(h.node.durable, op);
          h.node.pending = h.node.pending.slice(upTo);
        }
        await this.leave(d);
      },
      truncate: async (sizeBytes) => {
        const d = await this.enter('truncate', [h.path], h);
        await this.io(h.epoch, 'truncate', h.path, () => h.inner.truncate(sizeBytes));
        h.node?.pending.push({ kind: 'truncate', sizeBytes });
        await this.leave(d);
      },
      sizeBytes: async () => {
        const d = await this.enter('sizeBytes', [h.path], h);
        const n = await this.io(h.epoch, 'sizeBytes', h.path, () => h.inner.sizeBytes());
        await this.leave(d);
        return n;
      },
      close: async () => {
        const d = await this.enter('close', [h.path], h);
        h.closed = true;
        this.handles.delete(h);
        await this.io(h.epoch, 'close', h.path, () => h.inner.close());
        await this.leave(d);
      },
    };
  }

  private async hWritev(h: HandleState, chunks: readonly Buffer[], position: number): Promise<number> {
    const d = await this.enter('writev', [h.path], h);
    const f = d.failure;
    if (f !== null && f.kind === 'tornWrite') {
      const part = this.tornPart(f, chunks);
      if (part.length > 0) {
        await this.io(h.epoch, 'writev', h.path, () => h.inner.writev([part], position));
        h.node?.pending.push({ kind: 'write', position, data: part });
      }
      throw fsError(f.code ?? 'EIO', 'write', h.path);
    }
    const n = await this.io(h.epoch, 'writev', h.path, () => h.inner.writev(chunks, position));
    if (h.node !== null && n > 0)
      h.node.pending.push({ kind: 'write', position, data: Buffer.concat(chunks) });
    await this.leave(d);
    return n;
  }

  /**
   * `writeSync`, with the rules of `writev` (a synchronous write is a writev to the rules): it
   * counts as one, fails and tears alike. It cannot wait, so a delay rule firing on it throws
   * (a test that delays writes wants handles without writeSync).
   */
  private hWriteSync(
    h: HandleState,
    innerWriteSync: (chunks: readonly Buffer[], position: number) => number,
    chunks: readonly Buffer[],
    position: number,
  ): number {
    const { delayBeforeMs, decision } = this.admit('writev', [h.path], h);
    if (delayBeforeMs > 0 || decision.delayAfterMs > 0) {
      throw new Error(`FaultyFileSystem: a delay rule fired on a synchronous write of ${h.path}`);
    }
    const f = decision.failure;
    if (f !== null && f.kind === 'tornWrite') {
      const part = this.tornPart(f, chunks);
      if (part.length > 0) {
        innerWriteSync([part], position);
        h.node?.pending.push({ kind: 'write', position, data: part });
      }
      throw fsError(f.code ?? 'EIO', 'write', h.path);
    }
    if (f !== null) throw fsError(f.code ?? 'EIO', SYSCALL.writev, h.path);
    const n = innerWriteSync(chunks, position);
    if (h.node !== null && n > 0)
      h.node.pending.push({ kind: 'write', position, data: Buffer.concat(chunks) });
    return n;
  }

  /** What a torn write writes before failing: the first `bytes` (or a random count) of the chunks. */
  private tornPart(f: { bytes?: number }, chunks: readonly Buffer[]): Buffer {
    const all = Buffer.concat(chunks);
    const k =
      f.bytes !== undefined ? Math.max(0, Math.min(f.bytes, all.length)) : randInt(this.random, all.length);
    return all.subarray(0, k);
  }

  // --- crash ---

  /**
   * Crash mode: puts the tracked files on disk into a state a power loss could leave (see the
   * header comment), invalidates every open handle, and makes the result the new durable state.
   */
  async simulateCrash(rng: FaultRng | number, options: CrashOptions = {}): Promise<CrashReport> {
    const crash = this.crash;
    if (crash === null)
      throw new Error('simulateCrash needs a FaultyFileSystem created with crashMode: true');
    if (this.crashing) throw new Error('simulateCrash is already running');
    const random = toRng(rng);
    const model = options.model ?? 'prefix';
    this.epoch++;
    this.crashing = true;
    try {
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
      for (const h of [...this.handles]) {
        h.closed = true;
        await h.inner.close().catch(() => undefined);
      }
      this.handles.clear();
      while (crash.tracking.size > 0) await Promise.allSettled([...crash.tracking.values()]);

      // Names: per folder, a random prefix of its unsynced changes survives.
      const ns = new Map(crash.durable);
      const kept: NsOp[] = [];
      let lost = 0;
      for (const folder of [...crash.logs.keys()].sort()) {
        const ops = crash.logs.get(folder)!;
        const k = randInt(random, ops.length + 1);
        kept.push(...ops.slice(0, k));
        lost += ops.length - k;
      }
      kept.sort((a, b) => a.seq - b.seq);
      for (const op of kept) applyNs(ns, op);

      // Data: per file, what the model leaves of its unsynced writes.
      const paths = [...new Set([...crash.current.keys(), ...ns.keys()])].sort();
      const contents = new Map<Inode, { data: Buffer; outcomes: UnsyncedOpOutcome[] }>();
      const files: CrashFileReport[] = [];
      for (const path of paths) {
        const node = ns.get(path) ?? null;
        if (node === null) {
          await this.inner.unlink(path);
          files.push({ path, present: false, sizeBytes: 0, syncedSizeBytes: 0, unsyncedOps: [] });
          continue;
        }
        let c = contents.get(node);
        if (c === undefined) {
          c = crashContent(node, random, model);
          contents.set(node, c);
        }
        await this.inner.mkdir(dirOf(path));
        const fh = await this.inner.open(path, 'create');
        try {
          await fh.truncate(0);
          if (c.data.length > 0) await fh.writev([c.data], 0);
          await fh.sync();
        } finally {
          await fh.close();
        }
        files.push({
          path,
          present: true,
          sizeBytes: c.data.length,
          syncedSizeBytes: node.durable.length,
          unsyncedOps: c.outcomes,
        });
      }

      // What is on disk now is durable.
      const fresh = new Map<Inode, Inode>();
      const next = new Map<string, Inode | null>();
      for (const path of paths) {
        const node = ns.get(path) ?? null;
        if (node === null) {
          next.set(path, null);
          continue;
        }
        let n = fresh.get(node);
        if (n === undefined) {
          n = crash.newInode(contents.get(node)!.data);
          fresh.set(node, n);
        }
        next.set(path, n);
      }
      crash.current = next;
      crash.durable = new Map(next);
      crash.logs = new Map();
      return { files, namespaceOpsKept: kept.length, namespaceOpsLost: lost };
    } finally {
      this.crashing = false;
    }
  }
}

function crashedError(op: FsOp, path: string): NodeJS.ErrnoException {
  if (HANDLE_OPS.has(op)) return fsError('EBADF', SYSCALL[op], path);
  const e = fsError('EIO', SYSCALL[op], path);
  e.message = `${e.message} (simulated crash)`;
  return e;
}
