/**
 * docs/config-reference.md, generated from the zod schema (config/config-schema.ts) through its JSON Schema:
 * every option with its type, default, description and an example. The descriptions and defaults are the
 * schema's own, so the reference cannot drift from what `kmc validate` accepts; a unit test fails when the
 * committed file differs from what this renders (`npm run generate` rewrites it).
 */
import { Document, isNode, isSeq, parse, stringify, visit } from 'yaml';
import { z } from 'zod';
import { configSchema } from '../config/config-schema.ts';

interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
}

/** One documented option: a leaf of the schema. */
export interface ConfigOption {
  readonly path: string;
  readonly type: string;
  /** The default as YAML text, or undefined when the option has none. */
  readonly defaultText: string | undefined;
  readonly description: string;
  /** An example value (YAML-serialisable). */
  readonly example: unknown;
}

/**
 * Example values, by option path. An option missing here gets its default as the example (or a value of its
 * type), so a new option is documented at once; a curated one reads better.
 */
const EXAMPLES: Readonly<Record<string, unknown>> = {
  env: 'default',
  'mqtt.url': 'mqtts://mqtt-broker.mqtt.svc:8883',
  'mqtt.username': 'kmc',
  'mqtt.password': 'change-me',
  'mqtt.passwordFile': '/etc/kmc/mqtt/password',
  'mqtt.tls.ca': '/etc/kmc/mqtt-tls/ca.crt',
  'mqtt.tls.cert': '/etc/kmc/mqtt-tls/tls.crt',
  'mqtt.tls.key': '/etc/kmc/mqtt-tls/tls.key',
  'mqtt.clientIdPrefix': 'kmc-prod',
  'mqtt.keepaliveSeconds': 30,
  'mqtt.lossGraceSeconds': 300,
  'mqtt.maxPayloadBytes': 4194304,
  'mqtt.maxMessageAgeSeconds': 30,
  'mqtt.embedded.host': '0.0.0.0',
  'mqtt.embedded.port': 11883,
  'watch.namespaces': ['team-a', 'team-b'],
  'watch.deploymentSelector': 'rollout.koupleless.io/managed=true',
  'bases.silenceSeconds': 45,
  'bases.deleteAfterSeconds': 86400,
  'bases.leaseRenewSeconds': 10,
  'bases.statusRefreshSeconds': 60,
  'bases.healthPollSeconds': 20,
  'bases.bizPollSeconds': 30,
  'bases.zone': 'zone-a',
  'bases.stack': 'java',
  'bases.capacity.pods': 30,
  'bases.capacity.cpu': '64',
  'bases.capacity.memory': '16Gi',
  'leaderElection.enabled': true,
  'leaderElection.namespace': 'kmc-system',
  'leaderElection.name': 'kmc-prod',
  'leaderElection.leaseSeconds': 15,
  'leaderElection.renewDeadlineSeconds': 10,
  'leaderElection.retrySeconds': 2,
  'retention.maxSeconds': 7200,
  'rollout.batchFirstInstall': true,
  'rollout.undo': 'batched',
  'server.host': '0.0.0.0',
  'server.port': 9090,
  'log.level': 'debug',
  plugins: [['batches', { batchCount: 3 }], 'beta-first', ['pause-and-confirm', { after: 'each-batch' }]],
};

/** Type texts the JSON Schema cannot say well. */
const TYPE_OVERRIDES: Readonly<Record<string, string>> = {
  plugins: 'list of plugin entries: `name`, `[name, options]` or (TypeScript configs) a plugin object',
};

/** Section introductions, by top-level key. */
const SECTIONS: Readonly<Record<string, string>> = {
  env: 'The env names the topic prefix `koupleless_<env>/` bases and kmc talk under.',
  mqtt:
    'The broker. Without `url`, kmc runs an embedded broker in its own process (development and the ' +
    'playground; not for several replicas). TLS always verifies the broker certificate: against `tls.ca` when ' +
    'given, else against the system CAs.',
  watch: 'What kmc serves. Give the namespaced RBAC variant the same namespaces (docs/install.md).',
  bases: 'How bases become nodes, and the timers of their life cycle.',
  leaderElection: 'One active replica at a time; the others wait on the Lease.',
  retention: 'Modules kept installed after their pod went away (rollouts, evictions).',
  rollout: 'Release behaviour not owned by a strategy plugin (docs/rollouts.md).',
  server: 'The HTTP server for `/healthz`, `/readyz` and `/metrics`.',
  log: 'Logging.',
  plugins: 'Release strategy and other plugins (docs/rollouts.md, docs/plugins.md).',
};

