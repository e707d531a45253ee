#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { installSignalHandlers, reportError } from './util.js';
import { registerCommands } from './commands.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The program with the commands `args` (the arguments after the script) need (commands.ts). */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command('omniprep')
    .description('Video, audio and images into the cheapest correct requests for multimodal models')
    .version(pkg.version)
    .option('--json', 'print the result as one JSON document on stdout')
    .option('--verbose', 'print stack traces and ffmpeg output on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  await registerCommands(program, args);
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
  try {
    const program = await buildProgram(argv.slice(2));
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
