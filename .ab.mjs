import { StreamSession } from './dist/src/session/stream-session.js';
import { boxSuite } from './dist/src/suites/box/index.js';
import { generateKeyPair } from './dist/src/keys/key.js';
import { systemRng } from './dist/src/crypto/random.js';
import { recordBuffers } from './dist/src/record/buffers.js';
const sk = generateKeyPair('x25519'), ck = generateKeyPair('x25519');
function pair(boxCipher) {
  const c = new StreamSession(boxSuite.client({ key: ck, server: { kind: 'pinned', key: sk.publicKey }, rng: systemRng, boxCipher }), { now: 0 });
  const s = new StreamSession(boxSuite.server({ key: sk, authorize: () => true, rng: systemRng, boxCipher }), { now: 0 });
  c.useTransportBuffers({ allocate: recordBuffers.allocate, receiveOwnsInput: true });
  s.useTransportBuffers({ allocate: recordBuffers.allocate, receiveOwnsInput: true });
  s.start(); c.start();
  for (let i = 0; i < 10; i++) { for (const b of c.takeOutput()) s.receive(Buffer.from(b)); for (const b of s.takeOutput()) c.receive(Buffer.from(b)); }
  c.takeEvents(); s.takeEvents();
  return { c, s };
}
const size = Number(process.argv[2] ?? 65536);
const msg = Buffer.alloc(size, 7);
function run(boxCipher, ms = 400) {
  const { c, s } = pair(boxCipher);
  let bytes = 0; const t0 = process.cpuUsage(); let sealUs = 0, openUs = 0;
  const w0 = performance.now();
  while (performance.now() - w0 < ms) {
    const a = process.cpuUsage();
    c.send(msg); const out = c.takeOutput();
    const b = process.cpuUsage(a); sealUs += b.user + b.system;
    const wire = Buffer.concat(out); for (const x of out) recordBuffers.release(x);
    const d = process.cpuUsage();
    s.receive(wire); s.takeEvents();
    const e = process.cpuUsage(d); openUs += e.user + e.system;
    bytes += size;
  }
  const mb = bytes / 1e6;
  return `${boxCipher ?? 'negotiated'}: seal ${(sealUs / mb).toFixed(0)} open ${(openUs / mb).toFixed(0)} µs/MB`;
}
for (let r = 0; r < 3; r++) console.log(size, run(undefined), '|', run('xsalsa20-poly1305'));
