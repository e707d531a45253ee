/**
 * `omniprep serve` as a supervisor sees it (the built CLI: npm run build): a port in use is one
 * line and exit 1 at once (the node closes its store, queue and workers instead of running on
 * without a server); `--host 0.0.0.0` prints the address it really listens on and warns when no
 * OMNIPREP_TOKEN guards it.
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { spawnNode } from '../helpers/service.js';

function busyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('omniprep serve', () => {
  it('on a port in use: one line, exit 1, and the process ends', async () => {
    const { server, port } = await busyPort();
    try {
      const data = join(tempDir('serve-'), 'data');
      const r = await cli(['serve', '--port', String(port), '--data', data], { timeoutMs: 60_000 });
      expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `omniprep: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)\n`]);
      // The data directory is free again: a server on it starts.
      const n = await spawnNode(['serve', '--port', '0', '--data', data]);
      n.child.kill('SIGTERM');
      expect(await n.exited).toBe('143');
    } finally {
      server.close();
    }
  }, 120_000);

  it('--host 0.0.0.0: says where it listens, and warns without OMNIPREP_TOKEN', async () => {
    const n = await spawnNode(['serve', '--port', '0', '--host', '0.0.0.0', '--data', join(tempDir('serve-'), 'data')], { OMNIPREP_TOKEN: '' });
    try {
      expect(n.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      const port = new URL(n.url!).port;
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      expect(n.output()).toContain(
        'omniprep: warning: listening on 0.0.0.0, reachable from other machines, and OMNIPREP_TOKEN is not set: anyone who reaches the port can submit jobs and read their frames\n',
      );
    } finally {
      n.child.kill('SIGTERM');
      await n.exited;
    }
    const guarded = await spawnNode(['serve', '--port', '0', '--host', '0.0.0.0', '--data', join(tempDir('serve-'), 'data')], { OMNIPREP_TOKEN: 's3cret' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(guarded.output()).not.toContain('warning');
    } finally {
      guarded.child.kill('SIGTERM');
      await guarded.exited;
    }
  }, 120_000);
});
