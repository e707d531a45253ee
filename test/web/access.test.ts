/**
 * The page's accessibility in chromium: axe-core (from npm, injected into the page) reports no
 * serious or critical violation on any view, at desktop width and at 375 px; the keyboard alone
 * reaches every control in Tab order with a visible focus ring, and Enter/Space work them; progress
 * is announced through live regions; at 375 px nothing overflows sideways and every control can be
 * hit where it is drawn. Everything is asserted from the DOM and axe's results (no pixels compared).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, fixture } from '../helpers/fixtures.js';
import { api, type Running, startService, waitJob } from '../helpers/service.js';
import { axe, CONTROLS, narrowProblems, type Violation } from '../helpers/axe.js';
import { chromiumMissing, launchChromium, openPage } from '../helpers/browser.js';

// Browser globals, for the callbacks that run in the page (this project compiles without the DOM lib).
declare const document: any;
declare const getComputedStyle: any;

const missing = chromiumMissing();
if (missing) console.warn(`web/access.test.ts: SKIPPED: ${missing}`);

const TOKEN = 'access-test-token-5d2e';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const LONG = 180_000;
const TEST_TIMEOUT = 600_000;

/**
 * Every control a user can operate, where it is drawn: visible, enabled, not inert (outside an open
 * modal dialog). Radios count once per group (Tab stops on one of them; the arrows move inside).
 */
async function controls(page: Page): Promise<string[]> {
  return page.evaluate((sel: string) => {
    const modal = document.querySelector('dialog[open]');
    const seen = new Set();
    const out: string[] = [];
    for (const e of document.querySelectorAll(sel)) {
      if (e.disabled || e.closest('[hidden]') || e.closest('[inert]') || (modal && !modal.contains(e))) continue;
      if (e.closest('details:not([open])') && e.tagName !== 'SUMMARY') continue;
      const box = e.getBoundingClientRect();
      if (box.width === 0 && box.height === 0 && !e.matches('.skip')) continue;
      const key = e.type === 'radio' ? `radio:${e.name}` : e.id ? `#${e.id}` : (e.getAttribute('aria-label') ?? e.textContent.trim());
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(key);
    }
    return out;
  }, CONTROLS);
}

/** Presses Tab until the focus comes back round; each stop: its key (as `controls` names it) and whether its focus ring shows. */
async function tabWalk(page: Page, max = 400): Promise<Array<{ key: string; ring: boolean }>> {
  const stops: Array<{ key: string; ring: boolean }> = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return undefined;
      const st = getComputedStyle(e);
      const ring = e.matches(':focus-visible') && st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2;
      const key = e.type === 'radio' ? `radio:${e.name}` : e.id ? `#${e.id}` : (e.getAttribute('aria-label') ?? e.textContent.trim());
      return { key, ring };
    });
    if (!stop) continue;
    if (stops.some((s) => s.key === stop.key)) break;
    stops.push(stop);
  }
  // Focus navigation starts where the focus was: one full round, turned to start at the page's first stop (the skip link).
  const first = stops.findIndex((s) => s.key === 'Skip to the main content');
  return first > 0 ? [...stops.slice(first), ...stops.slice(0, first)] : stops;
}

async function useToken(page: Page): Promise<void> {
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Enter');
  await page.waitForFunction(() => (document.getElementById('token-status')?.textContent ?? '').includes('kept for this tab only'), undefined, {
    timeout: 30_000,
  });
}

