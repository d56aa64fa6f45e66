/**
 * Statistics and number formatting for the benchmark: each figure is measured several times and
 * reported as the median with the range (min–max), and as a ratio to its baseline's median. The
 * median, not the mean, because a shared machine produces outliers in one direction (a run that
 * lost the CPU to another process), and one such run should not move the figure.
 */

export interface Summary {
  /** Middle value of the runs (mean of the two middle values for an even count). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Every run's value, in the order measured. */
  readonly runs: readonly number[];
}

/** The median of `values`; throws for an empty list (a figure without runs is a harness bug). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median, min and max of a non-empty list of finite numbers. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('summarize: no runs');
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`summarize: not a finite number: ${v}`);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: [...values] };
}

/** `value / baseline`, or undefined when the baseline is missing or zero. */
export function ratio(value: number, baseline: number | undefined): number | undefined {
  if (baseline === undefined || baseline === 0 || !Number.isFinite(baseline)) return undefined;
  return value / baseline;
}

/**
 * A figure for a table: three significant digits at most, no fraction for values of 100 and
 * above, thousands separated by commas (1,234,567 · 987 · 45.6 · 3.21 · 0.123).
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return '0';
  return v.toPrecision(3);
}

/** `1.23×`, two decimals (three significant digits below 0.1). */
export function formatRatio(r: number | undefined): string {
  if (r === undefined) return '';
  return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

/** `min–max` of a summary, each formatted as `formatNumber` does. */
export function formatRange(s: Summary): string {
  return `${formatNumber(s.min)}–${formatNumber(s.max)}`;
}
