import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Each command lives in its own module under commands/; add new ones here, with the names of the
 * commands the module registers. A module loads only when the command line names one of its
 * commands (its option groups load zod, its actions the pipeline), so `omniprep --version` loads
 * none and `omniprep probe` loads one. The order is the order of `omniprep --help`.
 */
export const COMMAND_MODULES: ReadonlyArray<{ commands: readonly string[]; load: () => Promise<{ register: Register }> }> = [
  { commands: ['doctor', 'probe'], load: () => import('./commands/foundation.js') },
  { commands: ['tokens'], load: () => import('./commands/tokens.js') },
  { commands: ['plan'], load: () => import('./commands/plan.js') },
  { commands: ['sample'], load: () => import('./commands/sample.js') },
  { commands: ['audio'], load: () => import('./commands/audio.js') },
  { commands: ['request', 'run', 'batch'], load: () => import('./commands/requests.js') },
  { commands: ['cost-curve'], load: () => import('./commands/cost-curve.js') },
  { commands: ['eval'], load: () => import('./commands/eval.js') },
  { commands: ['calibrate'], load: () => import('./commands/calibrate.js') },
  { commands: ['serve', 'worker'], load: () => import('./commands/serve.js') },
];

/** The arguments commander reads as operands: those that are not options, and all after `--`. */
function operandsOf(args: readonly string[]): { operands: string[]; options: string[] } {
  const end = args.indexOf('--');
  const before = end < 0 ? args : args.slice(0, end);
  const operands = before.filter((a) => a === '-' || !a.startsWith('-'));
  return { operands: end < 0 ? operands : [...operands, ...args.slice(end + 1)], options: before.filter((a) => a !== '-' && a.startsWith('-')) };
}

/**
 * The command the arguments name, as commander will find it: the program's own options take no
 * value, so the first operand is the command (`help X` names X). Undefined when there is none
 * (`--help`, `--version`, no arguments) or it is not a command.
 */
export function commandNamed(args: readonly string[]): string | undefined {
  const { operands } = operandsOf(args);
  const named = operands[0] === 'help' ? operands[1] : operands[0];
  return named !== undefined && COMMAND_MODULES.some((m) => m.commands.includes(named)) ? named : undefined;
}

/** Whether only the version is asked for: no operand, and `-V` or `--version` among the options. */
function versionOnly(args: readonly string[]): boolean {
  const { operands, options } = operandsOf(args);
  return operands.length === 0 && options.some((a) => a === '-V' || a === '--version');
}

/**
 * Registers the commands `args` (the arguments after the script) need: the named command's
 * module, none for `--version` alone, every module otherwise (help lists them all, and commander
 * suggests the nearest name for a mistyped one).
 */
export async function registerCommands(program: Command, args: readonly string[] = []): Promise<void> {
  const named = commandNamed(args);
  const modules = named ? COMMAND_MODULES.filter((m) => m.commands.includes(named)) : versionOnly(args) ? [] : COMMAND_MODULES;
  for (const { register } of await Promise.all(modules.map((m) => m.load()))) register(program);
}
