import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFailed } from 'vitest';

/**
 * When the running test fails, writes the given log lines to a file under the temp directory and says where:
 * a failure under load can then be read after the fact, without rerunning everything with debug logs.
 */
export function keepLogsOnFailure(label: string, lines: () => readonly unknown[]): void {
  onTestFailed(() => {
    const dir = join(tmpdir(), 'kmc-test-logs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${label}-${String(Date.now())}.jsonl`);
    writeFileSync(
      file,
      lines()
        .map((line) => JSON.stringify(line))
        .join('\n') + '\n',
    );
    process.stderr.write(`[kmc-test] logs of ${label} kept in ${file}\n`);
  });
}