function jsonSchema(): JsonSchema {
  // The plugin object form is a z.custom (TypeScript configs only): it has no JSON Schema and shows as "any".
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

function typeText(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' | ');
  if (schema.anyOf) return schema.anyOf.map(typeText).join(' or ');
  switch (schema.type) {
    case 'number':
    case 'integer': {
      const bounds: string[] = [];
      if (schema.exclusiveMinimum !== undefined) bounds.push(`> ${String(schema.exclusiveMinimum)}`);
      if (schema.minimum !== undefined && schema.maximum !== undefined && schema.maximum < 2 ** 53 - 1) {
        bounds.push(`${String(schema.minimum)}–${String(schema.maximum)}`);
      } else if (schema.minimum !== undefined) {
        bounds.push(`≥ ${String(schema.minimum)}`);
      }
      return [schema.type, ...bounds].join(' ');
    }
    case 'array':
      if (schema.prefixItems) return `[${schema.prefixItems.map(typeText).join(', ')}]`;
      return schema.items ? `list of ${typeText(schema.items)}s` : 'list';
    case 'string':
      return schema.minLength ? 'non-empty string' : 'string';
    case undefined:
      return 'any';
    default:
      return schema.type;
  }
}

function exampleOf(path: string, schema: JsonSchema): unknown {
  if (path in EXAMPLES) return EXAMPLES[path];
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.[0] !== undefined) return schema.enum[0];
  const [first] = schema.anyOf ?? [];
  if (first) return exampleOf(path, first);
  if (schema.type === 'number' || schema.type === 'integer') return 1;
  if (schema.type === 'boolean') return true;
  if (schema.type === 'array') return [];
  return 'value';
}

/** Every leaf option of the schema, depth first in declaration order. */
export function configOptions(): ConfigOption[] {
  const options: ConfigOption[] = [];
  const visit = (prefix: string, schema: JsonSchema) => {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (child.type === 'object' && child.properties) {
        visit(path, child);
        continue;
      }
      options.push({
        path,
        type: TYPE_OVERRIDES[path] ?? typeText(child),
        defaultText: child.default === undefined ? undefined : JSON.stringify(child.default),
        description: child.description ?? '',
        example: exampleOf(path, child),
      });
    }
  };
  visit('', jsonSchema());
  return options;
}

/** Paths with a curated example that the schema no longer has (a test keeps this empty). */
export function staleExamplePaths(): string[] {
  const paths = new Set(configOptions().map((option) => option.path));
  return Object.keys(EXAMPLES).filter((path) => !paths.has(path));
}

/** A config object with every option set to its example (validated by a test). */
export function exampleConfig(): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const option of configOptions()) {
    const keys = option.path.split('.');
    let node = config;
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[keys.at(-1) ?? ''] = option.example;
  }
  // A config names one password source and one broker: the embedded broker is for configs without a url.
  const mqtt = config['mqtt'] as Record<string, unknown>;
  delete mqtt['password'];
  delete mqtt['embedded'];
  return config;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const inlineYaml = (value: unknown) =>
  `\`${stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 })
    .trim()
    .replaceAll('|', '\\|')}\``;

/** The example config as YAML, plugin entries in flow style (`[batches, {batchCount: 3}]`) as people write them. */
function exampleYaml(): string {
  const document = new Document(exampleConfig());
  const plugins = document.get('plugins');
  if (isSeq(plugins)) {
    for (const entry of plugins.items) {
      if (!isNode(entry)) continue;
      visit(entry, {
        Collection(_, node) {
          node.flow = true;
        },
      });
    }
  }
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

export function renderConfigReference(): string {
  const options = configOptions();
  const sections = new Map<string, ConfigOption[]>();
  for (const option of options) {
    const top = option.path.split('.')[0] ?? option.path;
    sections.set(top, [...(sections.get(top) ?? []), option]);
  }
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from config/config-schema.ts by `npm run generate`; edit the schema, not this file. -->',
    '',
    'kmc reads one file: `--config <file>`, or the first of `koupleless.config.{ts,js,mjs,json,yaml,yml}`,',
    '`.kouplelessrc*` or the `koupleless` key of `package.json` found from the working directory up. Every option is',
    'optional; unknown keys are errors. Durations are in seconds. `npm run kmc -- validate --config <file>` checks a',
    'file and every plugin option without touching a cluster. In the cluster the file comes from the `kmc-config`',
    'ConfigMap (docs/install.md). Plugin options are in docs/rollouts.md.',
    '',
  ];
  for (const [section, list] of sections) {
    lines.push(`## \`${section}\``, '');
    if (SECTIONS[section]) lines.push(SECTIONS[section], '');
    lines.push('| option | type | default | description | example |', '|---|---|---|---|---|');
    for (const option of list) {
      lines.push(
        `| \`${option.path}\` | ${cell(option.type)} | ${
          option.defaultText === undefined ? '—' : `\`${cell(option.defaultText)}\``
        } | ${cell(option.description)} | ${inlineYaml(option.example)} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '## Every option at once',
    '',
    'Each option set to its example (one password source, no embedded broker since `mqtt.url` is set):',
    '',
    '```yaml',
    exampleYaml().trimEnd(),
    '```',
    '',
  );
  return lines.join('\n');
}

/** The YAML block of the rendered reference, parsed (what the test validates). */
export function exampleFromReference(markdown: string): unknown {
  const match = /```yaml\n([\s\S]*?)```/.exec(markdown);
  return match?.[1] === undefined ? undefined : parse(match[1]);
}
