import type { V1Container, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  INSTALL_HELD,
  MODULE_POD_LABELS,
  heldCondition,
  isAdmitted,
  isDisrupted,
  isJarUrl,
  isModulePod,
  moduleKey,
  parseModuleKey,
  podKey,
  podModules,
} from '../../../core/module/module-pod.ts';

const JAR = 'https://repo.example/biz1-1.0.0-ark-biz.jar';

function podWithLabels(labels: Record<string, string> | undefined): V1Pod {
  return { metadata: { name: 'p', namespace: 'ns', ...(labels ? { labels } : {}) } };
}

function container(name: string, image: string | undefined, bizVersion?: string): V1Container {
  return {
    name,
    ...(image === undefined ? {} : { image }),
    ...(bizVersion === undefined ? {} : { env: [{ name: 'BIZ_VERSION', value: bizVersion }] }),
  };
}

function podWithContainers(...containers: V1Container[]): V1Pod {
  return { metadata: { name: 'p', namespace: 'ns' }, spec: { containers } };
}

function podWithConditions(...conditions: V1PodCondition[]): V1Pod {
  return { metadata: { name: 'p', namespace: 'ns' }, status: { conditions } };
}

describe('isModulePod', () => {
  it.each(MODULE_POD_LABELS)('recognises a pod labelled %s=module', (label) => {
    expect(isModulePod(podWithLabels({ [label]: 'module' }))).toBe(true);
  });

  it('accepts the canonical label and the virtual-kubelet alias', () => {
    expect(MODULE_POD_LABELS).toEqual([
      'module-controller.koupleless.io/component',
      'virtual-kubelet.koupleless.io/component',
    ]);
  });

  it('does not take a pod whose component label has another value for a module pod', () => {
    expect(
      isModulePod(podWithLabels({ 'module-controller.koupleless.io/component': 'module-deployment' })),
    ).toBe(false);
    expect(isModulePod(podWithLabels({ 'virtual-kubelet.koupleless.io/component': 'vnode' }))).toBe(false);
  });

  it('does not take a pod without labels (or without metadata) for a module pod', () => {
    expect(isModulePod(podWithLabels(undefined))).toBe(false);
    expect(isModulePod(podWithLabels({ app: 'x' }))).toBe(false);
    expect(isModulePod({})).toBe(false);
  });
});

describe('isJarUrl', () => {
  it.each([
    'https://repo.example/biz1-1.0.0-ark-biz.jar',
    'http://repo.example/biz1.jar',
    'file:///opt/modules/biz1.jar',
    'HTTPS://REPO.EXAMPLE/BIZ1.JAR',
    'https://repo.example/biz1.jar?token=abc',
    'https://repo.example/biz1.jar#sha256=00',
  ])('accepts %s', (url) => {
    expect(isJarUrl(url)).toBe(true);
  });

  it.each([
    ['a container image', 'nginx:1.27'],
    ['an image reference that ends in .jar', 'registry.example/biz1.jar'],
    ['a URL that names no jar', 'https://repo.example/biz1.zip'],
    ['a URL with .jar only inside the path', 'https://repo.example/biz1.jar/readme'],
    ['an ftp URL', 'ftp://repo.example/biz1.jar'],
    ['a URL with a space', 'https://repo.example/my biz.jar'],
    ['an empty string', ''],
  ])('refuses %s', (_what, url) => {
    expect(isJarUrl(url)).toBe(false);
  });
});

