#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { installSignalHandlers, reportError } from './util.js';
import { registerCommands } from './commands.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('omniprep')
    .description('Video, audio and images into the cheapest correct requests for multimodal models')
    .version(pkg.version)
    .option('--json', 'print the result as one JSON document on stdout')
    .option('--verbose', 'print stack traces and ffmpeg output on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

async function main(argv: string[]): Promise<void> {
  installSignalHandlers();
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every usage error exits 2 (commander already printed one line)
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportError(e, argv.includes('--verbose'));
  }
}

await main(process.argv);
