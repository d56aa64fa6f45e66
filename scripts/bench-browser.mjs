// The browser build measured in a real browser: gzipped size of dist/browser/*.js, and the time of
// a box handshake (connectWebSocket until the server is verified) in headless Chromium against a
// sealwire WebSocket echo server on loopback, and the same handshake from Node as the reference. Before timing, it checks the browser API end to end
// (fingerprint, echo through the async iterator, clean close, a wrong pinned key refused), so the
// numbers are of a working session. Run after `npm run build` (npm run bench:browser does both).
//
//   node scripts/bench-browser.mjs [--handshakes N] [--json]
//
// Needs Chromium at /usr/bin/chromium (or $SEALWIRE_CHROMIUM).
import http from 'node:http';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { SealwireWebSocketServer, connectWebSocket } from '../dist/src/transport/websocket.js';
import { generateKeyPair } from '../dist/src/keys/key.js';

const args = process.argv.slice(2);
const at = args.indexOf('--handshakes');
const handshakes = at >= 0 ? Number(args[at + 1]) : 50;
const json = args.includes('--json');
const dist = new URL('../dist/browser/', import.meta.url);
const executablePath = process.env.SEALWIRE_CHROMIUM ?? '/usr/bin/chromium';

const sizes = {};
for (const name of ['sealwire.js', 'chat.js']) {
  const body = readFileSync(new URL(name, dist));
  sizes[name] = { bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
}

const key = generateKeyPair('x25519');
const wss = new SealwireWebSocketServer({ key, anyClient: true, path: '/ws' }, (s) => s.pipe(s));
const library = readFileSync(new URL('sealwire.js', dist));
const page = '<!doctype html><meta charset="utf-8"><title>sealwire bench</title>';
const server = http.createServer((req, res) => {
  if (req.url === '/sealwire.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(library);
  else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  else res.writeHead(404).end();
});
wss.attach(server);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const profile = mkdtempSync(join(tmpdir(), 'sealwire-bench-chromium-'));
let context;
let result;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const tab = await context.newPage();
  await tab.goto(`${origin}/`);
  result = await tab.evaluate(
    async ({ serverKey, wrongKey, n }) => {
      const lib = await import('/sealwire.js');
      const url = new URL('/ws', location.href);
      url.protocol = 'ws:';
      const s = await lib.connectWebSocket(url.href, { serverKey });
      await s.send('ping from the page');
      const it = s[Symbol.asyncIterator]();
      let echo = '';
      while (echo.length < 18) echo += new TextDecoder().decode((await it.next()).value);
      const fingerprint = s.fingerprint;
      s.close();
      const cleanClose = (await s.closed) === null;
      let wrongKeyRefused = '';
      try {
        (await lib.connectWebSocket(url.href, { serverKey: wrongKey })).close();
        wrongKeyRefused = 'accepted';
      } catch (e) {
        wrongKeyRefused = e.code;
      }
      const times = [];
      for (let i = 0; i < n + 3; i++) {
        const t0 = performance.now();
        const c = await lib.connectWebSocket(url.href, { serverKey });
        const dt = performance.now() - t0;
        if (i >= 3) times.push(dt); // the first three warm the JIT up
        c.close();
      }
      return { echo, fingerprint, cleanClose, wrongKeyRefused, times, userAgent: navigator.userAgent };
    },
    { serverKey: key.publicKey.toString(), wrongKey: generateKeyPair('x25519').publicKey.toString(), n: handshakes },
  );
  // The same handshake from Node (sodium-native), same server, same loop: the reference.
  const nodeTimes = [];
  for (let i = 0; i < handshakes + 3; i++) {
    const t0 = performance.now();
    const c = await connectWebSocket(`ws://127.0.0.1:${server.address().port}/ws`, { serverKey: key.publicKey });
    const dt = performance.now() - t0;
    if (i >= 3) nodeTimes.push(dt);
    c.destroy();
  }
  result.nodeTimes = nodeTimes;
} finally {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  await wss.close();
  server.closeAllConnections();
  server.close();
}

const sorted = [...result.times].sort((a, b) => a - b);
const nodeSorted = [...result.nodeTimes].sort((a, b) => a - b);
const pct = (p, xs = sorted) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const report = {
  sizes,
  handshakes: sorted.length,
  handshakeMs: { median: pct(50), p90: pct(90), min: sorted[0] },
  nodeHandshakeMs: { median: pct(50, nodeSorted), p90: pct(90, nodeSorted), min: nodeSorted[0] },
  check: {
    echo: result.echo,
    fingerprintMatches: result.fingerprint === key.publicKey.fingerprint,
    cleanClose: result.cleanClose,
    wrongKeyRefused: result.wrongKeyRefused,
  },
  browser: result.userAgent.replace(/^.*(HeadlessChrome\/\S+|Chrome\/\S+).*$/, '$1'),
};
if (json) {
  console.log(JSON.stringify(report));
} else {
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  for (const [name, s] of Object.entries(sizes)) console.log(`${name.padEnd(12)} ${kib(s.bytes).padStart(10)} minified, ${kib(s.gzipBytes).padStart(9)} gzipped`);
  console.log(`box handshake in ${report.browser} (connectWebSocket to verified, loopback, ${sorted.length} runs): median ${pct(50).toFixed(1)} ms, p90 ${pct(90).toFixed(1)} ms, min ${sorted[0].toFixed(1)} ms`);
  console.log(`the same from Node (connectWebSocket over ws, sodium-native): median ${pct(50, nodeSorted).toFixed(1)} ms, p90 ${pct(90, nodeSorted).toFixed(1)} ms, min ${nodeSorted[0].toFixed(1)} ms`);
  console.log(`check: echo ${JSON.stringify(result.echo)}, fingerprint ${report.check.fingerprintMatches ? 'verified' : 'MISMATCH'}, clean close ${result.cleanClose}, wrong key ${result.wrongKeyRefused}`);
}
