/** Clients see the names they gave: server paths, and a remote input's sparse copy, become the client's name. */
import { describe, expect, it } from 'vitest';
import { OmniprepError } from '../../src/errors.js';
import { scrubError, scrubPaths } from '../../src/service/paths.js';
import { SPARSE_COPY } from '../../src/source/remote.js';

const URL_NAME = 'https://cdn.example.com/talk.mp4';
const COPY = '/var/lib/omniprep/tmp/node-h-42/omniprep-remote-Ab3xYz/remote.bin';

describe('scrubPaths and scrubError', () => {
  it('replace every occurrence of a path, and of any sparse copy by its pattern', () => {
    const renames = [
      ['/data/inputs/abc.mp4', 'talk.mp4'],
      [SPARSE_COPY, URL_NAME],
    ] as const;
    expect(scrubPaths({ a: ['/data/inputs/abc.mp4 and /data/inputs/abc.mp4'], b: `${COPY}: x; ${COPY}`, n: 3 }, renames)).toEqual({
      a: ['talk.mp4 and talk.mp4'],
      b: `${URL_NAME}: x; ${URL_NAME}`,
      n: 3,
    });
    const e = scrubError(new OmniprepError('PROCESS_FAILED', `${URL_NAME}: ffmpeg failed ('${COPY}': Invalid data found)`), renames, URL_NAME);
    expect((e as OmniprepError).message).toBe(`${URL_NAME}: ffmpeg failed ('${URL_NAME}': Invalid data found)`);
    expect((e as OmniprepError).code).toBe('PROCESS_FAILED');
    // Twice in a row (a global pattern keeps no state between calls), and a plain Error too.
    const plain = scrubError(new Error(`open ${COPY}`), renames, URL_NAME) as Error;
    expect(plain.message).toBe(`open ${URL_NAME}`);
    expect((scrubError(new Error(`open ${COPY}`), renames, URL_NAME) as Error).message).toBe(`open ${URL_NAME}`);
    // Nothing to replace: the same error.
    const same = new OmniprepError('CORRUPT', 'x: y');
    expect(scrubError(same, renames, URL_NAME)).toBe(same);
  });
});
