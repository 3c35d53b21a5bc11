/**
 * Small zod building blocks shared by the message and command schemas. Real bases omit null fields almost
 * everywhere but write them in simpleBiz, so "absent" is accepted in both spellings.
 */
import { z } from 'zod';

/** Absent or null → undefined. */
export function optional<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? undefined);
}

/** A string nobody relies on: absent, null or of a wrong type → undefined, so it never rejects a message. */
export const lenientText = z
  .string()
  .nullish()
  .catch(undefined)
  .transform((value) => value ?? undefined);

/** A string field fastjson omits when the base has no value for it: absent or null → ''. */
export const textOrEmpty = z
  .string()
  .nullish()
  .transform((value) => value ?? '');

/** Short description of what failed, for logs: the first few issues with their paths. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
