/**
 * `npm run bench -- <name> [options]`: benchmarks that print figures (no pass / fail). Each benchmark lives in
 * its own file and exports `run(args)`.
 */
const BENCHMARKS: Record<string, { readonly file: string; readonly summary: string }> = {
  core: {
    file: './core.bench.ts',
    summary:
      'N simulated bases (--bases, default 200) against kmc: time to Ready, report → status latency, API writes, CPU, RSS',
  },
  'control-plane': {
    file: './control-plane.bench.ts',
    summary: 'cold and warm start times of the local control plane (build excluded), per component, and RSS',
  },
};

const [name, ...args] = process.argv.slice(2);
const benchmark = name ? BENCHMARKS[name] : undefined;
if (!benchmark) {
  process.stderr.write(
    `usage: npm run bench -- <benchmark> [options]\n\nbenchmarks:\n` +
      Object.entries(BENCHMARKS)
        .map(([key, value]) => `  ${key.padEnd(16)} ${value.summary}`)
        .join('\n') +
      '\n',
  );
  process.exit(name ? 2 : 0);
}
const module = (await import(benchmark.file)) as { run: (args: readonly string[]) => Promise<void> };
await module.run(args);
