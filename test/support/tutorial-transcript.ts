/**
 * The README tutorial as a transcript: its `console` code blocks, each `$ ` line a command and the lines after it
 * (up to the next command or the end of the block) that command's output. test/e2e/tutorial.test.ts runs the
 * commands exactly as written and compares their outputs (after the normaliser of tutorial-normalise.ts); with
 * KMC_TUTORIAL_WRITE=1 it writes the outputs it got back into README.md instead. Pure.
 */

export const TUTORIAL_HEADING = '## Tutorial: a release with kubectl';

export interface TutorialStep {
  /** The command, without the `$ ` prompt. */
  readonly command: string;
  /** The expected output, one entry per line (empty when the command prints nothing). */
  readonly expected: readonly string[];
  /** 1-based line of the command in the file. */
  readonly line: number;
  /** 0-based indexes of the output lines in the file: [start, end). */
  readonly outputStart: number;
  readonly outputEnd: number;
}

const PROMPT = '$ ';

/**
 * The steps of the section headed `heading` (up to the next `## ` heading). Only ```console blocks count; other
 * blocks (```sh, ```yaml) are shown, not run. A console block must start with a command.
 */
export function parseTutorial(markdown: string, heading: string = TUTORIAL_HEADING): TutorialStep[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trimEnd() === heading);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const after = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  const end = after < 0 ? lines.length : after;
  const steps: TutorialStep[] = [];
  let inConsole = false;
  let fence = false;
  let current: { command: string; line: number; outputStart: number } | undefined;
  const close = (index: number) => {
    if (!current) return;
    steps.push({
      command: current.command,
      expected: lines.slice(current.outputStart, index),
      line: current.line,
      outputStart: current.outputStart,
      outputEnd: index,
    });
    current = undefined;
  };
  for (let i = start + 1; i < end; i += 1) {
    const line = lines[i] ?? '';
    if (!fence) {
      if (line.startsWith('```')) {
        fence = true;
        inConsole = line.trim() === '```console';
      }
      continue;
    }
    if (line.trimEnd() === '```') {
      close(i);
      fence = false;
      inConsole = false;
      continue;
    }
    if (!inConsole) continue;
    if (line.startsWith(PROMPT)) {
      close(i);
      current = { command: line.slice(PROMPT.length).trim(), line: i + 1, outputStart: i + 1 };
    } else if (!current) {
      throw new Error(`line ${String(i + 1)}: a console block must start with a "$ " command`);
    }
  }
  if (fence) throw new Error(`section "${heading}": a code block is not closed`);
  return steps;
}

/**
 * The markdown with each step's output replaced by `outputs[i]` (the steps as parsed from this very text). Output
 * lines are written as they are, without trailing spaces; an empty output leaves the command alone in its place.
 */
export function withOutputs(
  markdown: string,
  steps: readonly TutorialStep[],
  outputs: readonly string[],
): string {
  if (outputs.length !== steps.length)
    throw new Error(`${String(outputs.length)} outputs for ${String(steps.length)} steps`);
  const lines = markdown.split('\n');
  // From the last step back, so the earlier steps' line indexes stay valid.
  for (let i = steps.length - 1; i >= 0; i -= 1) {
    const step = steps[i];
    if (!step) continue;
    const text = (outputs[i] ?? '').replace(/\n+$/, '');
    const replacement = text === '' ? [] : text.split('\n').map((l) => l.trimEnd());
    lines.splice(step.outputStart, step.outputEnd - step.outputStart, ...replacement);
  }
  return lines.join('\n');
}
