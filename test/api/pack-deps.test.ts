// The core install (issue 25, item 16): the service's packages (and the AWS SDK's, for --store
// s3://), each provider SDK and vega are optional peer dependencies (and dev dependencies, so
// `npm ci` installs them for the tests), the lock file says the same, the core's dependency
// closure holds none of them, and the README's figure is what scripts/install-size.mjs measures
// here (within 10%: platform binaries differ).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';
// @ts-expect-error: a plain .mjs script without declarations
import { closure, sizeOf } from '../../scripts/install-size.mjs';

const OPTIONAL = [
  '@anthropic-ai/sdk',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  '@aws-sdk/s3-request-presigner',
  '@fastify/multipart',
  '@fastify/static',
  '@fastify/swagger',
  '@google/genai',
  'better-sqlite3',
  'bullmq',
  'fastify',
  'ioredis',
  'node-av',
  'openai',
  'vega',
  'vega-lite',
];
type Manifest = Record<string, Record<string, unknown> | undefined>;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Manifest> };

describe('optional packages', () => {
  it('are optional peers and dev dependencies, not dependencies, in package.json and the lock', () => {
    for (const m of [pkg, lock.packages['']!]) {
      for (const n of OPTIONAL) {
        expect(m.dependencies?.[n], n).toBeUndefined();
        expect(m.peerDependencies?.[n], n).toBe(m.devDependencies?.[n]);
        expect(m.peerDependencies?.[n], n).toMatch(/^[~^]\d/);
        expect(m.peerDependenciesMeta?.[n], n).toEqual({ optional: true });
      }
    }
    expect(Object.keys(pkg.peerDependencies!).sort()).toEqual(OPTIONAL);
  });

  it("the core's closure holds none of them, and the README gives its size", () => {
    const here = (p: string): boolean => existsSync(join(ROOT, p));
    const core: string[] = closure(lock, Object.keys(pkg.dependencies!), here);
    for (const n of OPTIONAL)
      expect(
        core.filter((p) => p.endsWith(`node_modules/${n}`)),
        n,
      ).toEqual([]);
    const mb = sizeOf(core, ROOT) / 1e6;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /The core \([^)]*\) installs (\d+)\s+packages, (\d+) MB/.exec(readme);
    expect(m, 'the README states the core size').not.toBeNull();
    expect(Number(m![1])).toBe(core.length);
    expect(Math.abs(Number(m![2]) - mb) / mb).toBeLessThan(0.1);
  });
});
