/**
 * The page's flows on the service's newer endpoints, in chromium against one service and the
 * OpenAI, Anthropic and Gemini test servers: a file is uploaded once (POST /v1/uploads) and every
 * estimate and the job name it by id (the bytes each request carries are counted); grid images on
 * the contact sheet; Cancel and Delete as separate actions (Delete asks, then removes the job's
 * files from the data directory); a Gemini model's cost panel puts native video beside frames, and
 * a Claude job and a Gemini video job run from the page; an eval runs from the Eval view on a
 * coded video (the test servers answer a needle right only when a frame they got shows it), its
 * chart drawn with the frontier and the recommended plan.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/plan.js';
import { startAnthropicTestServer, type AnthropicTestServer } from '../helpers/anthropic/server.js';
import { CACHE, fixture } from '../helpers/fixtures.js';
import { codedVideo, needleQuestion, needleReply, type NeedleKey } from '../helpers/frame-code.js';
import { startGeminiTestServer, type GeminiTestServer } from '../helpers/gemini/server.js';
import { startOpenAITestServer, type OpenAITestServer } from '../helpers/openai/server.js';
import { api, type Running, startService } from '../helpers/service.js';
import { ownedTempDirs } from '../helpers/temp.js';
import { axe, narrowProblems } from '../helpers/axe.js';
import { startByteProxy, type ByteProxy, type Counted } from '../helpers/byte-proxy.js';
import { chromiumMissing, launchChromium, openPage, type Watched } from '../helpers/browser.js';

// Browser globals, for the callbacks that run in the page (this project compiles without the DOM lib).
declare const document: any;

const missing = chromiumMissing();
if (missing) console.warn(`web/flows.test.ts: SKIPPED: ${missing}`);

const temp = ownedTempDirs();
const TOKEN = 'flows-test-token-91b4';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const LONG = 180_000;
const TEST_TIMEOUT = 600_000;

const text = async (page: Page, sel: string): Promise<string> => ((await page.textContent(sel)) ?? '').trim();
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const apiPath = (r: Request): string => new URL(r.url()).pathname;
/** The page's dollar format (dom.js `usd`). */
const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;

/** Bytes the requests sent (headers and bodies), as the proxy in front of the service counted them. */
const sent = (requests: Counted[]): number => requests.reduce((a, r) => a + r.headerBytes + r.bodyBytes, 0);

/** No serious axe violation at the page's width and at 375 px, where nothing overflows and every control can be hit. */
async function narrowAndAxe(page: Page): Promise<void> {
  expect((await axe(page)).serious).toEqual([]);
  const size = page.viewportSize()!;
  await page.setViewportSize({ width: 375, height: 812 });
  try {
    expect(await narrowProblems(page)).toEqual([]);
    expect((await axe(page)).serious).toEqual([]);
  } finally {
    await page.setViewportSize(size);
  }
}

async function useToken(page: Page): Promise<void> {
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Enter');
  await page.waitForFunction(() => (document.getElementById('token-status')?.textContent ?? '').includes('kept for this tab only'), undefined, {
    timeout: 30_000,
  });
}

async function planShown(page: Page, every: number): Promise<void> {
  await page.waitForFunction(
    (e) =>
      (document.getElementById('plan-status')?.textContent ?? '').includes(`every ${e} s`) &&
      !document.getElementById('plan').hidden &&
      document.getElementById('cost').getAttribute('aria-busy') === null,
    every,
    { timeout: LONG },
  );
}

