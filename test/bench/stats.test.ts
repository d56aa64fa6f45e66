/** The benchmark's statistics, verdicts and table formatting (no timing involved). */
import { describe, expect, it } from 'vitest';
import { formatNumber, formatRange, formatRatio, median, ratio, summarize } from '../../src/bench/stats.js';
import { figureReport, meets, renderFigure, renderReport, type BenchReport } from '../../src/bench/report.js';
import { selectFigures, FIGURES } from '../../src/bench/runner.js';
import type { Figure } from '../../src/bench/figure.js';

describe('bench statistics', () => {
  it('median of odd and even counts, unsorted input left as it was', () => {
    const v = [5, 1, 3];
    expect(median(v)).toBe(3);
    expect(v).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow();
  });

  it('summarize keeps runs in order with min and max', () => {
    expect(summarize([3, 9, 1, 4])).toEqual({ median: 3.5, min: 1, max: 9, runs: [3, 9, 1, 4] });
    expect(() => summarize([])).toThrow();
    expect(() => summarize([1, Number.NaN])).toThrow(/finite/);
  });

  it('ratio is undefined without a usable baseline', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeUndefined();
    expect(ratio(3, undefined)).toBeUndefined();
  });

  it('formats numbers to about three significant digits', () => {
    expect(formatNumber(1234567.4)).toBe('1,234,567');
    expect(formatNumber(987.6)).toBe('988');
    expect(formatNumber(45.67)).toBe('45.7');
    expect(formatNumber(3.214)).toBe('3.21');
    expect(formatNumber(0.12345)).toBe('0.123');
    expect(formatNumber(0)).toBe('0');
    expect(formatRatio(2.004)).toBe('2.00×');
    expect(formatRatio(0.0654)).toBe('0.065×');
    expect(formatRatio(undefined)).toBe('');
    expect(formatRange(summarize([1500, 999, 2000]))).toBe('999–2,000');
  });
});

const figure: Figure = {
  id: 'f',
  title: 'A figure',
  unit: 'ops/s',
  better: 'higher',
  baseline: 'tls',
  description: 'test',
  targets: { box: { kind: 'ratio', op: '>=', value: 2, text: '≥ 2× node:tls' }, sid: { kind: 'absolute', op: '<=', value: 10, text: '≤ 10' } },
  steps: () => 0,
  run: async () => [],
};