describe('podModules', () => {
  it('reads one module per container: name = bizName, image = bizUrl, env BIZ_VERSION = bizVersion', () => {
    const pod = podWithContainers(
      container('biz1', JAR, '1.0.0'),
      container('biz2', 'file:///opt/biz2.jar', '2.0.0'),
    );
    expect(podModules(pod)).toEqual({
      ok: true,
      modules: [
        { bizName: 'biz1', bizVersion: '1.0.0', bizUrl: JAR },
        { bizName: 'biz2', bizVersion: '2.0.0', bizUrl: 'file:///opt/biz2.jar' },
      ],
    });
  });

  it('refuses a container whose image is not a jar URL with InvalidModuleImage, keeping the valid modules', () => {
    const pod = podWithContainers(container('biz1', JAR, '1.0.0'), container('sidecar', 'nginx:1.27', '1'));
    const parsed = podModules(pod);
    expect(parsed.ok).toBe(false);
    expect(parsed.modules).toEqual([{ bizName: 'biz1', bizVersion: '1.0.0', bizUrl: JAR }]);
    if (parsed.ok) return;
    expect(parsed.invalid.map((bad) => [bad.container, bad.reason])).toEqual([
      ['sidecar', 'InvalidModuleImage'],
    ]);
    expect(parsed.invalid[0]?.message).toContain('"nginx:1.27"');
  });

  it('treats a container without an image as an invalid module image', () => {
    const parsed = podModules(podWithContainers(container('biz1', undefined, '1.0.0')));
    expect(parsed).toMatchObject({
      ok: false,
      invalid: [{ container: 'biz1', reason: 'InvalidModuleImage' }],
    });
  });

  it('refuses a jar container without BIZ_VERSION (or with an empty one) with MissingBizVersion', () => {
    const parsed = podModules(
      podWithContainers(container('biz1', JAR), container('biz2', JAR, ''), {
        name: 'biz3',
        image: JAR,
        env: [{ name: 'OTHER', value: '1' }],
      }),
    );
    expect(parsed).toMatchObject({
      ok: false,
      modules: [],
      invalid: [
        { container: 'biz1', reason: 'MissingBizVersion' },
        { container: 'biz2', reason: 'MissingBizVersion' },
        { container: 'biz3', reason: 'MissingBizVersion' },
      ],
    });
    if (!parsed.ok) expect(parsed.invalid[0]?.message).toContain('BIZ_VERSION');
  });

  it('gives a pod without a spec no modules and no invalid containers', () => {
    expect(podModules({ metadata: { name: 'p' } })).toEqual({ ok: true, modules: [] });
  });
});

describe('moduleKey and parseModuleKey', () => {
  it('join name and version with a colon', () => {
    expect(moduleKey('biz1', '1.0.0')).toBe('biz1:1.0.0');
  });

  it.each([
    ['biz1', '1.0.0'],
    ['biz1', '1.0.0-SNAPSHOT'],
    ['biz-with.dots', '2024.10.01+build.7'],
    ['biz1', ''],
  ])('round-trip %s / %s', (bizName, bizVersion) => {
    expect(parseModuleKey(moduleKey(bizName, bizVersion))).toEqual({ bizName, bizVersion });
  });

  // A bizName is a container name (a DNS label): it never holds a colon, a version may.

  it('round-trip a version that contains a colon', () => {
    expect(parseModuleKey(moduleKey('biz1', '1.0.0:rc1'))).toEqual({
      bizName: 'biz1',
      bizVersion: '1.0.0:rc1',
    });
  });
});

describe('podKey', () => {
  it('is namespace/name', () => {
    expect(podKey({ metadata: { namespace: 'ns', name: 'p' } })).toBe('ns/p');
  });
});

describe('isAdmitted and heldCondition', () => {
  it('count a pod whose InstallHeld condition is False as admitted', () => {
    const pod = podWithConditions({ type: INSTALL_HELD, status: 'False', reason: 'Admitted' });
    expect(isAdmitted(pod)).toBe(true);
    expect(heldCondition(pod)).toBeUndefined();
  });

  it('count a pod whose InstallHeld condition is True as held, with its reason and message', () => {
    const pod = podWithConditions({
      type: INSTALL_HELD,
      status: 'True',
      reason: 'BatchFull',
      message: 'batch 1 is full',
    });
    expect(isAdmitted(pod)).toBe(false);
    expect(heldCondition(pod)).toEqual({ reason: 'BatchFull', message: 'batch 1 is full' });
  });

  it('count a pod without the condition as neither admitted nor held', () => {
    const pod = podWithConditions({ type: 'Ready', status: 'False' });
    expect(isAdmitted(pod)).toBe(false);
    expect(heldCondition(pod)).toBeUndefined();
    expect(isAdmitted({})).toBe(false);
  });

  it('give a held condition without reason or message empty strings', () => {
    expect(heldCondition(podWithConditions({ type: INSTALL_HELD, status: 'True' }))).toEqual({
      reason: '',
      message: '',
    });
  });
});

describe('isDisrupted', () => {
  it('is true for a pod with DisruptionTarget=True (taint manager or Eviction API)', () => {
    expect(
      isDisrupted(
        podWithConditions({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }),
      ),
    ).toBe(true);
  });

  it('is false for DisruptionTarget=False and for pods without the condition', () => {
    expect(isDisrupted(podWithConditions({ type: 'DisruptionTarget', status: 'False' }))).toBe(false);
    expect(isDisrupted(podWithConditions({ type: 'Ready', status: 'True' }))).toBe(false);
    expect(isDisrupted({})).toBe(false);
  });
});
