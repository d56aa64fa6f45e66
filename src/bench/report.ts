/**
 * The benchmark's results as data (the `--json` output) and as a text table: one section per
 * figure, one row per implementation with the median, the range of the runs, the ratio to the
 * figure's baseline and, where docs/DESIGN.md §8 sets one, the target and whether it was met.
 */
import type { BenchOptions, Figure, Outcome, Target } from './figure.js';
import { implLabel } from './clients.js';
import { formatNumber, formatRange, formatRatio, ratio } from './stats.js';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryMiB: number;
  readonly os: string;
  readonly node: string;
  readonly openssl: string;
  /** Load averages (1, 5, 15 min) when the run started: other work on the machine skews results. */
  readonly loadavg: readonly number[];
}

export interface RowReport {
  readonly impl: string;
  readonly label: string;
  readonly status: 'ok' | 'n/a' | 'failed';
  readonly note?: string;
  readonly median?: number;
  readonly min?: number;
  readonly max?: number;
  readonly runs?: readonly number[];
  /** median / baseline median. */
  readonly ratio?: number;
  readonly target?: { readonly text: string; readonly met: boolean };
  readonly extra?: Readonly<Record<string, number>>;
}

export interface FigureReport {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly baseline: string | null;
  readonly description: string;
  readonly rows: readonly RowReport[];
}

export interface BenchReport {
  readonly tool: 'sealwire bench';
  readonly version: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly mode: 'quick' | 'full' | 'custom';
  readonly servers: 'child process' | 'in process';
  readonly options: BenchOptions;
  readonly machine: MachineInfo;
  readonly figures: readonly FigureReport[];
}

/** Whether `value` (or its ratio) meets `target`. */
export function meets(target: Target, value: number, r: number | undefined): boolean {
  const v = target.kind === 'ratio' ? r : value;
  if (v === undefined) return false;
  return target.op === '>=' ? v >= target.value : v <= target.value;
}

/** Adds ratios to the baseline and target verdicts to a figure's outcomes. */
export function figureReport(figure: Figure, outcomes: readonly Outcome[]): FigureReport {
  const base = outcomes.find((o) => o.impl === figure.baseline);
  const baseMedian = base?.status === 'ok' ? base.summary.median : undefined;
  const rows = outcomes.map((o): RowReport => {
    const label = o.label ?? implLabel(o.impl);
    if (o.status !== 'ok') return { impl: o.impl, label, status: o.status, note: o.note };
    const s = o.summary;
    const r = figure.baseline ? ratio(s.median, baseMedian) : undefined;
    const t = o.targetSkipped ? undefined : figure.targets[o.impl];
    return {
      impl: o.impl,
      label,
      status: 'ok',
      ...(o.note || o.targetSkipped ? { note: [o.note, o.targetSkipped].filter(Boolean).join('; ') } : {}),
      median: s.median,
      min: s.min,
      max: s.max,
      runs: s.runs,
      ...(r !== undefined ? { ratio: r } : {}),
      ...(t ? { target: { text: t.text, met: meets(t, s.median, r) } } : {}),
      ...(o.extra ? { extra: o.extra } : {}),
    };
  });
  return {
    id: figure.id,
    title: figure.title,
    unit: figure.unit,
    better: figure.better,
    baseline: figure.baseline || null,
    description: figure.description,
    rows,
  };
}

function pad(s: string, width: number, right = false): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

/** CPU microseconds per unit in the client and the server process: `12+9`. */
function cpuCell(r: RowReport): string {
  const c = r.extra?.clientCpuUsPerUnit;
  if (c === undefined) return '';
  if (!Number.isFinite(c)) return '–'; // no unit completed (a run that timed out)
  const s = r.extra?.serverCpuUsPerUnit;
  return s === undefined ? formatNumber(c) : `${formatNumber(c)}+${formatNumber(s)}`;
}