describe.skipIf(Boolean(missing))('the page: uploads sent once, grids, cancel and delete, every provider, evals', () => {
  let s: Running;
  let browser: Browser;
  let openai: OpenAITestServer;
  let claude: AnthropicTestServer;
  let gemini: GeminiTestServer;
  let proxy: ByteProxy;

  beforeAll(async () => {
    [openai, claude, gemini] = await Promise.all([startOpenAITestServer(), startAnthropicTestServer(), startGeminiTestServer()]);
    s = await startService({
      workers: 1,
      token: TOKEN,
      allowRoots: [CACHE],
      baseURL: openai.baseURL,
      apiKey: 'test-key',
      providers: { anthropic: { baseURL: claude.baseURL, apiKey: 'test-key' }, gemini: { baseURL: gemini.baseURL, apiKey: 'test-key' } },
    });
    proxy = await startByteProxy(s.url);
    browser = await launchChromium();
  }, LONG);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await s?.close();
    await Promise.all([openai?.close(), claude?.close(), gemini?.close()]);
  });

  async function open(): Promise<Watched> {
    const w = await openPage(browser, proxy.url);
    await w.page.goto(`${proxy.url}/`);
    await useToken(w.page);
    return w;
  }

  it(
    'a file is uploaded once: options re-plan and the job is submitted by its id, sending a few kB each',
    async () => {
      const clip = await fixture('timecode');
      const size = statSync(clip).size;
      const w = await open();
      const { page } = w;
      try {
        await page.setInputFiles('#file', clip);
        await planShown(page, 5);
        await page.waitForSelector('#curve:not([hidden])', { timeout: LONG });
        const uploads = w.requests.filter((r) => apiPath(r) === '/v1/uploads');
        expect(uploads.length).toBe(1);
        expect(proxy.requests.filter((r) => r.path === '/v1/uploads').map((r) => r.bodyBytes > size)).toEqual([true]);
        const up = await (await uploads[0]!.response())!.json();
        expect(up).toMatchObject({ sha256: sha256(clip), size, name: basename(clip), deduplicated: false });
        expect(await text(page, '#upload-status')).toContain('uploaded once');

        // Options change: each estimate names the upload; nothing carries the file again.
        const mark = w.requests.length;
        const counted = proxy.requests.length;
        await page.fill('#every', '2');
        await planShown(page, 2);
        await page.selectOption('#tier', 'batch');
        await expect.poll(() => text(page, '#plan-cost'), { timeout: LONG }).toMatch(/\(batch\)$/);
        await page.selectOption('#tier', 'standard');
        await expect.poll(() => text(page, '#plan-cost'), { timeout: LONG }).toMatch(/\(standard\)$/);
        await planShown(page, 2);
        // The page's plan is the API's for the same upload id and options.
        const ref = (await api(s.url, 'POST', '/v1/plan', { upload: up.id, options: { every: 2, mode: 'keyframe', model: 'gpt-5.5', tier: 'standard' } }, AUTH))
          .json;
        expect(await text(page, '#plan-frames')).toBe(String(ref.frames.length));
        expect(ref.frames.length).toBe(10);

        await page.click('#start-job');
        await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('succeeded');
        const after = w.requests.slice(mark).filter((r) => r.method() === 'POST');
        expect(after.filter((r) => apiPath(r) === '/v1/uploads')).toEqual([]);
        const plans = after.filter((r) => apiPath(r) === '/v1/plan');
        const jobs = after.filter((r) => apiPath(r) === '/v1/jobs');
        expect(plans.length).toBeGreaterThanOrEqual(3);
        expect(jobs.length).toBe(1);
        for (const r of [...plans, ...jobs]) expect(r.postDataJSON().upload).toBe(up.id);
        const later = proxy.requests.slice(counted);
        expect(later.filter((r) => r.path === '/v1/uploads')).toEqual([]);
        expect(later.filter((r) => r.method === 'POST').length).toBe(after.length);
        // Every request after the upload (estimates, curve, the job, its events and frames) together: a few kB.
        expect(sent(later)).toBeLessThan(10 * 1024);
        const job = (await jobs[0]!.response())!;
        const id = (await job.json()).id;
        const record = (await api(s.url, 'GET', `/v1/jobs/${id}`, undefined, AUTH)).json;
        expect(record.input).toMatchObject({ kind: 'upload', sha256: sha256(clip) });
        expect(record.result.frames).toBe(10);
        expect(w.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'grids on the contact sheet; Cancel stops a job and keeps it; Delete asks, then removes the job and its files',
    async () => {
      const clip = await fixture('scene'); // 24 s
      const w = await open();
      const { page } = w;
      try {
        await page.setInputFiles('#file', clip);
        await page.fill('#every', '2');
        await page.selectOption('#mode', 'exact');
        await page.fill('#grid', '2x2');
        await planShown(page, 2);
        await page.click('#start-job');
        await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('succeeded');
        const id = (await text(page, '#job-id')).split('job ').pop()!;
        const manifest = (await api(s.url, 'GET', `/v1/jobs/${id}/manifest`, undefined, AUTH)).json;
        const grids = manifest.frames.grids as Array<{ index: number; width: number; timestamps: number[] }>;
        expect(grids.length).toBeGreaterThan(1);
        await page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
        expect(await page.locator('#grids figure').count()).toBe(grids.length);
        for (const g of grids) {
          const img = page.locator(`#grids figure[data-grid="${g.index}"] img`);
          await img.scrollIntoViewIfNeeded();
          await page.waitForSelector(`#grids figure[data-grid="${g.index}"] img[data-loaded="true"]`, { timeout: 30_000 });
          expect(await img.evaluate((e: any) => e.naturalWidth)).toBe(g.width);
          expect(await img.getAttribute('alt')).toContain(`frames at ${g.timestamps.map((t) => `${t.toFixed(2)} s`).join(', ')}`);
        }
        expect(w.requests.filter((r) => apiPath(r).startsWith(`/v1/jobs/${id}/grids/`)).length).toBe(grids.length);

        // The job's files on disk: its outputs, its plan, its upload (no other job holds this clip).
        const root = s.svc.data.root;
        const up = await (await w.requests.find((r) => apiPath(r) === '/v1/uploads')!.response())!.json();
        const input = join(root, 'uploads', `${up.id}.mp4`);
        expect(existsSync(join(root, 'outputs', id))).toBe(true);
        expect(existsSync(input)).toBe(true);

        // Delete asks; Keep keeps it.
        await page.click('#delete-job');
        await page.waitForSelector('#confirm-dialog[open]', { timeout: 30_000 });
        expect(await page.evaluate(() => document.activeElement.id)).toBe('confirm-keep');
        expect(await text(page, '#confirm-text')).toContain(`job ${id}`);
        await page.keyboard.press('Enter');
        await page.waitForSelector('#confirm-dialog', { state: 'hidden', timeout: 30_000 });
        expect((await api(s.url, 'GET', `/v1/jobs/${id}`, undefined, AUTH)).status).toBe(200);
        // Delete, confirmed: the job and its files are gone.
        await page.click('#delete-job');
        await page.click('#confirm-delete');
        await expect.poll(() => text(page, '#jobs-status'), { timeout: 30_000 }).toBe(`Job ${id} deleted.`);
        expect((await api(s.url, 'GET', `/v1/jobs/${id}`, undefined, AUTH)).status).toBe(404);
        expect(existsSync(join(root, 'outputs', id))).toBe(false);
        expect(existsSync(join(root, 'plans', `${id}.json`))).toBe(false);
        expect(existsSync(input)).toBe(false);
        expect(await page.isHidden('#result')).toBe(true);
        expect(await page.locator(`#jobs-body tr[data-job="${id}"]`).count()).toBe(0);

        // Cancel is its own action: a long job stops and stays listed, with its record.
        await page.check('input[name="kind"][value="path"]');
        await page.fill('#path', await fixture('longgop'));
        await page.fill('#grid', '');
        await page.fill('#every', '0.5');
        await planShown(page, 0.5);
        await page.click('#start-job');
        await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('running');
        const long = (await text(page, '#job-id')).split('job ').pop()!;
        await page.click('#cancel-job');
        await expect.poll(() => text(page, '#job-state'), { timeout: 60_000 }).toBe('cancelled');
        expect((await api(s.url, 'GET', `/v1/jobs/${long}`, undefined, AUTH)).json.state).toBe('cancelled');
        expect(w.requests.filter((r) => r.method() === 'POST' && apiPath(r) === `/v1/jobs/${long}/cancel`).length).toBe(1);
        expect(w.requests.filter((r) => r.method() === 'DELETE' && apiPath(r) === `/v1/jobs/${long}`).length).toBe(0);
        await page.click('#refresh-jobs');
        await expect.poll(() => page.locator(`#jobs-body tr[data-job="${long}"] .badge`).textContent(), { timeout: 30_000 }).toBe('cancelled');
        // Deleted from the list: its outputs go too.
        await page.click(`#jobs-body tr[data-job="${long}"] button:text("Delete")`);
        await page.click('#confirm-delete');
        await expect.poll(() => page.locator(`#jobs-body tr[data-job="${long}"]`).count(), { timeout: 30_000 }).toBe(0);
        expect((await api(s.url, 'GET', `/v1/jobs/${long}`, undefined, AUTH)).status).toBe(404);
        expect(readdirSync(join(root, 'outputs')).includes(long)).toBe(false);
        expect(w.errors.filter((e) => !/status of (401|404)/.test(e))).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'a Gemini model: native video beside frames in the cost panel; a Gemini video job and a Claude job run from the page',
    async () => {
      const clip = await fixture('timecode'); // 20 s with a tone: every 5 s is 4 frames
      const w = await open();
      const { page } = w;
      try {
        await page.setInputFiles('#file', clip);
        await page.selectOption('#model', 'gemini-2.5-flash');
        await page.fill('#prompt', 'What happens?');
        await expect.poll(() => page.isVisible('#send-compare'), { timeout: LONG }).toBe(true);
        await planShown(page, 5);
        const up = await (await w.requests.find((r) => apiPath(r) === '/v1/uploads')!.response())!.json();
        const base = { every: 5, mode: 'keyframe', model: 'gemini-2.5-flash', tier: 'standard', prompt: 'What happens?' };
        const asFrames = (await api(s.url, 'POST', '/v1/plan', { upload: up.id, options: { ...base, send: 'frames' } }, AUTH)).json;
        const asVideo = (await api(s.url, 'POST', '/v1/plan', { upload: up.id, options: { ...base, send: 'video' } }, AUTH)).json;
        expect(asVideo.send).toBe('video');
        expect([asVideo.video.fps, asVideo.video.frames]).toEqual([0.2, 4]); // the provider samples the 20 s clip at 1/every fps
        const cell = (row: number, way: string): Promise<string> => text(page, `#send-compare tr[data-row="${row}"] td[data-send="${way}"]`);
        await expect.poll(() => cell(4, 'video'), { timeout: LONG }).toBe(asVideo.inputTokens.toLocaleString('en-US'));
        expect(await cell(4, 'frames')).toBe(asFrames.inputTokens.toLocaleString('en-US'));
        expect(await cell(5, 'frames')).toBe(`${usd(asFrames.costUsd)} (standard)`);
        expect(await cell(5, 'video')).toBe(`${usd(asVideo.costUsd)} (standard)`);
        expect(await cell(0, 'video')).toBe(`the video, sampled by the provider at ${asVideo.video.fps} fps: ${asVideo.video.frames} frames`);
        expect(await cell(0, 'frames')).toBe(`${asFrames.frames.length} frames at ${asFrames.width}×${asFrames.height}`);
        await narrowAndAxe(page);

        // Sent as video, with the call: the Gemini test server gets the clip once and answers.
        await page.selectOption('#send', 'video');
        await expect.poll(() => text(page, '#plan-frames'), { timeout: LONG }).toBe(`${asVideo.video.frames} (sent as video at ${asVideo.video.fps} fps)`);
        await page.check('#call');
        const before = gemini.stats.records.length;
        await page.click('#start-job');
        await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('succeeded');
        const gid = (await text(page, '#job-id')).split('job ').pop()!;
        const gjob = (await api(s.url, 'GET', `/v1/jobs/${gid}`, undefined, AUTH)).json;
        expect(gjob.result).toMatchObject({ provider: 'gemini', send: 'video' });
        expect(gemini.stats.invalid).toEqual([]);
        expect(gemini.stats.records.slice(before).map((x) => [x.status, x.images])).toEqual([[200, asVideo.video.frames]]);
        await page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
        expect(await text(page, '#answers .answer')).toBe(gjob.result.dispatch.answers[0].text.trim());
        expect(await text(page, '#estimate div:nth-child(5) dd')).toBe(`${usd(gjob.estimate.estimated.costUsd)} / ${usd(gjob.estimate.actual.costUsd)}`);
        expect(await page.locator('#download-requests button').evaluateAll((b) => b.map((x: any) => x.id))).toEqual(['download-gemini']);

        // A Claude job from the same upload: the Anthropic test server answers in its own API.
        await page.selectOption('#model', 'claude-haiku-4.5');
        await expect.poll(() => page.isHidden('#send-compare'), { timeout: LONG }).toBe(true);
        expect(await page.isHidden('#send-box')).toBe(true);
        await planShown(page, 5);
        const cBefore = claude.stats.records.length;
        await page.click('#start-job');
        await expect.poll(async () => (await text(page, '#job-id')).split('job ').pop(), { timeout: 30_000 }).not.toBe(gid);
        await expect.poll(() => text(page, '#job-state'), { timeout: LONG }).toBe('succeeded');
        const cid = (await text(page, '#job-id')).split('job ').pop()!;
        const cjob = (await api(s.url, 'GET', `/v1/jobs/${cid}`, undefined, AUTH)).json;
        expect(cjob.result.provider).toBe('anthropic');
        expect(claude.stats.invalid).toEqual([]);
        expect(claude.stats.records.slice(cBefore).map((x) => [x.path, x.status, x.images])).toEqual([['/v1/messages', 200, 4]]);
        await page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
        await expect.poll(() => text(page, '#answers .answer'), { timeout: 30_000 }).toBe(cjob.result.dispatch.answers[0].text.trim());
        expect(await text(page, '#estimate div:nth-child(4) dd')).toBe(
          `${cjob.estimate.estimated.inputTokens.toLocaleString('en-US')} / ${cjob.estimate.actual.inputTokens.toLocaleString('en-US')}`,
        );
        const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('#download-messages')]);
        expect(JSON.parse(readFileSync((await dl.path())!, 'utf8'))).toEqual(
          (await api(s.url, 'GET', `/v1/jobs/${cid}/requests?api=messages`, undefined, AUTH)).json,
        );
        // Neither job sent the file again.
        expect(w.requests.filter((r) => apiPath(r) === '/v1/uploads').length).toBe(1);
        expect(w.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'an eval from the Eval view: questions read from a file, the dry run, progress, the chart with its frontier and recommended plan, the per-question table',
    async () => {
      const FPS = 10;
      const video = await codedVideo({ seconds: 20, fps: FPS });
      const NEEDLES: Array<[number, number]> = [
        [8, 12],
        [18, 22],
        [95, 105],
        [38, 42],
        [178, 182],
      ];
      const CHOICES = ['KESTREL', 'MARLIN', 'OSPREY', 'PELICAN'];
      const LETTERS = ['A', 'B', 'C', 'D'];
      const key = new Map<string, NeedleKey>();
      const name = video.split('/').pop()!;
      const lines = NEEDLES.map(([from, to], i) => {
        key.set(`${from}-${to}`, { right: LETTERS[i % 4]!, wrong: LETTERS[(i + 1) % 4]!, rightText: CHOICES[i % 4]! });
        return JSON.stringify({ id: `n${i}`, video: name, question: needleQuestion(from, to), choices: CHOICES, answer: LETTERS[i % 4] });
      });
      const dir = temp('page-eval-');
      const questions = join(dir, 'questions.jsonl');
      writeFileSync(questions, `${lines.join('\n')}\n`);
      openai.control.reply = needleReply(key);
      const w = await open();
      const { page } = w;
      try {
        await page.click('#view-eval');
        expect(await page.isHidden('#jobs-view')).toBe(true);
        expect(await page.getAttribute('#view-eval', 'aria-pressed')).toBe('true');
        await page.setInputFiles('#eval-file', video);
        await page.setInputFiles('#eval-questions', questions);
        await expect.poll(() => text(page, '#eval-questions-status'), { timeout: 30_000 }).toBe(`questions.jsonl: ${NEEDLES.length} lines read.`);
        await page.fill('#eval-every', '1,2,5');
        await page.fill('#eval-mode', 'exact');
        await page.fill('#eval-maxside', '256');
        await page.fill('#eval-models', 'gpt-5.5');
        // The dry run: the API's estimate for the same body.
        const up = await (await w.requests.find((r) => apiPath(r) === '/v1/uploads')!.response())!.json();
        const body = {
          videos: [{ upload: up.id, name }],
          questions: `${lines.join('\n')}\n`,
          grid: { every: [1, 2, 5], mode: ['exact'], maxSide: [256], models: ['gpt-5.5'], send: ['frames'] },
          dryRun: true,
        };
        const dry = await api(s.url, 'POST', '/v1/evals', body, AUTH);
        expect(dry.status, dry.text).toBe(200);
        await expect
          .poll(() => text(page, '#eval-estimate-status'), { timeout: LONG })
          .toBe(`Dry run: 3 plans, ${usd(dry.json.total.estimatedUsd)} estimated.`);
        expect(openai.stats.total).toBe(0);
        expect((await axe(page)).serious).toEqual([]);

        await page.click('#eval-run');
        await expect.poll(() => text(page, '#eval-state'), { timeout: LONG }).toMatch(/: succeeded, 15 of 15 questions asked/);
        await page.waitForSelector('#eval-results:not([hidden])', { timeout: LONG });
        const id = (await text(page, '#eval-state')).split(':')[0]!.replace('Eval ', '');
        const r = (await api(s.url, 'GET', `/v1/evals/${id}/results`, undefined, AUTH)).json;
        // Each plan is right exactly where its frames reach a needle (its frame times from plan()).
        const want: number[] = [];
        for (const every of [1, 2, 5]) {
          const p = await plan(video, { every, mode: 'exact', maxSide: 256 });
          const frames = p.frames.map((f) => Math.round(f.timestampSec * FPS));
          want.push(NEEDLES.filter(([a, b]) => frames.some((n) => n >= a && n <= b)).length);
        }
        expect(r.plans.map((p: { correct: number }) => p.correct)).toEqual(want);
        expect(r.plans.map((p: { label: string }) => p.label)).toEqual(['every 1 s', 'every 2 s', 'every 5 s']);
        expect(await page.locator('#eval-plans tbody td:nth-child(2)').allTextContents()).toEqual(['every 1 s', 'every 2 s', 'every 5 s']);
        expect(want).not.toEqual([want[0], want[0], want[0]]);

        // The chart: a point per plan, the frontier through the report's plans, the recommended one ringed.
        expect(await page.locator('#eval-chart svg g.plan').count()).toBe(3);
        expect(await page.getAttribute('#eval-chart polyline.frontier', 'data-plans')).toBe(r.frontier.join(','));
        const pts = (await page.getAttribute('#eval-chart polyline.frontier', 'points'))!.split(' ');
        expect(pts.length).toBe(r.frontier.length);
        for (const [k, i] of r.frontier.entries()) {
          const c = page.locator(`#eval-chart g.plan[data-plan="${i}"] circle.point`);
          expect(pts[k]).toBe(`${Number(await c.getAttribute('cx')).toFixed(1)},${Number(await c.getAttribute('cy')).toFixed(1)}`);
        }
        expect(r.recommended).not.toBeNull();
        expect(await page.getAttribute('#eval-chart circle.recommended', 'data-plan')).toBe(String(r.recommended));
        expect(await page.getAttribute(`#eval-plans tr[data-plan="${r.recommended}"]`, 'class')).toBe('current');
        expect(await text(page, '#eval-recommended')).toContain(`Recommended: plan ${r.recommended + 1} (every ${r.plans[r.recommended].every} s)`);
        // Higher in the chart is more accurate: y falls as accuracy rises.
        const ys = await page.locator('#eval-chart circle.point').evaluateAll((cs) => cs.map((c: any) => Number(c.getAttribute('cy'))));
        const order = (xs: number[]): number[] => xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]! || a - b);
        expect(order(ys)).toEqual(order(r.plans.map((p: { accuracy: number }) => -p.accuracy)));

        // The per-question table: which plan got which question right, with the frames it saw.
        for (const q of r.questions) {
          for (const a of q.plans) {
            const td = page.locator(`#eval-per-question tr[data-question="${q.id}"] td[data-plan="${a.plan}"]`);
            expect(await td.getAttribute('data-correct')).toBe(String(a.correct));
            expect(await td.locator('.frames-seen').textContent()).toBe(`frames at ${a.frameTimes.map((t: number) => `${t.toFixed(2)} s`).join(', ')}`);
          }
        }
        await narrowAndAxe(page);
        const [csv] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('#eval-csv')]);
        expect(readFileSync((await csv.path())!, 'utf8')).toBe((await api(s.url, 'GET', `/v1/evals/${id}/results.csv`, undefined, AUTH)).text);
        // Needles instead of a question file: code words burnt into the same upload, priced by a dry run.
        await page.check('input[name="eval-source"][value="needles"]');
        await page.fill('#eval-needles', '2');
        const needles = await api(s.url, 'POST', '/v1/evals', { ...body, questions: undefined, needles: 2 }, AUTH);
        expect(needles.status, needles.text).toBe(200);
        expect(needles.json.plans.map((p: { questions: number }) => p.questions)).toEqual([2, 2, 2]);
        await expect
          .poll(() => text(page, '#eval-estimate-status'), { timeout: LONG })
          .toBe(`Dry run: 3 plans, ${usd(needles.json.total.estimatedUsd)} estimated.`);
        expect(w.requests.filter((x) => apiPath(x) === '/v1/uploads').length).toBe(1);
        expect(w.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
      } finally {
        openai.control.reply = undefined;
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );
});
