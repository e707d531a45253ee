/**
 * `omniprep serve` as a supervisor sees it (the built CLI: npm run build): a port in use is one
 * line and exit 1 at once (the node closes its store, queue and workers instead of running on
 * without a server); `--host 0.0.0.0` prints the address it really listens on and warns when no
 * OMNIPREP_TOKEN guards it.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
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
      expect(guarded.output()).not.toContain('OMNIPREP_TOKEN is not set');
    } finally {
      guarded.child.kill('SIGTERM');
      await guarded.exited;
    }
  }, 120_000);

  it('warns at start when it decodes untrusted input with an outdated build, and not with a current one', async () => {
    const old = await spawnNode(['serve', '--port', '0', '--data', join(tempDir('serve-'), 'data')], {
      OMNIPREP_FFMPEG: (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path,
    });
    try {
      const warning = old
        .output()
        .split('\n')
        .find((l) => l.includes('decodes untrusted input with ffmpeg'));
      expect(warning).toBe(
        'omniprep: warning: this service decodes untrusted input with ffmpeg N-47683-g0e8eb07980-static (OMNIPREP_FFMPEG), a 2018 build older than the patched 7.1 release; ' +
          "set OMNIPREP_FFMPEG to a current ffmpeg, or install one on PATH (the distribution's package) or ffmpeg-static",
      );
    } finally {
      old.child.kill('SIGTERM');
      await old.exited;
    }
    // A current build (the machine has none: a script that prints one's version line; serve only asks it -version at start).
    const dir = tempDir('serve-');
    for (const name of ['ffmpeg', 'ffprobe']) {
      writeFileSync(join(dir, name), `#!/bin/sh\necho '${name} version 7.1.2 Copyright (c) 2000-2025 the FFmpeg developers'\n`);
      chmodSync(join(dir, name), 0o755);
    }
    const current = await spawnNode(['serve', '--port', '0', '--data', join(dir, 'data')], {
      OMNIPREP_FFMPEG: join(dir, 'ffmpeg'),
      OMNIPREP_FFPROBE: join(dir, 'ffprobe'),
    });
    try {
      expect(current.output()).not.toContain('decodes untrusted input');
    } finally {
      current.child.kill('SIGTERM');
      await current.exited;
    }
  }, 120_000);
});
