import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from './process-alive.ts';

/**
 * A cross-process lock on a directory (mkdir is atomic). Two processes that want the same build — a test run
 * and `npm run cluster -- up` started side by side — must not write into one Go module at once. A lock whose
 * holder no longer exists is taken over, so a killed build never blocks the next one.
 */
export async function withDirectoryLock<T>(
  lockDir: string,
  work: () => Promise<T>,
  onWait: (holderPid: number) => void = () => undefined,
): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readHolder(lockDir);
      if (holder === undefined ? await isAbandoned(lockDir) : !isAlive(holder)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced && holder !== undefined) {
        onWait(holder);
        announced = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function readHolder(lockDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(join(lockDir, 'pid'), 'utf8'), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    // The holder has created the directory but not yet written its pid: treat it as alive.
    return undefined;
  }
}

/** A lock directory without a pid long after its creation belongs to a process killed between two syscalls. */
async function isAbandoned(lockDir: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(lockDir)).mtimeMs > 30_000;
  } catch {
    return false;
  }
}
