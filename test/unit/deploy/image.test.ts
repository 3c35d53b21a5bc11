import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const ENTRY = 'core/cli/main.ts';

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

/** Every file the entry point can load (static and dynamic imports), and the packages they import. */
async function importGraph(entry: string): Promise<{ files: Set<string>; packages: Set<string> }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [resolve(ROOT, entry)];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    const path = relative(ROOT, file);
    if (files.has(path)) continue;
    files.add(path);
    const source = await readFile(file, 'utf8');
    const specifiers = [
      ...source.matchAll(/\bfrom\s+'([^']+)'/g),
      ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
      ...source.matchAll(/^import\s+'([^']+)'/gm),
    ].map((match) => match[1] ?? '');
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? `${parts[0] ?? ''}/${parts[1] ?? ''}` : (parts[0] ?? ''));
      }
    }
  }
  return { files, packages };
}

/**
 * The container image cannot be built on machines without a container engine, so what makes it work is checked
 * from its recipe: everything `kmc` loads is copied in, every package it imports is a production dependency
 * (the image installs only those), and the image, the manifests and the chart agree on the user and the paths.
 */
describe('the container image recipe', () => {
  it('copies every file kmc can load, and installs every package it imports', async () => {
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(\S+) \.\/(\S*)$/gm)].map(
      (match) => match[1] ?? '',
    );
    const { files, packages } = await importGraph(ENTRY);
    expect(files.size).toBeGreaterThan(50);
    const missing = [...files].filter(
      (file) => !copied.some((source) => file === source || file.startsWith(`${source}/`)),
    );
    expect(missing).toEqual([]);
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
    expect([...packages].filter((name) => !(name in manifest.dependencies)).sort()).toEqual([]);
    // package.json is read at run time (kmc --version, the kubelet version of nodes).
    expect(copied).toContain('package.json');
  });

  it('keeps what it copies in the build context, and nothing else', async () => {
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    const ignore = (await readFile(join(ROOT, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim());
    expect(ignore).toContain('*');
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \.\/\S*$/gm)].flatMap((m) =>
      (m[1] ?? '').split(' '),
    );
    for (const source of sources) {
      expect(
        ignore.some((line) => line === `!${source}` || line === `!${source}/`),
        source,
      ).toBe(true);
    }
  });

  it('is multi-stage, runs Node 24 as a non-root user, and runs kmc with the mounted config', async () => {
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=24\.\d+\.\d+$/m);
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "core\/cli\/main\.ts"\]$/m);
    expect(dockerfile).toMatch(
      /^CMD \["run", "--config", "\/etc\/kmc\/config\/koupleless\.config\.yaml"\]$/m,
    );
  });

  it('matches the Deployment of the kustomize base: user, config path, port', async () => {
    const deployment = parse(await readFile(join(ROOT, 'examples/deploy/base/deployment.yaml'), 'utf8')) as {
      spec: {
        template: {
          spec: {
            securityContext: { runAsUser: number; runAsNonRoot: boolean };
            containers: {
              args: string[];
              ports: { containerPort: number }[];
              volumeMounts: { name: string; mountPath: string }[];
            }[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsNonRoot: true });
    const [container] = pod.containers;
    expect(container?.args.slice(0, 3)).toEqual([
      'run',
      '--config',
      '/etc/kmc/config/koupleless.config.yaml',
    ]);
    expect(container?.volumeMounts.find((m) => m.name === 'config')?.mountPath).toBe('/etc/kmc/config');
    expect(container?.ports[0]?.containerPort).toBe(8080);
  });
});
