import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { namespaceAsDefault, normalise } from '../../support/tutorial-normalise.ts';
import { parseTutorial, withOutputs, TUTORIAL_HEADING } from '../../support/tutorial-transcript.ts';

const DOC = [
  '# Title',
  '',
  '## Quick start',
  '',
  '```console',
  '$ not-in-the-tutorial',
  '```',
  '',
  TUTORIAL_HEADING,
  '',
  'Setup, shown and not run:',
  '',
  '```sh',
  '$ npm run playground',
  '```',
  '',
  '```console',
  '$ kubectl apply -f biz1.yaml',
  'deployment.apps/biz1 created',
  "$ kubectl wait modulerollout/biz1-r1 --for=jsonpath='{.status.phase}'=Completed",
  '$ kubectl get pods',
  'NAME   READY',
  'biz1-7f8c6dfc6-qj9m5   1/1',
  '```',
  '',
  '### A subsection still belongs to it',
  '',
  '```console',
  '$ kubectl delete deployment/biz1',
  '```',
  '',
  '## Next section',
  '',
  '```console',
  '$ not-in-the-tutorial-either',
  '```',
].join('\n');

describe('parseTutorial', () => {
  it('takes the console blocks of the tutorial section only: commands and the lines after each', () => {
    const steps = parseTutorial(DOC);
    expect(steps.map((s) => [s.command, s.expected])).toEqual([
      ['kubectl apply -f biz1.yaml', ['deployment.apps/biz1 created']],
      ["kubectl wait modulerollout/biz1-r1 --for=jsonpath='{.status.phase}'=Completed", []],
      ['kubectl get pods', ['NAME   READY', 'biz1-7f8c6dfc6-qj9m5   1/1']],
      ['kubectl delete deployment/biz1', []],
    ]);
    expect(steps[0]?.line).toBe(DOC.split('\n').indexOf('$ kubectl apply -f biz1.yaml') + 1);
  });

  it('rejects a missing section, an unclosed block and output before any command', () => {
    expect(() => parseTutorial('# nothing')).toThrow('no section');
    expect(() => parseTutorial(`${TUTORIAL_HEADING}\n\`\`\`console\n$ ls\n`)).toThrow('not closed');
    expect(() => parseTutorial(`${TUTORIAL_HEADING}\n\`\`\`console\noutput\n\`\`\`\n`)).toThrow(
      'must start with a "$ " command',
    );
  });

  it('writes outputs back in place, leaving everything else as it was', () => {
    const steps = parseTutorial(DOC);
    const written = withOutputs(DOC, steps, [
      'deployment.apps/biz1 created\n',
      'modulerollout.rollout.koupleless.io/biz1-r1 condition met\n',
      'No resources found in default namespace.   \n',
      '',
    ]);
    const again = parseTutorial(written);
    expect(again.map((s) => s.command)).toEqual(steps.map((s) => s.command));
    expect(again.map((s) => s.expected)).toEqual([
      ['deployment.apps/biz1 created'],
      ['modulerollout.rollout.koupleless.io/biz1-r1 condition met'],
      ['No resources found in default namespace.'],
      [],
    ]);
    expect(written.split('\n').slice(0, 20)).toEqual(DOC.split('\n').slice(0, 20));
    expect(written.endsWith('$ not-in-the-tutorial-either\n```')).toBe(true);
    expect(() => withOutputs(DOC, steps, [])).toThrow('0 outputs for 4 steps');
  });

  it('parses the README tutorial: every command is a kubectl one, and outputs are there', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const steps = parseTutorial(readme);
    expect(steps.length).toBeGreaterThan(10);
    for (const step of steps) expect(step.command).toMatch(/^kubectl /);
    expect(steps.filter((s) => s.expected.length > 0).length).toBe(steps.length);
  });
});

