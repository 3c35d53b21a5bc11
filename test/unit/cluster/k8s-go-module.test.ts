import { describe, expect, it } from 'vitest';
import {
  parseKubernetesGoMod,
  renderWrapperGoMod,
  stagingVersionOf,
  versionLdflags,
} from '../../../core/cluster/k8s-go-module.ts';

const UPSTREAM = `module k8s.io/kubernetes

go 1.24.0

godebug default=go1.24

require (
	github.com/blang/semver/v4 v4.0.0
	go.etcd.io/etcd/client/v3 v3.5.21
	k8s.io/api v0.0.0
	k8s.io/apiserver v0.0.0
	k8s.io/utils v0.0.0-20241104100929-3ea5e8cea738
)

require (
	go.etcd.io/etcd/server/v3 v3.5.21 // indirect
	k8s.io/kms v0.0.0 // indirect
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/apiserver => ./staging/src/k8s.io/apiserver
	k8s.io/kms => ./staging/src/k8s.io/kms
)
`;

describe('building Kubernetes from the module proxy: go.mod derivation', () => {
  it('reads the go directive, godebug lines, staging modules and the etcd pin from upstream go.mod', () => {
    expect(parseKubernetesGoMod(UPSTREAM)).toEqual({
      goDirective: '1.24.0',
      godebugLines: ['godebug default=go1.24'],
      stagingModules: ['k8s.io/api', 'k8s.io/apiserver', 'k8s.io/kms'],
      etcdVersion: 'v3.5.21',
    });
  });

  it('does not take pseudo-versioned k8s.io modules (k8s.io/utils) for staging modules', () => {
    expect(parseKubernetesGoMod(UPSTREAM).stagingModules).not.toContain('k8s.io/utils');
  });

  it('refuses a go.mod without staging modules or an etcd pin, naming what is missing', () => {
    expect(() => parseKubernetesGoMod('module x\n\ngo 1.24.0\n')).toThrow(/no staging modules/);
    expect(() => parseKubernetesGoMod('module x\n\ngo 1.24.0\nrequire k8s.io/api v0.0.0\n')).toThrow(/etcd/);
  });

  it('maps v1.X.Y to staging version v0.X.Y and rejects non-release versions', () => {
    expect(stagingVersionOf('v1.33.13')).toBe('v0.33.13');
    expect(() => stagingVersionOf('v1.33.0-rc.1')).toThrow(/not a Kubernetes release version/);
  });

  it('writes a wrapper module that replaces every staging module (and the replace-only samples) at v0.X.Y', () => {
    const gomod = renderWrapperGoMod('v1.33.13', parseKubernetesGoMod(UPSTREAM));
    expect(gomod).toContain('go 1.24.0\n');
    expect(gomod).toContain('godebug default=go1.24\n');
    expect(gomod).toContain('require k8s.io/kubernetes v1.33.13\n');
    for (const module of ['k8s.io/api', 'k8s.io/apiserver', 'k8s.io/kms', 'k8s.io/sample-controller']) {
      expect(gomod).toContain(`\t${module} => ${module} v0.33.13\n`);
    }
  });

  it('stamps the version into both version packages so /version reports it', () => {
    const flags = versionLdflags('v1.33.13', '2026-11-22T00:00:00Z');
    for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
      expect(flags).toContain(`-X ${pkg}.gitVersion=v1.33.13`);
      expect(flags).toContain(`-X ${pkg}.gitMinor=33`);
    }
  });
});
