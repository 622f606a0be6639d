/**
 * How one array column is stored, decided once per export from the values in its snapshot
 * and carried to every range of a chunked export, so all files of a run agree.
 */

/** A LIST nested `dims` deep, or the Postgres text form with the reason. */
export type ArrayLayout = { dims: number } | { text: string };

/** Layout per array column, by exact column name. */
export type ArrayLayouts = Record<string, ArrayLayout>;
