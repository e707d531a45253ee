/**
 * The web page in a real browser (Debian's chromium through playwright-core) against a service in
 * this process: the page's numbers are checked against what the API answers for the same input
 * and options, and the frames it shows are decoded (the timecode bars say which frame each is).
 * Screenshots (desktop and 375 px wide) go to .cache/screenshots/. Skips, saying why, where no
 * chromium is installed (.ci/run installs it).
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenInputs, CACHE, fixture, readFrameNumber } from '../helpers/fixtures.js';
import { startOpenAITestServer } from '../helpers/openai/server.js';
import { api, upload, type Running, startService } from '../helpers/service.js';
import { chromiumMissing, launchChromium, openPage, screenshotPath, type Watched } from '../helpers/browser.js';

// Browser globals, for the callbacks that run in the page (this project compiles without the DOM lib).
declare const document: any;
declare const getComputedStyle: any;
declare const sessionStorage: any;
declare const localStorage: any;
type HTMLImageElement = any;
type HTMLInputElement = any;
type HTMLProgressElement = any;

const missing = chromiumMissing();
if (missing) console.warn(`web/page.test.ts: SKIPPED: ${missing}`);

const TOKEN = 'page-test-token-7c1f';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const LONG = 180_000;
const TEST_TIMEOUT = 600_000;

/** The page's dollar format (app.js `usd`). */
const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;
const n = (x: number): string => x.toLocaleString('en-US');

const text = async (page: Page, sel: string): Promise<string> => ((await page.textContent(sel)) ?? '').trim();
const cspErrors = (w: Watched): string[] => w.errors.filter((e) => /Content Security Policy|Refused to/i.test(e));

async function useToken(page: Page, token = TOKEN): Promise<void> {
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
}

/** Waits for the plan panel to show a plan at `every` seconds. */
async function planShown(page: Page, every: number): Promise<void> {
  await page.waitForFunction(
    (e) =>
      (document.getElementById('plan-status')?.textContent ?? '').includes(`every ${e} s`) &&
      document.body.getAttribute('aria-busy') === null &&
      !document.getElementById('plan')!.hidden &&
      document.getElementById('cost')!.getAttribute('aria-busy') === null,
    every,
    { timeout: LONG },
  );
}

