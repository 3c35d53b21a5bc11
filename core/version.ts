import { readFileSync } from 'node:fs';

/** kmc's version, from package.json: reported as each VNode's kubelet version and by `kmc --version`. */
export const KMC_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
