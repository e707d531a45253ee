/** The README's ```sh blocks and their commands, for the tests that run them (readme-sh, readme-clone). */

/** The ```sh blocks of a README's text. */
export function shBlocks(readme: string): string[] {
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** A block's commands, continuation lines joined, comments and blank lines dropped. */
export function commands(b: string): string[] {
  return b
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** The files or folders one command line writes where it runs (`> body.json`, `--out frames`, `--png curve.png`). */
export function writtenBy(line: string): string[] {
  const code = line.replace(/\s#.*$/, '');
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|\s)(?:>|--out|--png|--save|--spec|--svg)\s+([^\s'"|;&]+)/g)) {
    const target = m[1]!;
    // Placeholders (FILE.svg), options, absolute paths and /dev/null are not files of the clone.
    if (/^[-/$]|[A-Z]{3,}/.test(target)) continue;
    out.push(target);
  }
  return out;
}
