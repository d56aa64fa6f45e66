/**
 * The benchmark end to end, tiny: `sealwire bench` with one short run of the round-trip and
 * handshake figures, servers in a child process, JSON on stdout. Checks the shape of what it
 * reports, never how fast anything was (no timed assertions).
 */
import { describe, expect, it } from 'vitest';
import { availableSuites } from '../../src/suites/index.js';
import { runCli } from '../helpers/cli.js';
import type { BenchReport } from '../../src/bench/report.js';

describe('sealwire bench (smoke)', () => {
  it('measures a tiny run for node:net, node:tls and box and prints table and JSON', async () => {
    const r = await runCli(['bench', '--only', 'rtt,tcp-handshakes-32,udp', '--suites', 'box', '--runs', '1', '--duration', '40', '--json'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString()) as BenchReport;
    expect(report.servers).toBe('child process');
    expect(report.figures.map((f) => f.id)).toEqual(['tcp-rtt', 'tcp-handshakes-32', 'udp-messages']);
    for (const f of report.figures.slice(0, 2)) {
      expect(f.rows.map((x) => x.impl)).toEqual(['net', 'tls', 'box']);
      for (const row of f.rows) {
        expect(row.status).toBe('ok');
        expect(row.runs).toHaveLength(1);
        expect(row.median).toBeGreaterThan(0);
      }
      expect(f.rows.find((x) => x.impl === 'tls')!.ratio).toBe(1);
      expect(f.rows.find((x) => x.impl === 'box')!.target).toBeDefined();
    }
    const udp = report.figures[2]!;
    expect(udp.rows[0]).toMatchObject({ impl: 'dgram', status: 'ok' });
    const boxUdp = udp.rows.find((x) => x.impl === 'box')!;
    // Either the build has the UDP transport (a real figure) or the row says so.
    if (boxUdp.status === 'n/a') expect(boxUdp.note).toBe('no UDP transport in this build');
    else expect(boxUdp.status).toBe('ok');
    // The table goes to stderr when the JSON takes stdout.
    expect(r.stderr).toContain('TCP request/response, 1 KiB ping-pong: round trips/s');
    expect(r.stderr).toMatch(/sealwire box +[\d,]+/);
    expect(availableSuites()).toContain('box');
  }, 120_000); // a child server host per implementation and three figures: slow on a loaded machine

  it('refuses an unknown figure as a usage error', async () => {
    const r = await runCli(['bench', '--only', 'warp-speed']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown figure 'warp-speed'/);
  });
});
