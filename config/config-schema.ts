import { z } from 'zod';
import { parseLabelSelector } from '../core/kube/label-selector.ts';

function isLabelSelector(text: string): boolean {
  try {
    parseLabelSelector(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The configuration vocabulary (ARCHITECTURE §3.6), with defaults. One schema, so validation messages, the
 * defaults and the generated reference cannot drift apart. Durations are in seconds, as Kubernetes writes them.
 */

const seconds = (description: string, value: number) =>
  z.number().positive().default(value).describe(description);

/** One topic level: the env is the `<env>` of `koupleless_<env>/...`. */
const envSchema = z
  .string()
  .regex(/^[^/+#\s]+$/, 'must be one MQTT topic level: no "/", "+", "#" or spaces')
  .default('dev')
  .describe('Topic env: bases publish under koupleless_<env>/. Stock bases use "default".');

const tlsSchema = z
  .object({
    ca: z.string().optional().describe('PEM file of the CA that signed the broker certificate (verified).'),
    cert: z.string().optional().describe('PEM client certificate, for brokers that require one.'),
    key: z.string().optional().describe('PEM key of the client certificate.'),
  })
  .strict();

const mqttSchema = z
  .object({
    url: z
      .string()
      .regex(
        /^(mqtts?|wss?|tcp|ssl):\/\/.+/,
        'must be a broker URL such as mqtt://host:1883 or mqtts://host:8883',
      )
      .optional()
      .describe('Broker URL. Leave out to run the embedded broker (in-process aedes).'),
    username: z.string().optional().describe('Broker user name.'),
    password: z
      .string()
      .optional()
      .describe('Prefer passwordFile: a file path keeps the secret out of the config.'),
    passwordFile: z
      .string()
      .optional()
      .describe('File whose content (trimmed) is the password, e.g. a mounted Secret.'),
    tls: tlsSchema.optional(),
    clientIdPrefix: z
      .string()
      .min(1)
      .default('kmc')
      .describe('MQTT client id prefix: <prefix>@@@<replica identity>.'),
    keepaliveSeconds: seconds('MQTT keepalive.', 60),
    lossGraceSeconds: seconds(
      'After losing the broker, nodes keep their state this long: broker loss is not base loss.',
      120,
    ),
    maxPayloadBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024)
      .describe('Larger messages are dropped.'),
    maxMessageAgeSeconds: seconds('Heartbeats and reports older than this are dropped as stale.', 10),
    embedded: z
      .object({
        host: z.string().default('127.0.0.1').describe('Address the embedded broker listens on.'),
        port: z.number().int().min(0).max(65535).default(1883).describe('0 picks a free port.'),
      })
      .strict()
      .prefault({})
      .describe('The embedded broker, used when no url is given.'),
  })
  .strict()
  .prefault({});

const watchSchema = z
  .object({
    namespaces: z
      .array(z.string().min(1))
      .default([])
      .describe('Namespaces whose workloads kmc serves; empty = all.'),
    deploymentSelector: z
      .string()
      .default('')
      .refine(isLabelSelector, { message: 'not a label selector (e.g. "app=biz1,tier in (a,b)")' })
      .describe(
        'Label selector for the Deployments kmc manages as rollouts (rollout retention now, batching later); ' +
          'empty = every module Deployment. Others roll natively.',
      ),
  })
  .strict()
  .prefault({});

const basesSchema = z
  .object({
    silenceSeconds: seconds(
      'A base not heard for this long turns its node NotReady (three missed heartbeats).',
      30,
    ),
    deleteAfterSeconds: seconds('A node whose base stayed silent this long is deleted.', 3600),
    leaseRenewSeconds: seconds('Node Lease renewal period (kubelet-like).', 10),
    statusRefreshSeconds: seconds(
      'Node status is rewritten at least this often, with a fresh heartbeat time.',
      60,
    ),
    healthPollSeconds: seconds('How often bases are asked for health.', 10),
    bizPollSeconds: seconds('How often bases are asked for their module list.', 15),
    zone: z
      .string()
      .optional()
      .describe('topology.kubernetes.io/zone label for every VNode (none by default).'),
    stack: z.string().default('java').describe('base.koupleless.io/stack label.'),
    capacity: z
      .object({
        pods: z
          .number()
          .int()
          .min(0)
          .default(110)
          .describe(
            'Module cap: allocatable pods of every VNode, unless scheduler.maxModulesPerBase says otherwise.',
          ),
        cpu: z.string().default('1000').describe('Allocatable cpu of every VNode (a Kubernetes quantity).'),
        memory: z.string().default('1Ti').describe('Used until a base reports a metaspace limit.'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const leaderElectionSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Run for a leader Lease; only the leader acts.'),
    namespace: z
      .string()
      .optional()
      .describe('Namespace of the leader Lease; default: the pod namespace, else default.'),
    name: z.string().optional().describe('Lease name; default kmc-<env>.'),
    leaseSeconds: seconds(
      'Well inside the node-monitor grace, so a failover never looks like dead bases.',
      8,
    ),
    renewDeadlineSeconds: seconds('A leader that cannot renew this long stops leading.', 5),
    retrySeconds: seconds('Between attempts.', 1),
  })
  .strict()
  .refine((value) => value.renewDeadlineSeconds < value.leaseSeconds, {
    message: 'renewDeadlineSeconds must be less than leaseSeconds',
    path: ['renewDeadlineSeconds'],
  })
  .prefault({});

const serverSchema = z
  .object({
    host: z.string().default('0.0.0.0').describe('Address the health and metrics server listens on.'),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(8080)
      .describe('/healthz, /readyz and /metrics; 0 = any free port.'),
  })
  .strict()
  .prefault({});

const moduleCount = z.number().int().min(0);

const schedulerSchema = z
  .object({
    maxModulesPerBase: z
      .union([
        moduleCount,
        z
          .object({
            default: moduleCount
              .optional()
              .describe('Every base not named below; bases.capacity.pods when left out.'),
            byBaseName: z
              .record(z.string().min(1), moduleCount)
              .optional()
              .describe(
                'By the base name the base reports (label base.koupleless.io/name); wins over byClusterName.',
              ),
            byClusterName: z
              .record(z.string().min(1), moduleCount)
              .optional()
              .describe('By the cluster name the base reports (label base.koupleless.io/cluster-name).'),
          })
          .strict(),
      ])
      .optional()
      .describe(
        "Module cap per base (v1 max-module-count), published as the node's allocatable pods: every scheduler " +
          'respects it and kmc refuses pods bound beyond it. A number, or { default, byBaseName, byClusterName }.',
      ),
  })
  .strict()
  .describe(
    'Placement of module pods: the module cap. The scheduler plugin has the policy (scatter, stacking).',
  );

/** A plugin: a built-in name or a path / package name, alone or with options. TS configs may pass instances. */
const pluginEntrySchema = z.union([
  z.string().min(1),
  z.tuple([z.string().min(1), z.unknown()]),
  z.custom<{ apply: (...args: never[]) => unknown }>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { apply?: unknown }).apply === 'function',
    { message: 'expected a plugin name, [name, options], or a plugin object with apply()' },
  ),
]);

export const configSchema = z
  .object({
    env: envSchema,
    mqtt: mqttSchema,
    watch: watchSchema,
    bases: basesSchema,
    leaderElection: leaderElectionSchema,
    retention: z
      .object({ maxSeconds: seconds('Upper bound of a retention (an Event when reached).', 3600) })
      .strict()
      .prefault({}),
    rollout: z
      .object({
        batchFirstInstall: z.boolean().default(false).describe('Batch first installs too.'),
        undo: z.enum(['fast', 'batched']).default('fast').describe('How kubectl rollout undo rolls back.'),
      })
      .strict()
      .prefault({}),
    scheduler: schedulerSchema.optional(),
    server: serverSchema,
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('JSON logs on stdout from this level up.'),
      })
      .strict()
      .prefault({}),
    plugins: z
      .array(pluginEntrySchema)
      .default([])
      .describe(
        'Plugins in order: built-in names, [name, options], paths (relative to the config file) or package names.',
      ),
  })
  .strict();

/** What users write (everything optional). */
export type UserConfig = z.input<typeof configSchema>;
/** What kmc runs with (defaults filled in). */
export type KmcConfig = z.output<typeof configSchema>;
export type PluginEntry = KmcConfig['plugins'][number];
