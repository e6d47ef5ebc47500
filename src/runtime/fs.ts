/**
 * The FileSystem seam: every file operation the storage layer makes goes through this
 * interface, so tests can inject faults (torn writes, ENOSPC, EIO) and the simulator can
 * model crashes that lose what was not synced. `nodeFileSystem` is the real one.
 *
 * Writes and reads name their file position explicitly (pwrite/pread): a log never depends on
 * a shared file cursor, so a retried or failed write cannot shift later ones.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';

export interface FileStat {
  sizeBytes: number;
  mtimeMs: number;
  isDirectory: boolean;
}

export interface FileHandle {
  readonly path: string;
  /** Writes all of `chunks` at `position`; resolves to the bytes written (always their total). */
  writev(chunks: readonly Buffer[], position: number): Promise<number>;
  /**
   * The same write, made synchronously on the calling thread; returns the bytes written (their
   * total) or throws the OS error. A page-cache write of a few KiB takes a few microseconds this
   * way, against tens for the thread-pool round trip of `writev`. Optional: handles that cannot
   * write synchronously (delaying or pausing test wrappers) leave it out, and callers use `writev`.
   */
  writeSync?(chunks: readonly Buffer[], position: number): number;
  /** Reads up to `length` bytes at `position` into `into` at `offset`; resolves to the bytes read. */
  read(into: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** fdatasync: the file's data (and size) are durable when this resolves. */
  sync(): Promise<void>;
  truncate(sizeBytes: number): Promise<void>;
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

export type OpenMode =
  /** read only; the file must exist */
  | 'read'
  /** read and write; the file must exist */
  | 'readWrite'
  /** read and write; created when missing */
  | 'create';

export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<FileHandle>;
  /** The whole file, or null when it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  /** Replaces a file atomically: writes a temporary file, syncs it, renames it over `path`, syncs the folder. */
  writeFileAtomic(path: string, data: Buffer | string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** Removes a folder and everything in it. */
  rmdir(path: string): Promise<void>;
  /** Names in a folder (not paths); empty when the folder does not exist. */
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<FileStat | null>;
  /** fsync of a folder, so renames, creations and removals in it are durable. */
  syncDir(path: string): Promise<void>;
}

function fsWritev(fd: number, chunks: Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, chunks, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}
function fsRead(fd: number, into: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, into, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}
const fsFdatasync = promisify(fs.fdatasync);
const fsFtruncate = promisify(fs.ftruncate);
const fsFstat = promisify(fs.fstat);
const fsClose = promisify(fs.close);
const fsOpen = promisify(fs.open);
const fsFsync = promisify(fs.fsync);

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Thin handle over a file descriptor (callback API: less overhead than fs/promises' FileHandle). */
class NodeFileHandle implements FileHandle {
  readonly path: string;
  private readonly fd: number;

  constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  writev(chunks: readonly Buffer[], position: number): Promise<number> {
    let total = 0;
    for (const c of chunks) total += c.length;
    // The common case is one call that writes everything, resolved straight from its callback
    // (no extra promise step on the append path); a short write falls back to the loop.
    return new Promise<number>((resolve, reject) => {
      const done = (err: NodeJS.ErrnoException | null, n: number): void => {
        if (err !== null) reject(err);
        else if (n >= total) resolve(n);
        else this.writeRest(chunks, position, n, total).then(resolve, reject);
      };
      if (chunks.length === 1) {
        const c = chunks[0]!;
        fs.write(this.fd, c, 0, c.length, position, done);
      } else fs.writev(this.fd, [...chunks], position, done);
    });
  }

  writeSync(chunks: readonly Buffer[], position: number): number {
    return writeAllSync(this.fd, chunks, position, this.path);
  }

  private async writeRest(
    chunks: readonly Buffer[],
    position: number,
    done: number,
    total: number,
  ): Promise<number> {
    let written = done;
    // A short write (rare, e.g. on a full disk) continues where it stopped, or fails with the OS error.
    while (written < total) {
      const rest = remainingChunks(chunks, written);
      const n = await fsWritev(this.fd, rest, position + written);
      if (n === 0) throw noProgress(this.path);
      written += n;
    }
    return written;
  }

  async read(into: Buffer, offset: number, length: number, position: number): Promise<number> {
    let done = 0;
    while (done < length) {
      const n = await fsRead(this.fd, into, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  sync(): Promise<void> {
    return fsFdatasync(this.fd);
  }

  truncate(sizeBytes: number): Promise<void> {
    return fsFtruncate(this.fd, sizeBytes);
  }

  async sizeBytes(): Promise<number> {
    return (await fsFstat(this.fd)).size;
  }

  close(): Promise<void> {
    return fsClose(this.fd);
  }
}

/**
 * Writes all of `chunks` at `position` of the open file `fd` (named `path` in errors),
 * synchronously, continuing after short writes; returns the bytes written.
 */
export function writeAllSync(fd: number, chunks: readonly Buffer[], position: number, path: string): number {
  let total = 0;
  for (const c of chunks) total += c.length;
  if (total === 0) return 0;
  const first = chunks[0]!;
  let written =
    chunks.length === 1
      ? fs.writeSync(fd, first, 0, first.length, position)
      : fs.writevSync(fd, [...chunks], position);
  while (written < total) {
    const n = fs.writevSync(fd, remainingChunks(chunks, written), position + written);
    if (n === 0) throw noProgress(path);
    written += n;
  }
  return written;
}

/**
 * Replaces `path` atomically and durably, synchronously: writes `tmpPath`, fsyncs it, renames
 * it over `path`, then fsyncs the folder (`dirFd` when the caller holds it open, else opened here).
 */
export function writeFileAtomicSync(
  path: string,
  tmpPath: string,
  chunks: readonly Buffer[],
  dirFd?: number,
): void {
  const fd = fs.openSync(tmpPath, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_TRUNC, 0o644);
  try {
    writeAllSync(fd, chunks, 0, tmpPath);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmpPath, path);
  if (dirFd !== undefined) {
    fs.fsyncSync(dirFd);
    return;
  }
  const ownDirFd = fs.openSync(dirOf(path), 'r');
  try {
    fs.fsyncSync(ownDirFd);
  } finally {
    fs.closeSync(ownDirFd);
  }
}

/** A write that wrote nothing without an error (it would loop forever): EIO. */
function noProgress(path: string): Error {
  return Object.assign(new Error(`write to ${path} made no progress`), { code: 'EIO' });
}

function remainingChunks(chunks: readonly Buffer[], skipBytes: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = skipBytes;
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    out.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return out;
}

const OPEN_FLAGS: Record<OpenMode, string> = { read: 'r', readWrite: 'r+', create: 'a+' };

export const nodeFileSystem: FileSystem = {
  async open(path, mode) {
    // 'a+' would force appends to the end on Linux; open with O_CREAT|O_RDWR instead.
    const flags = mode === 'create' ? fs.constants.O_CREAT | fs.constants.O_RDWR : OPEN_FLAGS[mode];
    const fd = await fsOpen(path, flags, 0o644);
    return new NodeFileHandle(path, fd);
  },

  async readFile(path) {
    try {
      return await fs.promises.readFile(path);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  },

  async writeFileAtomic(path, data) {
    const tmp = `${path}.tmp`;
    const fd = await fsOpen(tmp, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_TRUNC, 0o644);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      await new NodeFileHandle(tmp, fd).writev([buf], 0);
      await fsFsync(fd);
    } finally {
      await fsClose(fd);
    }
    await fs.promises.rename(tmp, path);
    await nodeFileSystem.syncDir(dirOf(path));
  },

  rename(from, to) {
    return fs.promises.rename(from, to);
  },

  async unlink(path) {
    try {
      await fs.promises.unlink(path);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },

  async mkdir(path) {
    await fs.promises.mkdir(path, { recursive: true });
  },

  rmdir(path) {
    return fs.promises.rm(path, { recursive: true, force: true });
  },

  async readdir(path) {
    try {
      return await fs.promises.readdir(path);
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  },

  async stat(path) {
    try {
      const s = await fs.promises.stat(path);
      return { sizeBytes: s.size, mtimeMs: s.mtimeMs, isDirectory: s.isDirectory() };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  },

  async syncDir(path) {
    const fd = await fsOpen(path, 'r');
    try {
      await fsFsync(fd);
    } finally {
      await fsClose(fd);
    }
  },
};

export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
