/**
 * zod schemas of the `data` of each base → controller message (koupleless-protocol.md §1.5). They accept what
 * real bases send: unknown fields are dropped, null and absent are the same, states and codes are kept as the
 * raw strings (in any case). Only what a controller acts on is required.
 */
import { z } from 'zod';
import { JVM_KEYS, type BaseMessageData } from './messages.ts';
import type { BaseMessageKind } from './topics.ts';
import { lenientText, optional, textOrEmpty } from './zod-helpers.ts';

const integer = z.number().int();

const baseMetadataSchema = z.object({
  // the node name is built from this, so it must be there
  identity: z.string().min(1),
  // runtime 1.4.0 sends no name in queryBaseline; a custom metadata hook may return null for any of these
  name: textOrEmpty,
  version: textOrEmpty,
  clusterName: textOrEmpty,
});

const baseStatusSchema = z.object({
  baseMetadata: baseMetadataSchema,
  localIP: textOrEmpty,
  localHostName: textOrEmpty,
  port: integer.nullish().transform((port) => port ?? 0),
  state: z.string(),
});

const stateRecordSchema = z.object({
  // a record without a time is treated like the upstream controller does: time 0, i.e. "use publishTimestamp"
  changeTime: integer.nullish().transform((time) => time ?? 0),
  state: z.string(),
  reason: z.string().nullish(),
  message: z.string().nullish(),
});

const simpleBizInfoSchema = z.object({
  name: z.string().min(1),
  version: textOrEmpty,
  state: z.string(),
  latestStateRecord: stateRecordSchema.nullish().transform((record) => record ?? null),
});

const bizInfoSchema = z.object({
  bizName: z.string(),
  bizVersion: z.string(),
  bizState: z.string(),
  mainClass: lenientText,
  webContextPath: lenientText,
});

const clientResponseSchema = z.object({
  code: z.string(),
  message: z.string().nullish(),
  bizInfos: optional(z.array(bizInfoSchema)),
  // metaspace growth during an install; negative when a GC ran meanwhile
  elapsedSpace: optional(z.number()),
});

function arkletOutput<T extends z.ZodType>(data: T) {
  return z.object({
    code: z.string().min(1),
    data: optional(data),
    message: z.string().nullish(),
  });
}

const bizOperationSchema = z.object({
  command: z.string().min(1),
  bizName: lenientText,
  bizVersion: lenientText,
  response: arkletOutput(clientResponseSchema),
});

const batchInstallResultSchema = z.object({
  // entries from arklet's exception path carry only {code, message}: no bizInfos (§1.5 T4)
  bizUrlToResponse: optional(z.record(z.string(), clientResponseSchema)),
  code: lenientText,
  elapsedSpace: optional(z.number()),
  message: z.string().nullish(),
});

const batchInstallBizResponseSchema = z.object({
  command: z.string().min(1),
  response: arkletOutput(batchInstallResultSchema),
});

const figures = z
  .record(z.string(), z.union([z.number(), z.string(), z.null()]))
  .transform(
    (map) =>
      Object.fromEntries(Object.entries(map).filter(([, value]) => value !== null)) as Record<
        string,
        number | string
      >,
  );

const METASPACE_KEYS = [JVM_KEYS.maxMetaspace, JVM_KEYS.committedMetaspace, JVM_KEYS.usedMetaspace];

// node memory is computed from these, so a present one must be a number
const jvmFigures = figures.superRefine((jvm, context) => {
  for (const key of METASPACE_KEYS) {
    if (key in jvm && typeof jvm[key] !== 'number') {
      context.addIssue({ code: 'custom', message: `"${key}" must be a number`, path: [key] });
    }
  }
});

const bizHealthInfoSchema = z.object({
  bizName: z.string(),
  bizState: z.string(),
  bizVersion: z.string(),
  webContextPath: lenientText,
});

const healthDataSchema = z.object({
  jvm: optional(jvmFigures),
  cpu: optional(figures),
  masterBizInfo: optional(bizHealthInfoSchema),
  bizListInfo: optional(z.array(bizHealthInfoSchema)),
  pluginListInfo: optional(z.array(z.record(z.string(), z.unknown()))),
});

const healthResponseSchema = arkletOutput(z.object({ healthData: optional(healthDataSchema) }));

const arkBizInfoSchema = z.object({
  bizName: z.string(),
  bizState: z.string(),
  bizVersion: z.string(),
  mainClass: lenientText,
  webContextPath: lenientText,
  bizStateRecords: optional(z.array(stateRecordSchema)),
});

const queryAllBizResponseSchema = arkletOutput(z.array(arkBizInfoSchema));

/** The schema of `data` for each kind; the annotation checks that each one produces the type in messages.ts. */
export const BASE_MESSAGE_SCHEMAS: { readonly [K in BaseMessageKind]: z.ZodType<BaseMessageData[K]> } = {
  heart: baseStatusSchema,
  queryBaseline: baseMetadataSchema,
  health: healthResponseSchema,
  simpleBiz: z.array(simpleBizInfoSchema),
  biz: queryAllBizResponseSchema,
  bizOperation: bizOperationSchema,
  batchInstallBizResponse: batchInstallBizResponseSchema,
};

/** The envelope around every base → controller message. `data` is checked per kind afterwards. */
export const envelopeSchema = z.object({
  publishTimestamp: integer.nonnegative(),
  // absent data is judged by the kind's schema, after the age check
  data: z.unknown().optional(),
});
