/**
 * Accessibility checks of a page under test: axe-core (from npm), injected through page.evaluate,
 * which runs outside the page's Content-Security-Policy (script-src 'self' would refuse an injected
 * <script>); and, on a narrow screen, what overflows or cannot be hit where it is drawn.
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

/** Every control a user can operate (Tab stops). */
export const CONTROLS = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';

/** At 375 px: no sideways overflow, and each control, scrolled into view, is inside the viewport and on top where it is drawn. */
export async function narrowProblems(page: Page): Promise<string[]> {
  return page.evaluate((sel: string) => {
    const problems: string[] = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width) problems.push(`page ${document.documentElement.scrollWidth} px wide in ${width}`);
    const modal = document.querySelector('dialog[open]');
    for (const e of document.querySelectorAll(sel)) {
      if (e.disabled || e.closest('[hidden]') || (modal && !modal.contains(e)) || e.matches('.skip')) continue;
      if (e.closest('details:not([open])') && e.tagName !== 'SUMMARY') continue;
      e.scrollIntoView({ block: 'center', inline: 'nearest' });
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue; // nothing drawn (an empty scroll box)
      const name = e.id || e.getAttribute('aria-label') || e.textContent.trim() || e.outerHTML.slice(0, 80);
      if (r.left < 0 || r.right > width + 0.5) problems.push(`${name}: ${Math.round(r.left)}..${Math.round(r.right)} px`);
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (!(hit && (hit === e || e.contains(hit) || hit.control === e || hit.closest('label')?.control === e)))
        problems.push(`${name}: covered by ${hit?.outerHTML.slice(0, 60)}`);
    }
    window.scrollTo(0, 0);
    return problems;
  }, CONTROLS);
}
