// Shared shape of benchmark results: each figure beside the baseline measured in the same run.
export interface BenchRow {
  /** e.g. "recovery of 2,000 mails (pure-JS ssh2)" */
  readonly name: string;
  /** Our figure (median of the runs), in `unit`. */
  readonly value: number;
  readonly unit: string;
  /** The baseline measured in the same run (e.g. "scp * on the secondary"), if any. */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** Target ratio value/baseline (or absolute value when there is no baseline), if the issue sets one. */
  readonly target?: { readonly max: number; readonly of: 'ratio' | 'value' };
  /** Every run's figure, for the JSON. */
  readonly runs?: readonly number[];
  readonly note?: string;
}

/** A benchmark module: bench/<area>.ts exports `benchmarks`. */
export interface Benchmark {
  readonly name: string;
  run(options: { runs: number; quick: boolean }): Promise<BenchRow[]>;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