/** One figure as a text table. */
export function renderFigure(f: FigureReport): string[] {
  const baseLabel = f.baseline ? (f.rows.find((r) => r.impl === f.baseline)?.label ?? implLabel(f.baseline)) : null;
  const head = `${f.title}: ${f.unit}, ${f.better} is better${baseLabel ? `, ratio to ${baseLabel}` : ''}${f.rows.some((r) => r.extra?.clientCpuUsPerUnit !== undefined) ? `; CPU µs per ${unitItem(f.unit)} in client+server` : ''}`;
  const cells = f.rows.map((r) => {
    if (r.status !== 'ok') return [r.label, `${r.status === 'failed' ? 'FAILED' : 'n/a'} (${r.note ?? ''})`];
    const target = r.target ? `${r.target.text}: ${r.target.met ? 'met' : 'MISSED'}` : r.note ? `(${r.note})` : '';
    return [r.label, formatNumber(r.median!), formatRange({ median: r.median!, min: r.min!, max: r.max!, runs: [] }), formatRatio(r.ratio), cpuCell(r), target];
  });
  const header = ['implementation', 'median', 'min–max', 'ratio', 'cpu µs c+s', 'target'];
  // Columns no row fills (no baseline, no CPU figures, no targets) are left out.
  const measured = cells.filter((c) => c.length > 2);
  const keep = header.map((_, i) => i < 3 || measured.some((c) => (c[i] ?? '') !== ''));
  const cols = (row: string[]): string[] => row.filter((_, i) => keep[i]);
  const right = cols(header.map((_, i) => String(i > 0 && i < 5)));
  const hdr = cols(header);
  const rows = cells.map((c) => (c.length > 2 ? cols(c) : c));
  const widths = hdr.map((h, i) => Math.max(h.length, ...rows.filter((c) => c.length > 2).map((c) => c[i]?.length ?? 0)));
  widths[0] = Math.max(widths[0]!, ...rows.map((c) => c[0]!.length));
  const line = (row: string[]): string => '  ' + row.map((v, i) => pad(v, widths[i]!, right[i] === 'true')).join('  ').trimEnd();
  const lines = [head, line(hdr)];
  for (const c of rows) {
    if (c.length === 2) lines.push(`  ${pad(c[0]!, widths[0]!)}  ${c[1]}`);
    else lines.push(line(c));
  }
  return lines;
}

/** The whole report as text: a header with the machine, then every figure, then the targets. */
export function renderReport(report: BenchReport): string {
  const m = report.machine;
  const o = report.options;
  const lines = [
    `sealwire bench ${report.version} (${report.mode}: ${o.runs} runs of ${o.runMs} ms per figure, ${o.memorySessions} TCP / ${o.udpMemorySessions} UDP sessions for memory; servers in ${report.servers})`,
    `${m.cpu}, ${m.cores} cores, ${m.memoryMiB} MiB, ${m.os}; Node ${m.node}, OpenSSL ${m.openssl}; load ${m.loadavg.map((l) => l.toFixed(2)).join(' ')}`,
    '',
  ];
  for (const f of report.figures) lines.push(...renderFigure(f), '');
  const verdicts = report.figures.flatMap((f) => f.rows.filter((r) => r.target).map((r) => `  ${r.target!.met ? 'met   ' : 'MISSED'}  ${f.id} ${r.label}: ${r.target!.text}`));
  if (verdicts.length > 0) lines.push('Targets (docs/DESIGN.md §8):', ...verdicts, '');
  lines.push(`finished in ${(report.durationMs / 1000).toFixed(1)} s`);
  return lines.join('\n') + '\n';
}

/** What one unit of a figure counts: `MB/s` → MB, `round trips/s` → round trip. */
export function unitItem(unit: string): string {
  const item = unit.replace(/\/s$/, '');
  return item.endsWith('s') && item !== 'MB' ? item.slice(0, -1) : item;
}