describe.skipIf(Boolean(missing))('the page with a screen reader, the keyboard alone and a phone', () => {
  let s: Running;
  let browser: Browser;
  let jobId: string;

  beforeAll(async () => {
    s = await startService({ workers: 1, token: TOKEN, allowRoots: [CACHE] });
    browser = await launchChromium();
    // One finished job (4 frames as a 2x2 grid, plus the frames) for the result views.
    const r = await api(s.url, 'POST', '/v1/jobs', { path: await fixture('timecode'), options: { every: 5, mode: 'keyframe' } }, AUTH);
    expect(r.status, r.text).toBe(202);
    jobId = r.json.id;
    expect((await waitJob(s.url, jobId, LONG, AUTH)).state).toBe('succeeded');
  }, LONG);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it(
    'axe-core finds a violation it is shown (the check can fail)',
    async () => {
      const w = await openPage(browser, s.url);
      try {
        await w.page.goto(`${s.url}/`);
        await w.page.evaluate(() => document.querySelector('main').append(Object.assign(document.createElement('input'), { id: 'nameless' })));
        const { serious } = await axe(w.page);
        expect(serious.map((v) => v.id)).toContain('label');
        expect(serious.find((v) => v.id === 'label')!.nodes).toEqual(['#nameless']);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );

  for (const width of [1280, 375]) {
    it(
      `${width} px: no serious axe violation on any view${width === 375 ? '; nothing overflows and every control can be hit' : ''}`,
      async () => {
        const w = await openPage(browser, s.url, { width, height: width === 375 ? 812 : 900 });
        const { page } = w;
        const seen: Record<string, Violation[]> = {};
        const narrow: Record<string, string[]> = {};
        const check = async (view: string): Promise<void> => {
          const r = await axe(page);
          expect(r.passes, view).toBeGreaterThan(10);
          seen[view] = r.serious;
          if (width === 375) narrow[view] = await narrowProblems(page);
        };
        try {
          await page.goto(`${s.url}/`);
          await page.waitForFunction(() => document.getElementById('token').getAttribute('aria-invalid') === 'true', undefined, { timeout: 30_000 });
          await check('token asked');
          await useToken(page);
          await page.check('input[name="kind"][value="path"]');
          await page.fill('#path', await fixture('timecode'));
          await page.waitForSelector('#curve:not([hidden])', { timeout: LONG });
          await page.click('#plan summary');
          await page.click('#curve-data summary');
          await check('plan and curve');
          await page.fill('#every', '-1');
          await page.waitForFunction(() => document.getElementById('err-every').textContent !== '', undefined, { timeout: LONG });
          await check('an option refused');
          await page.click(`#jobs-body tr[data-job="${jobId}"] button:text("Open")`);
          await page.waitForSelector('#result:not([hidden])', { timeout: LONG });
          await page.locator('#sheet li.frame img').first().scrollIntoViewIfNeeded();
          await page.waitForSelector('#sheet li.frame img[data-loaded="true"]', { timeout: LONG });
          await check('job and result');
          await page.click('#sheet li[data-index="1"] button.thumb');
          await page.waitForSelector('#frame-dialog[open]', { timeout: 30_000 });
          await check('frame dialog');
          await page.keyboard.press('Escape');
          await page.waitForSelector('#frame-dialog', { state: 'hidden', timeout: 30_000 });
          await page.click(`#jobs-body tr[data-job="${jobId}"] button:text("Delete")`);
          await page.waitForSelector('#confirm-dialog[open]', { timeout: 30_000 });
          await check('delete asked');
          await page.click('#confirm-keep');
          await page.click('#view-eval');
          await page.check('input[name="eval-source"][value="needles"]');
          await page.fill('#eval-path', await fixture('timecode'));
          await check('eval');
          await page.click('#view-jobs');
          expect(seen).toEqual(Object.fromEntries(Object.keys(seen).map((k) => [k, []])));
          if (width === 375) expect(narrow).toEqual(Object.fromEntries(Object.keys(narrow).map((k) => [k, []])));
          expect(Object.keys(seen)).toEqual(['token asked', 'plan and curve', 'an option refused', 'job and result', 'frame dialog', 'delete asked', 'eval']);
        } finally {
          await w.context.close();
        }
      },
      TEST_TIMEOUT,
    );
  }

  it(
    'the keyboard alone: Tab reaches every control with a visible ring; Enter and Space run a job and open its frames; progress is announced',
    async () => {
      const w = await openPage(browser, s.url);
      const { page } = w;
      try {
        await page.goto(`${s.url}/`);
        // The token: the page puts the focus in its field when the server asks for one; typed and sent with Enter.
        await page.waitForFunction(() => document.activeElement?.id === 'token', undefined, { timeout: 30_000 });
        await page.keyboard.type(TOKEN);
        await page.keyboard.press('Enter');
        await page.waitForSelector(`#jobs-body tr[data-job="${jobId}"]`, { timeout: 30_000 });

        // The input kind by the arrows (a radio group), the path typed, a checkbox ticked with Space.
        await page.focus('input[name="kind"][value="upload"]');
        await page.keyboard.press('ArrowRight');
        expect(await page.evaluate(() => document.querySelector('input[name="kind"]:checked').value)).toBe('path');
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement.id)).toBe('path');
        await page.keyboard.type(await fixture('timecode'));
        await page.focus('#dedup');
        await page.keyboard.press('Space');
        expect(await page.isChecked('#dedup')).toBe(true);
        await page.keyboard.press('Space');
        expect(await page.isChecked('#dedup')).toBe(false);
        await page.waitForSelector('#curve:not([hidden])', { timeout: LONG });

        // Every control is a Tab stop, in the order they are drawn, each with its focus ring.
        const all = await controls(page);
        const stops = await tabWalk(page);
        expect(stops.map((x) => x.key)).toEqual(all);
        expect(stops.filter((x) => !x.ring).map((x) => x.key)).toEqual([]);
        expect(all).toEqual(expect.arrayContaining(['#token', 'radio:kind', '#path', '#every', '#every-slider', '#model', '#start-job', '#refresh-jobs']));

        // Start the job with Enter on the button; its state and progress are live regions.
        await page.focus('#start-job');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => document.getElementById('job-state').textContent === 'succeeded', undefined, { timeout: LONG });
        const live = await page.evaluate(() =>
          ['job-state', 'job-stage', 'job-count'].map((id) => document.getElementById(id).closest('[aria-live]')?.getAttribute('aria-live')),
        );
        expect(live).toEqual(['polite', 'polite', 'polite']);
        expect(await page.getAttribute('#job-progress', 'aria-labelledby')).toBe('job-progress-text');
        expect(await page.textContent('#job-progress-text')).toMatch(/^Progress: done 4 of 4 frames/);
        for (const id of ['plan-status', 'upload-status', 'jobs-status', 'token-status']) expect(await page.getAttribute(`#${id}`, 'aria-live')).toBe('polite');

        // The result: Tab reaches each frame; Space opens one in the dialog, Escape closes it and focus returns.
        await page.waitForSelector('#result:not([hidden])', { timeout: LONG });
        const result = await tabWalk(page);
        const frames = result.filter((x) => x.key.startsWith('Open frame'));
        expect(frames.length).toBe(await page.locator('#sheet li.frame').count());
        expect(result.filter((x) => !x.ring).map((x) => x.key)).toEqual([]);
        await page.focus('#sheet li[data-index="2"] button.thumb');
        await page.keyboard.press('Space');
        await page.waitForSelector('#frame-dialog[open]', { timeout: 30_000 });
        expect(await page.evaluate(() => document.activeElement.id)).toBe('frame-close');
        await page.keyboard.press('Escape');
        await page.waitForSelector('#frame-dialog', { state: 'hidden', timeout: 30_000 });
        expect(await page.evaluate(() => document.activeElement.closest('li')?.dataset.index)).toBe('2');
        // A job opened from the list with Enter.
        await page.focus(`#jobs-body tr[data-job="${jobId}"] button`);
        await page.keyboard.press('Enter');
        await page.waitForFunction((id: string) => document.getElementById('job-id').textContent.endsWith(id), jobId, { timeout: 30_000 });

        // The Eval view, opened with Space on its button: every control a Tab stop with its ring; the arrows pick needles.
        await page.focus('#view-eval');
        await page.keyboard.press('Space');
        expect(await page.isVisible('#eval-form')).toBe(true);
        expect(await page.getAttribute('#view-eval', 'aria-pressed')).toBe('true');
        await page.focus('input[name="eval-source"][value="file"]');
        await page.keyboard.press('ArrowRight');
        expect(await page.isVisible('#eval-needles')).toBe(true);
        const evalControls = await controls(page);
        const evalStops = await tabWalk(page);
        expect(evalStops.map((x) => x.key)).toEqual(evalControls);
        expect(evalStops.filter((x) => !x.ring).map((x) => x.key)).toEqual([]);
        expect(evalControls).toEqual(expect.arrayContaining(['#eval-file', 'radio:eval-source', '#eval-needles', '#eval-every', '#eval-models', '#eval-run']));
        expect(w.errors.filter((e) => !/status of (401|404)/.test(e))).toEqual([]);
      } finally {
        await w.context.close();
      }
    },
    TEST_TIMEOUT,
  );
});
