/**
 * A real browser for the page tests: Debian's chromium driven by playwright-core (its own browser
 * download does not work here). OMNIPREP_CHROMIUM names another binary. `chromiumMissing()` says
 * why the browser tests skip (.ci/run installs chromium when it can).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { ROOT } from './fixtures.js';

export const CHROMIUM = process.env.OMNIPREP_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, '.cache', 'screenshots');

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no chromium at ${CHROMIUM} (apt-get install chromium, as .ci/run does, or set OMNIPREP_CHROMIUM)`;
}

/** Headless, no sandbox (root in CI), no GPU, no background traffic; playwright gives it a fresh profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface Watched {
  context: BrowserContext;
  page: Page;
  /** Every request the page made, in order. */
  requests: Request[];
  /** Requests to any other origin (aborted). */
  outside: string[];
  /** Console errors and page errors (CSP violations show up here). */
  errors: string[];
}

/** A new context whose requests to other origins are refused and recorded. */
export async function openPage(browser: Browser, base: string, o: { width?: number; height?: number } = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 900 }, acceptDownloads: true, serviceWorkers: 'block' });
  const origin = new URL(base).origin;
  const outside: string[] = [];
  const requests: Request[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, requests, outside, errors };
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}
