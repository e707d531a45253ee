/**
 * axe-core (from npm) in a page under test: injected through page.evaluate, which runs outside the
 * page's Content-Security-Policy (script-src 'self' would refuse an injected <script>).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

declare const document: any;
declare const window: any;

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Violation {
  id: string;
  impact: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now (and how many rules passed). */
export async function axe(page: Page): Promise<{ passes: number; serious: Violation[] }> {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return {
      passes: r.passes.length,
      serious: r.violations
        .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
        .map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n: any) => n.target.join(' ')) })),
    };
  });
}