describe('bench report', () => {
  it('computes ratios to the baseline and target verdicts', () => {
    const r = figureReport(figure, [
      { impl: 'net', status: 'ok', summary: summarize([400, 410, 390]) },
      { impl: 'tls', status: 'ok', summary: summarize([100, 90, 110]) },
      { impl: 'box', status: 'ok', summary: summarize([150, 250, 210]) },
      { impl: 'sid', status: 'ok', summary: summarize([12, 12, 12]) },
      { impl: 'ccm', status: 'n/a', note: 'no UDP transport in this build' },
    ]);
    const byImpl = Object.fromEntries(r.rows.map((x) => [x.impl, x]));
    expect(byImpl.net!.ratio).toBe(4);
    expect(byImpl.tls!.ratio).toBe(1);
    expect(byImpl.box!.ratio).toBeCloseTo(2.1);
    expect(byImpl.box!.target).toEqual({ text: '≥ 2× node:tls', met: true });
    expect(byImpl.sid!.target!.met).toBe(false);
    expect(byImpl.ccm).toEqual({ impl: 'ccm', label: 'sealwire ccm', status: 'n/a', note: 'no UDP transport in this build' });
    expect(byImpl.tls!.label).toBe('node:tls');
  });

  it('has no ratio when the baseline failed', () => {
    const r = figureReport(figure, [
      { impl: 'tls', status: 'failed', note: 'boom' },
      { impl: 'box', status: 'ok', summary: summarize([1]) },
    ]);
    expect(r.rows[1]!.ratio).toBeUndefined();
    expect(r.rows[1]!.target!.met).toBe(false);
  });

  it('leaves the target unjudged, with the reason, when a row was measured at another scale', () => {
    const r = figureReport(figure, [
      { impl: 'tls', status: 'ok', summary: summarize([1]) },
      { impl: 'sid', status: 'ok', summary: summarize([50]), targetSkipped: 'target judged at 10,000 sessions' },
    ]);
    expect(r.rows[1]!.target).toBeUndefined();
    expect(r.rows[1]!.note).toBe('target judged at 10,000 sessions');
  });

  it('meets() reads ratio and absolute targets both ways', () => {
    expect(meets({ kind: 'ratio', op: '>=', value: 1, text: '' }, 5, 1)).toBe(true);
    expect(meets({ kind: 'ratio', op: '>=', value: 1, text: '' }, 5, 0.99)).toBe(false);
    expect(meets({ kind: 'absolute', op: '<=', value: 10, text: '' }, 10, undefined)).toBe(true);
    expect(meets({ kind: 'ratio', op: '>=', value: 1, text: '' }, 5, undefined)).toBe(false);
  });

  it('renders aligned rows, n/a rows and the target column', () => {
    const r = figureReport(figure, [
      { impl: 'tls', status: 'ok', summary: summarize([1000, 1200, 1100]) },
      { impl: 'box', status: 'ok', summary: summarize([2300, 2100, 2200]) },
      { impl: 'sid', status: 'n/a', note: 'no UDP transport in this build' },
    ]);
    const lines = renderFigure(r);
    expect(lines[0]).toBe('A figure: ops/s, higher is better, ratio to node:tls');
    expect(lines[2]).toMatch(/^ {2}node:tls +1,100 +1,000–1,200 +1\.00×$/);
    expect(lines[3]).toMatch(/^ {2}sealwire box +2,200 +2,100–2,300 +2\.00× +≥ 2× node:tls: met$/);
    expect(lines[4]).toBe('  sealwire sid    n/a (no UDP transport in this build)');
    // Columns line up: every median ends at the same offset.
    expect(lines[2]!.indexOf('1,100') + 5).toBe(lines[3]!.indexOf('2,200') + 5);
    const report: BenchReport = {
      tool: 'sealwire bench',
      version: '0',
      startedAt: '',
      durationMs: 1500,
      mode: 'quick',
      servers: 'child process',
      options: { runs: 3, runMs: 250, memorySessions: 200, udpMemorySessions: 1000, memoryRuns: 1, inProcess: false },
      machine: { cpu: 'cpu', cores: 2, memoryMiB: 1, os: 'os', node: 'v20', openssl: '3', loadavg: [0, 0, 0] },
      figures: [r],
    };
    const text = renderReport(report);
    expect(text).toContain('Targets (docs/DESIGN.md §8):\n  met     f sealwire box: ≥ 2× node:tls');
    expect(text).toContain('finished in 1.5 s');
  });

  it('shows CPU per unit when measured, and leaves out columns no row fills', () => {
    const r = figureReport({ ...figure, baseline: '', targets: {} }, [
      { impl: 'box', status: 'ok', summary: summarize([10, 12]), extra: { clientCpuUsPerUnit: 12.34, serverCpuUsPerUnit: 456.7 } },
      { impl: 'tls', status: 'ok', summary: summarize([10, 12]) },
    ]);
    const lines = renderFigure(r);
    expect(lines[0]).toBe('A figure: ops/s, higher is better; CPU µs per op in client+server');
    expect(lines[1]).toMatch(/^ {2}implementation +median +min–max +cpu µs c\+s$/);
    expect(lines[2]).toMatch(/^ {2}sealwire box +11\.0 +10\.0–12\.0 +12\.3\+457$/);
  });

  it('selects figures by id and alias and refuses unknown names', () => {
    expect(selectFigures(undefined)).toEqual(FIGURES);
    expect(selectFigures(['handshakes', 'tcp-bulk']).map((f) => f.id)).toEqual(['tcp-bulk', 'tcp-handshakes-seq', 'tcp-handshakes-32']);
    expect(() => selectFigures(['nope'])).toThrow(/unknown figure 'nope'/);
  });
});
