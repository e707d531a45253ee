/** Commander flags made from the option descriptions (options/define.ts): name, help, default and checks once. */
import { Option, type Command } from 'commander';
import { flagName, flagParser, helpText, isBooleanOption, type Group } from '../options/define.js';

export interface FlagChoice {
  /** Options of the group to leave out (a command that takes them in another form). */
  omit?: readonly string[];
  /** Help texts that differ for this command. */
  help?: Record<string, string>;
}

/** Adds one flag per option of the group; values are parsed and checked by the option's schema. */
export function addFlags(cmd: Command, group: Group, choice: FlagChoice = {}): Command {
  for (const [key, def] of Object.entries(group)) {
    if (def.meta.cli === false || choice.omit?.includes(key)) continue;
    const flag = flagName(key, def);
    const help = choice.help?.[key] ?? helpText(def);
    if (isBooleanOption(def)) {
      cmd.addOption(new Option(flag, help));
      continue;
    }
    const arg = def.meta.cli?.arg || key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    // A refusal is the library's OmniprepError (INVALID_OPTION: exit 2), printed as the library and the service word it.
    cmd.addOption(new Option(`${flag} <${arg}>`, help).argParser(flagParser(key, def)));
  }
  return cmd;
}

/** Commander's name for a flag's value (`--min-silence` -> minSilence). */
function attributeOf(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The group's options out of commander's parsed flags, under the options' own names. */
export function readFlags<T extends object>(group: Group, opts: object): T {
  const from = opts as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(group)) {
    if (def.meta.cli === false) continue;
    const v = from[attributeOf(flagName(key, def))];
    if (v !== undefined) out[key] = v;
  }
  return out as T;
}
