/**
 * The same bad option reads the same on every surface, byte for byte: the library's refusal
 * (`option every: expected a number from 0.001 to 86400, got 0`) is what `plan()` throws, what
 * the CLI prints after its `omniprep: ` prefix (exit 2), and the `error.message` of the service's
 * 400, whether the options come as JSON (checked by the route's JSON Schema) or as a multipart
 * field (checked by the parser).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/plan.js';
import { cli } from '../helpers/cli.js';
import { CACHE, fixture } from '../helpers/fixtures.js';
import { api, startService, upload, type Running } from '../helpers/service.js';

/** Bad values: [option, CLI flag and text, JSON value]. */
const CASES: Array<[string, string[], unknown]> = [
  ['every', ['--every', '0'], 0],
  ['every', ['--every', '-5'], -5],
  ['maxFrames', ['--max-frames', '0'], 0],
  ['mode', ['--mode', 'fast'], 'fast'],
  ['detail', ['--detail', 'ultra'], 'ultra'],
  ['quality', ['--quality', '101'], 101],
];

// One service and one clip for every test of the file.
let s: Running;
let clip: string;
beforeAll(async () => {
  clip = await fixture('timecode');
  s = await startService({ workers: 0, allowRoots: [CACHE] });
}, 120_000);
afterAll(() => s.close());

describe('one refusal on three surfaces', () => {
  for (const [option, flag, value] of CASES) {
    it(`${option}: ${JSON.stringify(value)}`, async () => {
      const lib = await plan(clip, { [option]: value }).then(
        () => 'accepted',
        (e: Error & { code?: string }) => {
          expect(e.code).toBe('INVALID_OPTION');
          return e.message;
        },
      );
      expect(lib).toMatch(new RegExp(`^option ${option}: expected .+, got ${JSON.stringify(value)}$`));

      const c = await cli(['plan', clip, ...flag]);
      expect(c.code, c.stderr).toBe(2);
      expect(c.stderr).toBe(`omniprep: ${lib}\n`);

      const json = await api(s.url, 'POST', '/v1/plan', { path: clip, options: { [option]: value } });
      expect(json.status, json.text).toBe(400);
      expect(json.json.error).toEqual({ code: 'INVALID_OPTION', message: lib });

      const form = await upload(s.url, clip, { [option]: value }, { path: '/v1/plan' });
      expect(form.status, form.text).toBe(400);
      expect(form.json.error).toEqual({ code: 'INVALID_OPTION', message: lib });
    }, 120_000);
  }
});

describe('the expected output of an estimate', () => {
  // The cap on output tokens, when given, is what every estimate assumes (as the request estimates do).
  for (const [options, expected] of [
    [{ maxOutputTokens: 2000 }, 2000],
    [{ outputTokens: 500, maxOutputTokens: 2000 }, 2000],
    [{ outputTokens: 500 }, 500],
  ] as const) {
    it(`${JSON.stringify(options)}: ${expected} output tokens and the same dollars from the library and the service`, async () => {
      const lib = await plan(clip, { ...options, every: 5 });
      const svc = await api(s.url, 'POST', '/v1/plan', { path: clip, options: { ...options, every: 5 } });
      expect(svc.status, svc.text).toBe(200);
      expect([lib.outputTokens, svc.json.outputTokens]).toEqual([expected, expected]);
      expect(svc.json.costUsd).toBe(lib.costUsd);
    }, 120_000);
  }
});
