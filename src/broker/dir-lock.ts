/**
 * One broker per data folder: each log folder gets a `.lock` file naming the process that holds
 * it, created exclusively. Kafka refuses a second broker on the same folders the same way (with
 * an OS file lock); two writers would corrupt each other's logs. A lock left by a process that
 * no longer exists (a kill -9) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export const LOCK_FILE = '.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks every folder or throws naming the folder and the process holding it; returns the release. */
export function lockDirs(dirs: readonly string[]): () => void {
  const held: string[] = [];
  try {
    for (const dir of dirs) {
      const path = `${dir}/${LOCK_FILE}`;
      for (let attempt = 0; ; attempt++) {
        try {
          const fd = openSync(path, 'wx');
          writeSync(fd, `${process.pid}\n`);
          closeSync(fd);
          held.push(path);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
          const holder = Number(readFileSync(path, 'utf8').trim());
          if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
            throw new Error(`${dir} is in use by another broker (process ${holder} holds ${path})`);
          }
          unlinkSync(path);
        }
      }
    }
  } catch (e) {
    for (const p of held) unlinkSync(p);
    throw e;
  }
  return () => {
    for (const p of held) {
      try {
        unlinkSync(p);
      } catch {
        // Already gone: nothing to release.
      }
    }
  };
}
