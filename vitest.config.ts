import { defineConfig } from 'vitest/config';

/**
 * Four projects, by what a test needs:
 * - unit: pure logic, no I/O beyond the file system;
 * - wire: a real MQTT broker (aedes in-process, Debian's mosquitto), no Kubernetes;
 * - e2e: the real local control plane (one per run, started by the global setup), files in parallel;
 * - e2e-mosquitto: the core e2e files again, against Debian's mosquitto;
 * - e2e-serial: tests that change node health. Nodes are cluster-scoped and the node-lifecycle controller's
 *   zone rules depend on how many nodes are NotReady at once, so these run alone, after everything else.
 * The two cluster projects share one control plane (see test/support/global-setup.ts).
 */
const clusterSetup = ['test/support/global-setup.ts'];

export default defineConfig({
  test: {
    environment: 'node',
    reporters: ['default', './test/support/duration-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'wire',
          include: ['test/wire/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: clusterSetup,
          sequence: { groupOrder: 1 },
          maxWorkers: 2,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The core suite again, against Debian's mosquitto instead of the embedded aedes broker.
        extends: true,
        test: {
          name: 'e2e-mosquitto',
          include: [
            'test/e2e/module-release.test.ts',
            'test/e2e/module-update.test.ts',
            'test/e2e/module-workloads.test.ts',
            'test/e2e/module-pods.test.ts',
            'test/e2e/vnode.test.ts',
            'test/e2e/kmc-restart-ha.test.ts',
          ],
          env: { KMC_TEST_BROKER: 'mosquitto' },
          globalSetup: clusterSetup,
          sequence: { groupOrder: 1 },
          maxWorkers: 2,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e-serial',
          include: ['test/e2e-serial/**/*.test.ts'],
          globalSetup: clusterSetup,
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
