/**
 * A finished job's request bodies, Batch JSONL and audio chunks, built from what the job wrote:
 * the same bodies the library builds from prepare() on the same file with the same options.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prepare } from '../../src/prepare.js';
import { buildRequests } from '../../src/request/build.js';
import { CACHE, fixture, tempDir } from '../helpers/fixtures.js';
import { api, startService, waitJob } from '../helpers/service.js';

describe('GET /v1/jobs/:id/requests, /batch, /audio/:n', () => {
  it("with grids: the grids and the frames no grid holds, as the library's bodies", async () => {
    const s = await startService({ workers: 1, allowRoots: [CACHE] });
    const dir = tempDir('svc-requests-');
    try {
      const clip = await fixture('timecode'); // 20 s: a frame every 2 s is 10 frames, two 2x2 grids and two frames alone
      const options = { every: 2, mode: 'exact', grid: { cols: 2, rows: 2 }, prompt: 'Describe.' } as const;
      const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options });
      expect(r.status, r.text).toBe(202);
      const job = await waitJob(s.url, r.json.id, 120_000);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      const lib = await prepare(clip, { ...options, dir });
      expect([lib.frames.grids?.length, lib.segments.flatMap((g) => g.frames).length]).toEqual([2, 4]);
      const got = await api(s.url, 'GET', `/v1/jobs/${job.id}/requests`);
      expect(got.status, got.text).toBe(200);
      const want = buildRequests({ ...lib, input: clip }, { prompt: options.prompt, input: clip });
      expect(got.json.requests.map((x: { body: unknown }) => x.body)).toEqual(want.map((x) => x.body));
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('are what the library builds for the same file and options', async () => {
    const s = await startService({ workers: 1, allowRoots: [CACHE] });
    const dir = tempDir('svc-requests-');
    try {
      const clip = await fixture('tonesVideo'); // 30 s, a tone with silences, 160x90
      const options = { every: 5, mode: 'exact', audio: true, prompt: 'What do you hear and see?' } as const;
      const r = await api(s.url, 'POST', '/v1/jobs', { path: clip, options });
      expect(r.status, r.text).toBe(202);
      const job = await waitJob(s.url, r.json.id, 120_000);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      const manifest = (await api(s.url, 'GET', `/v1/jobs/${job.id}/manifest`)).json;
      expect(manifest.audio.length).toBeGreaterThan(0);

      const lib = await prepare(clip, { ...options, dir });
      const got = await api(s.url, 'GET', `/v1/jobs/${job.id}/requests?api=chat`);
      expect(got.status, got.text).toBe(200);
      const want = buildRequests({ ...lib, input: clip }, { prompt: options.prompt, api: 'chat', input: clip });
      expect(got.json.api).toBe('chat');
      expect(got.json.requests.map((x: { body: unknown }) => x.body)).toEqual(want.map((x) => x.body));
      expect(got.json.requests.map((x: { id: string }) => x.id)).toEqual(want.map((x) => x.id));
      expect(got.json.requests.length).toBe(manifest.segments.length);
      // Audio cannot go to the Responses API: the library's one line.
      const responses = await api(s.url, 'GET', `/v1/jobs/${job.id}/requests?api=responses`);
      expect(responses.status).toBe(400);
      expect(responses.json.error.message).toMatch(/the Responses API takes no audio input; use the Chat Completions API/);

      // Without audio, Responses bodies (the default API then).
      const r2 = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 10, mode: 'exact', prompt: 'Describe.' } });
      const job2 = await waitJob(s.url, r2.json.id, 120_000);
      expect(job2.state).toBe('succeeded');
      const dir2 = tempDir('svc-requests-');
      try {
        const lib2 = await prepare(clip, { every: 10, mode: 'exact', dir: dir2 });
        const got2 = await api(s.url, 'GET', `/v1/jobs/${job2.id}/requests`);
        expect(got2.json.api).toBe('responses');
        expect(got2.json.requests.map((x: { body: unknown }) => x.body)).toEqual(
          buildRequests({ ...lib2, input: clip }, { prompt: 'Describe.', input: clip }).map((x) => x.body),
        );
      } finally {
        rmSync(dir2, { recursive: true, force: true });
      }

      // The batch file: one line a request, the Chat bodies (audio goes to Chat by default).
      const chat = (await api(s.url, 'GET', `/v1/jobs/${job.id}/requests?api=chat`)).json.requests;
      const batch = await fetch(`${s.url}/v1/jobs/${job.id}/batch`);
      expect(batch.status).toBe(200);
      expect(batch.headers.get('content-type')).toMatch(/^application\/jsonl/);
      expect(batch.headers.get('content-disposition')).toBe(`attachment; filename="omniprep-${job.id}.jsonl"`);
      const lines = (await batch.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(chat.length);
      expect(lines.map((l) => l.url)).toEqual(chat.map(() => '/v1/chat/completions'));
      expect(lines.map((l) => l.body)).toEqual(chat.map((c: { body: unknown }) => c.body));
      expect(new Set(lines.map((l) => l.custom_id)).size).toBe(lines.length);
      expect(await api(s.url, 'GET', '/v1/jobs').then((x) => x.status)).toBe(200);

      // Audio chunks: the bytes the manifest hashed.
      for (const c of manifest.audio) {
        const a = await fetch(`${s.url}/v1/jobs/${job.id}/audio/${c.index}`);
        expect(a.status).toBe(200);
        expect(a.headers.get('content-type')).toBe('audio/mpeg');
        expect(
          createHash('sha256')
            .update(Buffer.from(await a.arrayBuffer()))
            .digest('hex'),
        ).toBe(c.sha256);
      }
      const none = await api(s.url, 'GET', `/v1/jobs/${job.id}/audio/99`);
      expect(none.status).toBe(404);
      expect(none.json.error.message).toMatch(
        new RegExp(`has no audio chunk 99 \\(chunks: ${manifest.audio.map((c: { index: number }) => c.index).join(', ')}\\)$`),
      );

      // Not before it has succeeded.
      const queued = await api(
        s.url,
        'POST',
        `/v1/jobs/${(await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 0.2, mode: 'exact' } })).json.id}/cancel`,
      );
      const notReady = await api(s.url, 'GET', `/v1/jobs/${queued.json.id}/requests`);
      expect(notReady.status).toBe(409);
      expect(notReady.json.error.message).toMatch(/is cancelled; its requests exist once it has succeeded/);
      const bad = await api(s.url, 'GET', `/v1/jobs/${job.id}/requests?api=soap`);
      expect(bad.status).toBe(400);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