describe('normalise', () => {
  it('replaces what varies between runs: namespace, timestamps, IPs, name hashes, ages, base ids, padding', () => {
    const actual = [
      'Deployment ns-e-1a2b-3-c0ffee/biz1: 3 replicas, revision 2',
      '  Hold: GrayTime before batch 2, since 2s ago, 8s left',
      '    batch 2 starts at 2026-11-22T11:33:59.627Z (gray time 10 s after batch 1)',
      '  Progress deadline: 9m57s left',
      '│  └─ biz1-6cfbbb6c67-b76tl biz1:0.0.2 Ready on virtual-node-base-3 (base base 1.0.0)',
      'NAME                    READY   STATUS    RESTARTS   AGE    IP          NODE',
      'biz1-6cfbbb6c67-b76tl   1/1     Running   0          2m3s   10.0.0.13   virtual-node-base-3',
      'biz1   ReplicaSet ns-e-1a2b-3-c0ffee/biz1-6cfbbb6c67   1h2m',
    ].join('\n');
    const expected = [
      'Deployment default/biz1: 3 replicas, revision 2',
      '  Hold: GrayTime before batch 2, since 3s ago, 7s left',
      '    batch 2 starts at 2026-11-22T08:00:00.001Z (gray time 10 s after batch 1)',
      '  Progress deadline: 10m left',
      '│  └─ biz1-7f8c6dfc6-qj9m5 biz1:0.0.2 Ready on virtual-node-base-1 (base base 1.0.0)',
      'NAME                   READY   STATUS    RESTARTS   AGE   IP          NODE',
      'biz1-7f8c6dfc6-qj9m5   1/1     Running   0          4s    10.0.0.11   virtual-node-base-1',
      'biz1   ReplicaSet default/biz1-7f8c6dfc6   5d',
    ].join('\n');
    expect(normalise(actual, { namespace: 'ns-e-1a2b-3-c0ffee' })).toBe(normalise(expected));
    expect(normalise(expected)).toBe(
      [
        'Deployment default/biz1: 3 replicas, revision 2',
        '  Hold: GrayTime before batch 2, since <age> ago, <age> left',
        '    batch 2 starts at <time> (gray time 10 s after batch 1)',
        '  Progress deadline: <age> left',
        '│ └─ biz1-<hash>-<id> biz1:0.0.2 Ready on virtual-node-base-<n> (base base 1.0.0)',
        'NAME READY STATUS RESTARTS AGE IP NODE',
        'biz1-<hash>-<id> 1/1 Running 0 <age> <ip> virtual-node-base-<n>',
        'biz1 ReplicaSet default/biz1-<hash> <age>',
      ].join('\n'),
    );
  });

  it('keeps everything else: words, numbers, versions, rollout names, the order of lines', () => {
    const text = [
      'biz1-r2   biz1   2   1/3   Holding   AwaitingConfirmation',
      'biz1-r2: confirmed up to batch 2 of 3',
      'virtual-node-base-1   Ready   <none>   v0.1.0-kmc   base   1.0.0',
    ].join('\n');
    const normalised = normalise(text);
    expect(normalised).toContain('biz1-r2 biz1 2 1/3 Holding AwaitingConfirmation');
    expect(normalised).toContain('confirmed up to batch 2 of 3');
    expect(normalised).toContain('Ready <none> v0.1.0-kmc base 1.0.0');
    expect(normalise('biz1-r2: Holding\nbiz1-r3: Completed')).not.toBe(
      normalise('biz1-r3: Completed\nbiz1-r2: Holding'),
    );
    expect(normalise('batch 2 of 3')).not.toBe(normalise('batch 3 of 3'));
  });

  it('maps only the whole namespace, and leaves `default` alone', () => {
    expect(namespaceAsDefault('ns-a/biz1 ns-ab ns-a', 'ns-a')).toBe('default/biz1 ns-ab default');
    expect(namespaceAsDefault('in default namespace', 'default')).toBe('in default namespace');
    expect(normalise('No resources found in ns-a namespace.\n\n', { namespace: 'ns-a' })).toBe(
      'No resources found in default namespace.',
    );
  });
});

describe('the tutorial manifests', () => {
  const load = async (path: string) =>
    parse(await readFile(new URL(`../../../examples/${path}`, import.meta.url), 'utf8')) as Manifest;

  it('are the corrected example with annotations and the env term; 0.0.2 differs by the module version only', async () => {
    const example = await load('manifests/module-deployment.yaml');
    const v1 = await load('tutorial/biz1.yaml');
    const v2 = await load('tutorial/biz1-0.0.2.yaml');
    expect(v1.metadata.annotations).toEqual({
      'rollout.koupleless.io/batch-count': '3',
      'rollout.koupleless.io/beta': 'true',
      'rollout.koupleless.io/need-confirm': 'each-batch',
      'rollout.koupleless.io/gray-seconds': '20',
    });
    const terms =
      v1.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
        .nodeSelectorTerms[0]?.matchExpressions;
    expect(terms?.at(-1)).toEqual({
      key: 'virtual-kubelet.koupleless.io/env',
      operator: 'In',
      values: ['dev'],
    });
    const stripped = structuredClone(v1);
    delete stripped.metadata.annotations;
    stripped.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]?.matchExpressions.pop();
    expect(stripped).toEqual(example);

    const bumped = JSON.parse(JSON.stringify(v1).replaceAll('0.0.1', '0.0.2')) as Manifest;
    expect(v2).toEqual(bumped);
    expect(JSON.stringify(v2)).not.toContain('0.0.1');
  });
});

interface Manifest {
  metadata: { annotations?: Record<string, string> };
  spec: {
    template: {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: { matchExpressions: Record<string, unknown>[] }[];
            };
          };
        };
      };
    };
  };
}
