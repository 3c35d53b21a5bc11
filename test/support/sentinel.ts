import type { V1Taint } from '@kubernetes/client-node';

/**
 * The sentinel: one Ready node in a zone of its own for the whole test run. With every node NotReady the
 * node-lifecycle controller enters "master disruption" mode and evicts nothing, so node-loss tests need one
 * healthy node elsewhere; its taint keeps every test pod off it.
 */
export const SENTINEL_NODE = 'kmc-sentinel';
export const SENTINEL_ZONE = 'kmc-sentinel-zone';
export const SENTINEL_TAINT: V1Taint = {
  key: 'kmc.koupleless.io/sentinel',
  value: 'true',
  effect: 'NoSchedule',
};
