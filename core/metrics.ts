import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerObserver } from './controller/controller.ts';

/**
 * Every metric kmc exports, on a registry of its own (not prom-client's global one, so two orchestrators in one
 * process — tests — stay apart). Controller and work-queue names follow controller-runtime's, so existing
 * dashboards work.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'kmc_' });
  const registers = [registry];
  return {
    registry,
    tunnelMessages: new Counter({
      name: 'kmc_tunnel_messages_total',
      help: 'MQTT messages handled, by direction (in: from bases, out: commands) and kind',
      labelNames: ['direction', 'kind'] as const,
      registers,
    }),
    tunnelDropped: new Counter({
      name: 'kmc_tunnel_dropped_messages_total',
      help: 'Messages from bases that were dropped, by reason (empty, oversized, unparsable, stale, invalid-shape, invalid-topic, unknown-base, ...)',
      labelNames: ['reason', 'kind'] as const,
      registers,
    }),
    tunnelConnected: new Gauge({
      name: 'kmc_tunnel_connected',
      help: '1 while connected to the MQTT broker',
      registers,
    }),
    bases: new Gauge({
      name: 'kmc_bases',
      help: 'Bases known to this controller, by node readiness',
      labelNames: ['ready'] as const,
      registers,
    }),
    rejectedBases: new Counter({
      name: 'kmc_rejected_bases_total',
      help: 'Heartbeats refused: a base id that cannot be a node name, or a node name claimed by another base',
      labelNames: ['reason'] as const,
      registers,
    }),
    installs: new Counter({
      name: 'kmc_module_installs_total',
      help: 'installBiz commands sent and their outcome',
      labelNames: ['result'] as const,
      registers,
    }),
    uninstalls: new Counter({
      name: 'kmc_module_uninstalls_total',
      help: 'uninstallBiz commands sent and their outcome',
      labelNames: ['result'] as const,
      registers,
    }),
    reportToStatus: new Histogram({
      name: 'kmc_report_to_status_seconds',
      help: 'From a base report arriving to the pod status written from it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    apiWrites: new Counter({
      name: 'kmc_api_writes_total',
      help: 'Writes to the Kubernetes API, by resource and verb',
      labelNames: ['resource', 'verb'] as const,
      registers,
    }),
    reconciles: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Reconciles per controller and result',
      labelNames: ['controller', 'result'] as const,
      registers,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Reconcile duration per controller',
      labelNames: ['controller'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'workqueue_depth',
      help: 'Keys waiting in a work queue',
      labelNames: ['name'] as const,
      registers,
    }),
    leader: new Gauge({
      name: 'leader_election_master_status',
      help: '1 while this replica leads',
      labelNames: ['name'] as const,
      registers,
    }),
    pluginErrors: new Counter({
      name: 'kmc_plugin_errors_total',
      help: 'Taps that threw, by plugin and hook',
      labelNames: ['plugin', 'hook'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** A controller's reconciles, their time and its queue depth, in kmc's metrics (controller-runtime's names). */
export function controllerObserver(metrics: Metrics): ControllerObserver {
  return {
    reconciled: (controller, result, ms) => {
      metrics.reconciles.inc({ controller, result });
      metrics.reconcileTime.observe({ controller }, ms / 1000);
    },
    depth: (controller, depth) => {
      metrics.queueDepth.set({ name: controller }, depth);
    },
  };
}
