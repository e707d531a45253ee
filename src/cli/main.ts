#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { installSignalHandlers, reportError } from './util.js';
import { registerCommands } from './commands.js';
import { didYouMean } from '../options/nearest.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * Commander with the unknown flag refused in the line the library and the service use for an
 * unknown key (`option --evry: not an option (did you mean --every?)`), the nearest name chosen by
 * the same rule (src/options/nearest.ts) among the command's flags and its parents'.
 */
class OmniprepCommand extends Command {
  override createCommand(name?: string): Command {
    return new OmniprepCommand(name);
  }

  unknownOption(flag: string): never {
    const flags: string[] = [];
    for (let c: Command | null = this; c; c = c.parent) {
      for (const o of c.createHelp().visibleOptions(c)) if (o.long) flags.push(o.long);
    }
    const hint = flag.startsWith('--') ? didYouMean(flag, flags) : '';
    return this.error(`error: option ${flag}: not an option${hint}`, { code: 'commander.unknownOption' });
  }
}

/** The program with the commands `args` (the arguments after the script) need (commands.ts). */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new OmniprepCommand('omniprep')
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
