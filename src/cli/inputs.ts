/**
 * The inputs a command line names: operands (paths, URLs, directories searched recursively for
 * media files by extension, MEDIA_EXTENSIONS in src/media/formats.ts) and `--from LIST` (one path
 * or URL a line; blank lines and `#` comments skipped). Each input gets a unique folder name for
 * `--out` (FolderNames in src/util/many.ts).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { OmniprepError } from '../errors.js';
import { isMediaName, MEDIA_EXTENSIONS } from '../media/formats.js';
import { FolderNames, inputLabel } from '../util/many.js';

export interface NamedInput {
  /** The path or URL as it is read. */
  input: string;
  /** Its folder under --out, unique among the inputs. */
  folder: string;
}

export interface InputList {
  /** More than one input, a directory or a list: the many-input form of the command. */
  many: boolean;
  inputs: NamedInput[];
}

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** The media files under `dir` (recursive, sorted by path), each with its path below `dir`; `skip` (the output folder) is left out. */
async function mediaFiles(dir: string, skip: string | undefined): Promise<Array<{ path: string; below: string }>> {
  const found: Array<{ path: string; below: string }> = [];
  const walk = async (at: string): Promise<void> => {
    if (skip && resolve(at) === skip) return;
    const entries = (await readdir(at, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = join(at, e.name);
      // A link to a directory is not followed (no loops); a link to a file is an input.
      if (e.isDirectory()) await walk(path);
      else if ((e.isFile() || e.isSymbolicLink()) && isMediaName(e.name)) found.push({ path, below: relative(dir, path) });
    }
  };
  await walk(dir);
  return found;
}

/** The lines of a --from list that name inputs. */
async function listed(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OmniprepError(
      'INVALID_OPTION',
      `option --from: ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (e as Error).message})`}`,
      {
        input: file,
      },
    );
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** One operand or list line as inputs: a directory's media files, else itself (a missing path fails as its input). */
async function expand(item: string, skip: string | undefined): Promise<{ dir: boolean; found: Array<{ input: string; label: string }> }> {
  if (isUrl(item)) return { dir: false, found: [{ input: item, label: inputLabel(item) }] };
  const st = await stat(item).catch(() => undefined);
  if (!st?.isDirectory()) return { dir: false, found: [{ input: item, label: inputLabel(item) }] };
  const files = await mediaFiles(item, skip);
  if (!files.length) {
    const exts = [...MEDIA_EXTENSIONS].map((x) => `.${x}`).join(' ');
    throw new OmniprepError('NOT_FOUND', `${item}: no media files in this directory or below (by extension: ${exts})`, { input: item });
  }
  return { dir: true, found: files.map((f) => ({ input: f.path, label: f.below })) };
}

/**
 * The inputs of a command: its operands, then the lines of --from. `out` (the --out folder) is
 * not searched, and its summary.json is not a folder name.
 */
export async function inputList(operands: readonly string[], from: string | undefined, out?: string): Promise<InputList> {
  const items = [...operands, ...(from ? await listed(from) : [])];
  if (!items.length)
    throw new OmniprepError('INVALID_OPTION', from ? `option --from: ${from} names no input` : 'an input is required (a path, a URL or a directory)');
  const skip = out ? resolve(out) : undefined;
  const names = new FolderNames(['summary.json']);
  const inputs: NamedInput[] = [];
  let dirs = false;
  for (const item of items) {
    const { dir, found } = await expand(item, skip);
    dirs ||= dir;
    for (const f of found) inputs.push({ input: f.input, folder: names.name(f.label) });
  }
  return { many: items.length > 1 || dirs || from !== undefined, inputs };
}
