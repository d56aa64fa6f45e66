#!/usr/bin/env node
/**
 * The `sealwire` command: parsing and wiring only. Each command lives in commands/ and returns its
 * exit code; this file maps failures to exit codes (0 ok, 1 runtime failure, 2 usage error).
 */
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, exitAfterFlush, reportError } from './errors.js';
import { register as keygen } from './commands/keygen.js';
import { register as fingerprint } from './commands/fingerprint.js';
import { register as serve } from './commands/serve.js';
import { register as connect } from './commands/connect.js';
import { register as demo } from './commands/demo.js';
import { register as chatServer } from './commands/chat-server.js';
import { register as chat } from './commands/chat.js';
import { register as bench } from './commands/bench.js';

// A reader that goes away (`sealwire demo | head`) is not a failure worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const program = new Command();
program
  .name('sealwire')
  .description('authenticated, encrypted client-server sessions over TCP and UDP')
  .version('0.1.0')
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`sealwire: ${str.replace(/^error: /, '')}`) });

let current = '';
const run = (fn: () => Promise<number>): void => {
  fn().then(
    (code) => exitAfterFlush(code),
    (e: unknown) => exitAfterFlush(reportError(e, current)),
  );
};

for (const reg of [keygen, fingerprint, serve, connect, chatServer, chat, demo, bench]) reg(program, run);
// A usage error names the subcommand it is about: `sealwire chat: unknown option '--x'`.
for (const sub of program.commands) {
  sub.configureOutput({ outputError: (str, write) => write(`sealwire ${sub.name()}: ${str.replace(/^error: /, '')}`) });
}
program.hook('preAction', (_this, action) => {
  current = action.name();
});

if (process.argv.length <= 2) {
  program.outputHelp({ error: true });
  process.exit(EXIT_USAGE);
}

try {
  program.parse(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version print and exit 0; everything else is a usage error.
    const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
    process.exit(ok ? 0 : EXIT_USAGE);
  }
  process.exit(reportError(e));
}
