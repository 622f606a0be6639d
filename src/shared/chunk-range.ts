/**
 * A range of a table exported by one chunk job. Neutral (no SQL): the Postgres module
 * turns it into a WHERE clause, the queue carries it in job payloads.
 */
import { z } from 'zod';

const intText = z.string().regex(/^-?\d{1,20}$/);

/** Key ranges on a single-column integer primary key, or heap page (`ctid`) ranges. */
export const chunkRangeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('key'), column: z.string(), from: intText.nullable(), to: intText.nullable() }),
  z.object({ kind: z.literal('pages'), from: z.number().int().nonnegative(), to: z.number().int().positive().nullable() }),
]);
/** `from` inclusive, `to` exclusive; `null` is unbounded. */
export type ChunkRange = z.infer<typeof chunkRangeSchema>;

