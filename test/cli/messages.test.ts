/**
 * The lines a new user reads when something is refused (issue 25, "Messages"): each names the
 * input and the cause once, and says what to do. Runs the built CLI (npm run build first).
 */
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { ROOT } from '../helpers/fixtures.js';
import { join } from 'node:path';

const DEMO = join(ROOT, 'samples', 'demo.mp4');

describe('messages', () => {
  it.each(['ftp://example.com/a.mp4', 'file:///etc/hostname', 's3://bucket/a.mp4'])('%s: an unsupported scheme, not "no such file"', async (url) => {
    const scheme = url.slice(0, url.indexOf(':'));
    for (const command of ['plan', 'probe']) {
      const r = await cli([command, url]);
      expect([r.code, r.stderr]).toEqual([1, `omniprep: ${url}: ${scheme}:// URLs are not read (an http(s) URL or a local path is)\n`]);
    }
  });

  it('a loopback URL is refused naming --allow-private-urls; a URL that cannot be reached is named once', async () => {
    const refused = await cli(['plan', 'https://localhost:1/a.mp4']);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      'omniprep: https://localhost:1/a.mp4: localhost resolves to 127.0.0.1, which is a loopback address; private addresses are refused (--allow-private-urls allows them, on trusted networks)\n',
    ]);
    const down = await cli(['plan', 'http://127.0.0.1:1/a.mp4', '--allow-private-urls'], { timeoutMs: 120_000 });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^omniprep: http:\/\/127\.0\.0\.1:1\/a\.mp4: cannot connect to 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    expect(down.stderr.split('http://127.0.0.1:1/a.mp4')).toHaveLength(2);
  }, 150_000);

  it('request --help gives each default once', async () => {
    const r = await cli(['request', '--help']);
    expect(r.stdout).toMatch(/^ {2}--segment <n> +which request, when the media needs several \(default: 0\)$/m);
    expect(r.stdout).not.toMatch(/\(default[^)]*\) \(default/);
  });

  it('run where every request failed says nothing was billed', async () => {
    const r = await cli(['run', DEMO, '--prompt', 'hi', '--base-url', 'http://127.0.0.1:1/v1', '--api-key', 'x', '--retries', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^0\/1 requests answered \(gpt-5\.5\): nothing was billed \(the estimate was \$0\.\d{6}\)\nnot answered: /);
    expect(r.stdout).not.toContain('billed,');
  }, 60_000);
});
