/**
 * The lake-sized-files check: every Parquet file of a run at least `minBytes`, except the
 * last file of each range (a range's remainder), so a table or range smaller than that is
 * one file.
 *
 * Files whose keys differ only in their last number belong to one range, in the order of
 * that number: `part-00002-00000.parquet`, `part-00002-00001.parquet` are files 0 and 1 of
 * range 2; `part-00000.parquet`, `part-00001.parquet` files of the single range of an
 * unsplit table.
 */
export interface OutputFile {
  key: string;
  bytes: number;
}

export interface FileSizeCheck {
  files: number;
  ranges: number;
  minBytes: number;
  /** Files under `minBytes` that are not the last of their range. */
  undersized: OutputFile[];
  /** Size of each file, bytes, in key order. */
  sizes: number[];
}

const LAST_NUMBER = /(\d+)(?!.*\d)/;

function rangeKey(key: string): { range: string; index: number } {
  const m = LAST_NUMBER.exec(key);
  return m ? { range: key.slice(0, m.index) + '#' + key.slice(m.index + m[1]!.length), index: Number(m[1]) } : { range: key, index: 0 };
}

export function checkFileSizes(files: readonly OutputFile[], minBytes: number): FileSizeCheck {
  const ranges = new Map<string, { index: number; file: OutputFile }[]>();
  for (const file of files) {
    const { range, index } = rangeKey(file.key);
    ranges.set(range, [...(ranges.get(range) ?? []), { index, file }]);
  }
  const undersized: OutputFile[] = [];
  for (const list of ranges.values()) {
    list.sort((a, b) => a.index - b.index);
    for (const { file } of list.slice(0, -1)) if (file.bytes < minBytes) undersized.push(file);
  }
  const sorted = [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { files: files.length, ranges: ranges.size, minBytes, undersized, sizes: sorted.map((f) => f.bytes) };
}
