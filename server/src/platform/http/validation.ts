import type { z } from 'zod';

import { ValidationError } from '../errors.ts';

/** Field-level details of a zod failure, safe to return to the caller. */
export function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/** Parses untrusted input at a boundary, turning failure into a 400 with field details. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationError(`Invalid ${what}`, zodIssues(result.error));
  }
  return result.data;
}
