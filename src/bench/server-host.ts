/**
 * Entry point of the benchmark's server process (forked by host.ts with `--expose-gc`): answers
 * requests from the client side over the IPC channel, one reply per request, and exits when the
 * channel closes, so a crashed or interrupted parent never leaves it behind.
 */
import { handleRequest } from './server-side.js';
import type { HostReply, HostRequest } from './protocol.js';

if (!process.send) {
  process.stderr.write('server-host.js is started by `sealwire bench`, not by hand\n');
  process.exit(2);
}

process.on('message', (msg: { id: number; req: HostRequest }) => {
  handleRequest(msg.req)
    .then(
      (result) => reply({ id: msg.id, ok: true, result: result ?? null }),
      (e: unknown) => reply({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    )
    .finally(() => {
      if (msg.req.cmd === 'exit' && process.connected) process.disconnect();
    });
});

// A server that throws from an event handler (a bug in the code under test) must not take every
// other figure down with it: say so on stderr once per message and keep serving.
const reported = new Set<string>();
process.on('uncaughtException', (e: unknown) => {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  if (reported.has(msg)) return;
  reported.add(msg);
  process.stderr.write(`sealwire bench: uncaught exception in the server process (a bug in the server under test): ${msg}\n`);
});

process.on('disconnect', () => {
  setTimeout(() => process.exit(0), 200).unref();
});

function reply(r: HostReply): void {
  if (process.connected) process.send!(r);
}