describe.skipIf(Boolean(missing))('the web page in chromium', () => {
  let s: Running;
  let browser: Browser;

  beforeAll(async () => {
    s = await startService({ workers: 1, token: TOKEN, allowRoots: [CACHE] });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it(
    'without the token the page asks for it and shows nothing; the token stays out of every URL',
    async () => {
      const clip = await fixture('audioFirst');
      const pre = await api(s.url, 'POST', '/v1/jobs', { path: clip }, AUTH);
      expect(pre.status).toBe(202);
      const w = await openPage(browser, s.url);
      const { page } = w;
      try {
        const api401: number[] = [];
        page.on('response', (r) => {
          if (new URL(r.url()).pathname.startsWith('/v1/')) api401.push(r.status());
        });
        const res = await page.goto(`${s.url}/`);
        expect(res!.status()).toBe(200);
        const csp = res!.headers()['content-security-policy']!;
        expect(csp).toMatch(/default-src 'none'/);
        expect(csp).toMatch(/script-src 'self'(;|$)/);
        expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
        await expect.poll(() => text(page, '#token-status'), { timeout: 30_000 }).toMatch(/needs a bearer token/);
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
        expect(await page.getAttribute('#token', 'aria-invalid')).toBe('true');
        expect(api401.length).toBeGreaterThan(0);
        expect(api401.every((x) => x === 401)).toBe(true);
        expect(await page.locator('#jobs-body tr').count()).toBe(0);
        expect(await page.content()).not.toContain(pre.json.id);

        await useToken(page, 'not-the-token');
        await expect.poll(() => text(page, '#token-status'), { timeout: 30_000 }).toMatch(/token is wrong/);
        expect(await page.locator('#jobs-body tr').count()).toBe(0);

        await useToken(page);
        await page.waitForSelector(`#jobs-body tr[data-job="${pre.json.id}"]`, { timeout: 30_000 });
        expect(await text(page, '#token-status')).toMatch(/kept for this tab only/);

        // The model picker: every provider's models from GET /v1/models, grouped, each with its price and rule.
        const models = (await api(s.url, 'GET', '/v1/models', undefined, AUTH)).json.models as any[];
        const groups: Array<[string, string[][]]> = await page.evaluate(() =>
          [...document.querySelectorAll('#model optgroup')].map((g: any) => [
            g.label,
            [...g.querySelectorAll('option')].map((o: any) => [o.value, o.textContent]),
          ]),
        );
        expect(groups.map((g) => g[0])).toEqual(['OpenAI', 'Anthropic', 'Google Gemini']);
        expect(groups.map((g) => g[1].map((o) => o[0]))).toEqual(
          ['openai', 'anthropic', 'gemini'].map((p) => models.filter((m) => m.provider === p).map((m) => m.name)),
        );
        const sonnet = models.find((m) => m.name === 'claude-sonnet-4.5')!;
        expect(groups[1]![1].find((o) => o[0] === 'claude-sonnet-4.5')![1]).toBe(
          `claude-sonnet-4.5 · $${sonnet.prices.standard.input} in / $${sonnet.prices.standard.output} out per 1M · claude-standard`,
        );
        expect(groups[2]![1].find((o) => o[0] === 'gemini-2.5-flash')![1]).toMatch(/ · gemini-2-tiles · video$/);
        await page.selectOption('#model', 'gemini-2.5-flash');
        const flash = models.find((m) => m.name === 'gemini-2.5-flash')!;
        expect(await text(page, '#model-info')).toBe(
          `Google Gemini; token rule gemini-2-tiles (gemini-tiles, ${flash.rule.date}); USD per 1M tokens: standard $${flash.prices.standard.input} in / $${flash.prices.standard.output} out; batch $${flash.prices.batch.input} in / $${flash.prices.batch.output} out; takes video natively, takes audio.`,
        );
        await page.selectOption('#model', 'gpt-5.5');
        expect(await page.evaluate(() => [sessionStorage.getItem('omniprep.token'), localStorage.length])).toEqual([TOKEN, 0]);
        expect(await w.context.cookies()).toEqual([]);
        // A reload in the same tab keeps it (sessionStorage); the list comes back without typing.
        await page.reload();
        await page.waitForSelector(`#jobs-body tr[data-job="${pre.json.id}"]`, { timeout: 30_000 });

        for (const r of w.requests) expect(r.url()).not.toContain(TOKEN);
        const authed = w.requests.filter((r) => new URL(r.url()).pathname.startsWith('/v1/') && r.headers().authorization === `Bearer ${TOKEN}`);
        expect(authed.length).toBeGreaterThan(0);
        // The page and its assets never carry the token (they need none).
        for (const r of w.requests.filter((x) => !new URL(x.url()).pathname.startsWith('/v1/'))) expect(r.headers().authorization).toBeUndefined();
        expect(w.outside).toEqual([]);
        expect(cspErrors(w)).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'upload: plan and curve, a new interval changes the cost, the job runs to done, its frames are the planned ones',
    async () => {
      const clip = await fixture('timecode'); // 20 s, 30 fps, keyframes every 2 s, a tone
      const w = await openPage(browser, s.url);
      const { page } = w;
      try {
        await page.goto(`${s.url}/`);
        await useToken(page);
        await expect.poll(() => text(page, '#token-status'), { timeout: 30_000 }).toMatch(/kept for this tab only/);
        await page.setInputFiles('#file', clip);
        await planShown(page, 5);
        await page.waitForSelector('#curve:not([hidden])', { timeout: LONG });

        // The page's plan is the API's plan for the same upload and options.
        const opts = { every: 5, mode: 'keyframe', model: 'gpt-5.5', tier: 'standard' };
        const ref5 = (await upload(s.url, clip, opts, { path: '/v1/plan', headers: AUTH })).json;
        expect(ref5.frames.length).toBe(4);
        expect(await text(page, '#plan-frames')).toBe(String(ref5.frames.length));
        expect(await text(page, '#plan-image-tokens')).toBe(n(ref5.imageTokens));
        expect(await text(page, '#plan-text-tokens')).toBe(n(ref5.textTokens));
        expect(await text(page, '#plan-cost')).toBe(`${usd(ref5.costUsd)} (standard)`);
        for (const [tier, v] of Object.entries(ref5.costByTier as Record<string, number>))
          expect(await text(page, `#plan-tiers td[data-tier="${tier}"]`)).toBe(usd(v));
        expect(await text(page, '#plan-rule')).toContain(ref5.rules.image);
        expect(await page.locator('#plan-times li').count()).toBe(ref5.frames.length);

        // The curve: the server's chart drawn, and its numbers, with this plan's row marked.
        await page.waitForSelector('#curve:not([hidden])', { timeout: LONG });
        await page.waitForFunction(() => (document.getElementById('curve-img') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 30_000 });
        expect(await page.getAttribute('#curve-img', 'alt')).toMatch(/dollars per run against the sampling interval/);
        const rows = page.locator('#curve-table tbody tr');
        expect(await rows.count()).toBe(5);
        expect(await page.locator('#curve-table tbody tr.current').getAttribute('data-every')).toBe('5');
        expect(await text(page, '#curve-table tbody tr.current td:nth-child(4)')).toBe(String(ref5.frames.length));

        // A new interval: typed, then one step with the keyboard on the slider.
        await page.fill('#every', '2');
        await planShown(page, 2);
        const ref2 = (await upload(s.url, clip, { ...opts, every: 2 }, { path: '/v1/plan', headers: AUTH })).json;
        expect(ref2.frames.length).toBe(10);
        expect(await text(page, '#plan-frames')).toBe('10');
        expect(await text(page, '#plan-cost')).toBe(`${usd(ref2.costUsd)} (standard)`);
        expect(ref2.costUsd).toBeGreaterThan(ref5.costUsd);
        expect(await text(page, '#curve-caption')).toContain(`every 2 s, 10 frames, ${usd(ref2.costUsd)}`);
        await page.focus('#every-slider');
        await page.keyboard.press('ArrowRight');
        await planShown(page, 3);
        expect(await page.inputValue('#every')).toBe('3');
        await page.fill('#every', '2');
        await planShown(page, 2);

        // A budget: the densest plan that fits, as the API's budget chooser picks it.
        const budget = Number((ref5.costUsd * 1.001).toFixed(6));
        const refB = (await upload(s.url, clip, { ...opts, every: 2, budget }, { path: '/v1/plan', headers: AUTH })).json;
        expect(refB.budget.changed).toBe(true);
        expect(refB.costUsd).toBeLessThanOrEqual(budget);
        await page.fill('#budget', String(budget));
        const c = refB.budget.chosen;
        await expect
          .poll(() => text(page, '#plan-budget'), { timeout: LONG })
          .toContain(`the densest plan that fits samples every ${c.every} s at detail ${c.detail}`);
        expect(await text(page, '#plan-cost')).toBe(`${usd(refB.costUsd)} (standard)`);
        await page.fill('#budget', '');
        await expect.poll(() => page.isHidden('#plan-budget'), { timeout: LONG }).toBe(true);
        await planShown(page, 2);
        expect(await text(page, '#plan-frames')).toBe('10');

        // Run it.
        await page.click('#start-job');
        await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('succeeded');
        const id = await page.locator('#jobs-body tr').first().getAttribute('data-job');
        const job = (await api(s.url, 'GET', `/v1/jobs/${id}`, undefined, AUTH)).json;
        expect(job.state).toBe('succeeded');
        expect(await text(page, '#job-id')).toContain(job.id);
        expect(job.result.frames).toBe(10);
        expect(await text(page, '#job-count')).toBe('10 of 10 frames');
        expect(
          await page.evaluate(() => {
            const p = document.getElementById('job-progress') as HTMLProgressElement;
            return [p.value, p.max];
          }),
        ).toEqual([10, 10]);
        expect(await text(page, '#job-stage')).toBe('done');

        // The contact sheet: one thumbnail per planned frame, each the frame its timestamp names.
        await page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
        const thumbs = page.locator('#sheet li.frame img');
        expect(await thumbs.count()).toBe(ref2.frames.length);
        const manifest = (await api(s.url, 'GET', `/v1/jobs/${id}/manifest`, undefined, AUTH)).json;
        for (let i = 0; i < ref2.frames.length; i++) {
          await thumbs.nth(i).scrollIntoViewIfNeeded();
          await page.waitForSelector(`#sheet li.frame img[data-index="${i}"][data-loaded="true"]`, { timeout: 30_000 });
          // The pixels the page shows (drawn to a canvas: the CSP lets no script fetch the blob URL).
          const png = await page.evaluate((idx) => {
            const img = document.querySelector(`#sheet img[data-index="${idx}"]`) as HTMLImageElement;
            const c = document.createElement('canvas');
            c.width = img.naturalWidth;
            c.height = img.naturalHeight;
            c.getContext('2d')!.drawImage(img, 0, 0);
            return c.toDataURL('image/png');
          }, i);
          const f = manifest.frames.frames[i];
          expect(await readFrameNumber(Buffer.from(png.split(',')[1]!, 'base64'))).toBe(Math.round(f.timestampSec * 30));
          expect(await text(page, `#sheet li[data-index="${i}"] .meta`)).toContain(
            `${f.timestampSec.toFixed(2)} s · ${f.keyframe ? 'keyframe' : 'not a keyframe'} · ${f.width}×${f.height}`,
          );
        }

        // Open a frame: the full image in a dialog; Escape closes it.
        await page.click('#sheet li[data-index="3"] button.thumb');
        await page.waitForSelector('#frame-dialog[open]', { timeout: 30_000 });
        await page.waitForFunction(() => (document.getElementById('frame-full') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 30_000 });
        expect(await page.evaluate(() => (document.getElementById('frame-full') as HTMLImageElement).naturalWidth)).toBe(manifest.frames.frames[3].width);
        expect(await text(page, '#frame-dialog-title')).toContain(`Frame 3 at ${manifest.frames.frames[3].timestampSec.toFixed(2)} s`);
        await page.screenshot({ path: screenshotPath('page-frame-dialog.png') });
        await page.keyboard.press('Escape');
        await page.waitForSelector('#frame-dialog', { state: 'hidden', timeout: 30_000 });
        expect(await page.evaluate(() => document.activeElement?.closest('li')?.getAttribute('data-index'))).toBe('3');

        // The manifest download is GET /v1/jobs/:id/manifest.
        const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('#download-manifest')]);
        expect(download.suggestedFilename()).toBe(`omniprep-${id}-manifest.json`);
        expect(JSON.parse(readFileSync((await download.path())!, 'utf8'))).toEqual(manifest);

        // The jobs list shows it with its numbers.
        const row = page.locator(`#jobs-body tr[data-job="${id}"]`);
        expect(await row.locator('td').nth(1).textContent()).toBe('succeeded');
        expect(await row.locator('td').nth(3).textContent()).toBe('10');
        expect(await row.locator('td').nth(4).textContent()).toBe(usd(job.plan.costUsd));

        await page.screenshot({ path: screenshotPath('page-desktop.png'), fullPage: true });
        expect(w.outside).toEqual([]);
        expect(cspErrors(w)).toEqual([]);
        // The only console errors: the API's 401 answers before the token was typed.
        expect(w.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'a long job by path is cancelled from the page; a bad file and a bad option are shown where they belong',
    async () => {
      const w = await openPage(browser, s.url);
      const { page } = w;
      try {
        await page.goto(`${s.url}/`);
        await useToken(page);
        await expect.poll(() => text(page, '#token-status'), { timeout: 30_000 }).toMatch(/kept for this tab only/);

        // A long job (60 s, 10 s GOPs, an exact frame every 0.5 s), named by its path on the server.
        const long = await fixture('longgop');
        await page.check('input[name="kind"][value="path"]');
        await page.fill('#path', long);
        await page.fill('#every', '0.5');
        await page.selectOption('#mode', 'exact');
        await planShown(page, 0.5);
        expect(await text(page, '#plan-frames')).toBe('120');
        await page.click('#start-job');
        await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('running');
        await page.click('#cancel-job');
        await expect.poll(() => text(page, '#job-state'), { timeout: 60_000 }).toBe('cancelled');
        const id = (await text(page, '#job-id')).split('job ').pop()!;
        expect((await api(s.url, 'GET', `/v1/jobs/${id}`, undefined, AUTH)).json.state).toBe('cancelled');
        expect(await page.isHidden('#cancel-job')).toBe(true);
        await page.click('#refresh-jobs');
        await expect.poll(() => page.locator(`#jobs-body tr[data-job="${id}"] .badge`).textContent(), { timeout: 30_000 }).toBe('cancelled');
        // A path job can be retried from the list; that one is cancelled from the list.
        await page.click(`#jobs-body tr[data-job="${id}"] button:text("Retry")`);
        await expect.poll(async () => (await text(page, '#job-id')).split('job ').pop(), { timeout: 30_000 }).not.toBe(id);
        const again = (await text(page, '#job-id')).split('job ').pop()!;
        const retried = (await api(s.url, 'GET', `/v1/jobs/${again}`, undefined, AUTH)).json;
        expect(retried.options).toMatchObject({ every: 0.5, mode: 'exact' });
        await page.click('#refresh-jobs');
        await page.click(`#jobs-body tr[data-job="${again}"] button:text("Cancel")`);
        await expect.poll(async () => (await api(s.url, 'GET', `/v1/jobs/${again}`, undefined, AUTH)).json.state, { timeout: 60_000 }).toBe('cancelled');

        // A bad option: the service's line next to its field.
        await page.fill('#every', '-1');
        await expect.poll(() => text(page, '#err-every'), { timeout: 30_000 }).toMatch(/every/);
        const badOption = await api(s.url, 'POST', '/v1/plan', { path: long, options: { every: -1, mode: 'exact', model: 'gpt-5.5', tier: 'standard' } }, AUTH);
        expect(badOption.status).toBe(400);
        expect(await text(page, '#err-every')).toBe(badOption.json.error.message);
        expect(await page.getAttribute('#every', 'aria-invalid')).toBe('true');

        // A bad file: the service's one line next to the input, for the plan and for the job.
        const broken = await brokenInputs();
        const before = (await api(s.url, 'GET', '/v1/jobs?limit=100', undefined, AUTH)).json.jobs.length;
        await page.fill('#every', '5');
        await page.check('input[name="kind"][value="upload"]');
        const ref = await upload(s.url, broken.random!, { every: 5, mode: 'exact', model: 'gpt-5.5', tier: 'standard' }, { path: '/v1/plan', headers: AUTH });
        expect(ref.status).toBeGreaterThanOrEqual(400);
        await page.setInputFiles('#file', broken.random!);
        await expect.poll(() => text(page, '#err-input'), { timeout: 60_000 }).toBe(ref.json.error.message);
        expect(ref.json.error.message).toContain('random.mp4');
        expect(await page.isHidden('#plan')).toBe(true);
        await page.click('#start-job');
        await expect.poll(() => text(page, '#upload-status'), { timeout: 60_000 }).toBe('');
        expect(await text(page, '#err-input')).toBe(ref.json.error.message);
        expect((await api(s.url, 'GET', '/v1/jobs?limit=100', undefined, AUTH)).json.jobs.length).toBe(before);
        await page.screenshot({ path: screenshotPath('page-errors.png'), fullPage: true });
        expect(w.outside).toEqual([]);
        expect(cspErrors(w)).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'a job with audio, dedup and a grid: chunks on a timeline with a player, drops greyed with their reason, grids, request downloads',
    async () => {
      const tones = await fixture('tonesVideo'); // 30 s of tone with silences
      const slides = await fixture('slides'); // 30 s, three static slides
      const timecode = await fixture('timecode');
      const submit = async (path: string, options: Record<string, unknown>): Promise<any> => {
        const r = await api(s.url, 'POST', '/v1/jobs', { path, options }, AUTH);
        expect(r.status, r.text).toBe(202);
        return r.json.id;
      };
      const audioId = await submit(tones, { every: 10, mode: 'exact', audio: true, audioOptions: { chunkSeconds: 8 }, prompt: 'What do you hear?' });
      const dedupId = await submit(slides, { every: 2, mode: 'exact', dedup: true });
      const gridId = await submit(timecode, { every: 2, mode: 'exact', grid: { cols: 2, rows: 2 } });
      const w = await openPage(browser, s.url);
      const { page } = w;
      try {
        await page.goto(`${s.url}/`);
        await useToken(page);
        const open = async (id: string): Promise<any> => {
          await page.click('#refresh-jobs');
          await page.click(`#jobs-body tr[data-job="${id}"] button:text("Open")`);
          await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('succeeded');
          await page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
          await expect.poll(() => text(page, '#job-id'), { timeout: 30_000 }).toContain(id);
          return (await api(s.url, 'GET', `/v1/jobs/${id}/manifest`, undefined, AUTH)).json;
        };

        // Audio: one block per chunk, the cut points, a player that plays the chunk asked for.
        const am = await open(audioId);
        expect(am.audio.length).toBeGreaterThan(1);
        expect(await page.locator('#timeline .chunk').count()).toBe(am.audio.length);
        expect(await text(page, '#cuts')).toBe(
          am.audio
            .slice(1)
            .map((c: { startSec: number }) => `${c.startSec.toFixed(2)} s`)
            .join(', '),
        );
        await page.click('#timeline .chunk[data-chunk="1"]');
        await page.waitForFunction(
          () => {
            const a = document.getElementById('audio-player');
            return a.dataset.chunk === '1' && a.readyState >= 1 && Number.isFinite(a.duration);
          },
          undefined,
          { timeout: 30_000 },
        );
        const duration = await page.evaluate(() => document.getElementById('audio-player').duration as number);
        expect(Math.abs(duration - am.audio[1].durationSec)).toBeLessThan(0.1);
        // Request bodies and the Batch file, as the API serves them; Responses takes no audio: its line is shown.
        const [chat] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('#download-chat')]);
        expect(chat.suggestedFilename()).toBe(`omniprep-${audioId}-chat.json`);
        expect(JSON.parse(readFileSync((await chat.path())!, 'utf8'))).toEqual(
          (await api(s.url, 'GET', `/v1/jobs/${audioId}/requests?api=chat`, undefined, AUTH)).json,
        );
        const [batch] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('#download-batch')]);
        expect(readFileSync((await batch.path())!, 'utf8')).toBe((await api(s.url, 'GET', `/v1/jobs/${audioId}/batch`, undefined, AUTH)).text);
        await page.click('#download-responses');
        const refused = (await api(s.url, 'GET', `/v1/jobs/${audioId}/requests?api=responses`, undefined, AUTH)).json.error.message;
        await expect.poll(() => text(page, '#download-error'), { timeout: 30_000 }).toBe(refused);

        // Dedup: the dropped frames greyed, each with the frame it repeats.
        const dm = await open(dedupId);
        expect(dm.frames.dropped.length).toBeGreaterThan(0);
        expect(await page.locator('#sheet li.frame').count()).toBe(dm.frames.frames.length);
        expect(await page.locator('#sheet li.dropped').count()).toBe(dm.frames.dropped.length);
        for (const d of dm.frames.dropped) {
          expect(await text(page, `#sheet li[data-dropped="${d.index}"] .thumb-none`)).toBe(
            `dropped: a repeat of frame ${d.duplicateOf} (distance ${d.distance})`,
          );
        }
        expect(await page.evaluate(() => Number(getComputedStyle(document.querySelector('#sheet li.dropped')).opacity))).toBeLessThan(1);
        expect(await page.locator('#audio-result').isHidden()).toBe(true);

        // Grids: one block per grid image, its cells in the grid's columns.
        const gm = await open(gridId);
        expect(gm.frames.grids.length).toBe(2); // 10 frames, 4 to a grid; the last 2 go alone (a half-empty grid costs more)
        expect(await page.locator('#grids .gridset').count()).toBe(2);
        expect(await page.locator('#grids .gridset').first().locator('span').count()).toBe(4);
        expect(await page.evaluate(() => getComputedStyle(document.querySelector('#grids .gridset')).gridTemplateColumns.split(' ').length)).toBe(2);
        await page.screenshot({ path: screenshotPath('page-grid.png'), fullPage: true });
        expect(w.outside).toEqual([]);
        expect(cspErrors(w)).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'call: true: without a key the page says so by the option; with one, the answer and the billed dollars',
    async () => {
      const clip = await fixture('audioFirst');
      const run = async (url: string, expectDone: boolean): Promise<{ page: Page; w: Watched }> => {
        const w = await openPage(browser, url);
        const { page } = w;
        await page.goto(`${url}/`);
        await useToken(page);
        await page.check('input[name="kind"][value="path"]');
        await page.fill('#path', clip);
        await page.fill('#every', '1');
        await page.fill('#prompt', 'What is shown?');
        await page.check('#call');
        await planShown(page, 1);
        await page.click('#start-job');
        if (expectDone) await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('succeeded');
        return { page, w };
      };
      // This server has no API key: the service's line, by the option.
      const a = await run(s.url, false);
      try {
        const refused = await api(s.url, 'POST', '/v1/jobs', { path: clip, options: { every: 1, prompt: 'What is shown?', call: true } }, AUTH);
        expect(refused.status).toBe(400);
        await expect.poll(() => text(a.page, '#err-call'), { timeout: 30_000 }).toBe(refused.json.error.message);
        expect(refused.json.error.message).toMatch(/option call: this server has no API key/);
      } finally {
        await a.w.context.close();
      }
      // A server with a key (the OpenAI test server): the answer and the estimate against what was billed.
      const model = await startOpenAITestServer();
      const keyed = await startService({ workers: 1, token: TOKEN, allowRoots: [CACHE], baseURL: model.baseURL, apiKey: 'test' });
      try {
        const b = await run(keyed.url, true);
        try {
          await b.page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
          const id = (await text(b.page, '#job-id')).split('job ').pop()!;
          const job = (await api(keyed.url, 'GET', `/v1/jobs/${id}`, undefined, AUTH)).json;
          expect(job.result.dispatch.answers[0].status).toBe('ok');
          expect(model.stats.total).toBe(1);
          expect(await text(b.page, '#answers .answer')).toBe(job.result.dispatch.answers[0].text.trim());
          const { estimated, actual } = job.estimate;
          expect(await text(b.page, '#estimate div:nth-child(5) dd')).toBe(`${usd(estimated.costUsd)} / ${usd(actual.costUsd)}`);
          expect(await text(b.page, '#estimate div:nth-child(4) dd')).toBe(`${n(estimated.inputTokens)} / ${n(actual.inputTokens)}`);
          expect(await text(b.page, `#jobs-body tr[data-job="${id}"] td:nth-child(6)`)).toBe(usd(actual.costUsd));
          expect(cspErrors(b.w)).toEqual([]);
          expect(b.w.outside).toEqual([]);
        } finally {
          await b.w.context.close();
        }
      } finally {
        await keyed.close();
        await model.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'at 375 px wide: nothing overflows, a finished job opens from the list; every control has a label',
    async () => {
      const w = await openPage(browser, s.url, { width: 375, height: 812 });
      const { page } = w;
      try {
        await page.goto(`${s.url}/`);
        await useToken(page);
        await expect.poll(() => text(page, '#token-status'), { timeout: 30_000 }).toMatch(/kept for this tab only/);
        // The keyboard reaches the skip link, then the token field (after a reload: nothing has focus).
        await page.reload();
        await page.waitForSelector('#jobs-body tr', { timeout: 30_000 });
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip');
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
        const done = (await api(s.url, 'GET', '/v1/jobs?limit=100', undefined, AUTH)).json.jobs.find(
          (j: { state: string; result: { frames: number } | null }) => j.state === 'succeeded' && j.result?.frames === 10,
        );
        expect(done).toBeDefined();
        await page.click(`#jobs-body tr[data-job="${done.id}"] button:text("Open")`);
        await page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
        expect(await page.locator('#sheet li.frame').count()).toBe(10);
        await page.locator('#sheet li.frame img').first().scrollIntoViewIfNeeded();
        await page.waitForSelector('#sheet li.frame img[data-loaded="true"]', { timeout: 30_000 });
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
        await page.screenshot({ path: screenshotPath('page-375.png'), fullPage: true });

        // Labels: every form control is named; every button has text.
        const unlabelled = await page.evaluate(() =>
          [...document.querySelectorAll('input, select, textarea')]
            .filter((e) => !((e as HTMLInputElement).labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')))
            .map((e) => e.id || e.outerHTML),
        );
        expect(unlabelled).toEqual([]);
        const nameless = await page.evaluate(() =>
          [...document.querySelectorAll('button')].filter((b) => !(b.textContent ?? '').trim() && !b.getAttribute('aria-label')).map((b) => b.outerHTML),
        );
        expect(nameless).toEqual([]);
        expect(w.outside).toEqual([]);
        expect(cspErrors(w)).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );
});
