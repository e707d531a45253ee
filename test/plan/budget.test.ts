// The budget chooser (plan --budget / --max-tokens) at its edges, with every number taken from
// plan() itself: a budget that just fits the asked settings, one just below it (the next step of
// BUDGET_ORDER), exactly the cheapest possible plan, and one just below that (BUDGET_EXCEEDED).
import { describe, expect, it } from 'vitest';
import { BUDGET_ORDER, plan } from '../../src/plan/plan.js';
import type { Plan, PlanOptions } from '../../src/plan/types.js';
import { cli } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';

// Costs are rounded to 1e-8 dollars (dollars() in src/models/tokens.ts): one step below is "just below".
const CENT_STEP = 1e-8;

function same(a: Plan, b: Plan): void {
  expect(a.frames.map((f) => f.timestampSec)).toEqual(b.frames.map((f) => f.timestampSec));
  expect([a.every, a.width, a.height, a.detailApplied, a.imageTokens, a.textTokens, a.inputTokens, a.costUsd]).toEqual([
    b.every,
    b.width,
    b.height,
    b.detailApplied,
    b.imageTokens,
    b.textTokens,
    b.inputTokens,
    b.costUsd,
  ]);
  expect(a.costByTier).toEqual(b.costByTier);
}

describe('plan --budget at the edges (timecode fixture: 20 s, keyframes every 2 s)', () => {
  const asked: PlanOptions = { every: 5, model: 'gpt-5.5', detail: 'high', prompt: 'What happens?' };

  it('a budget that just fits the asked settings leaves the plan as asked', async () => {
    const input = await fixture('timecode');
    const free = await plan(input, asked);
    const p = await plan(input, { ...asked, budget: free.costUsd });
    same(p, free);
    expect(p.budget).toEqual({
      limitUsd: free.costUsd,
      limitTokens: null,
      chosen: { every: 5, detail: 'high', maxSide: null, maxFrames: null },
      changed: false,
      tried: 1,
      order: BUDGET_ORDER,
    });
    const byTokens = await plan(input, { ...asked, maxTokens: free.inputTokens });
    same(byTokens, free);
    expect(byTokens.budget).toMatchObject({ limitUsd: null, limitTokens: free.inputTokens, changed: false });
  });

  it('just below: the next step of BUDGET_ORDER (every x1.5), and the report says so', async () => {
    const input = await fixture('timecode');
    const free = await plan(input, asked);
    const next = await plan(input, { ...asked, every: 7.5 });
    // the next step is cheaper, so a budget between the two picks it
    expect(next.costUsd).toBeLessThan(free.costUsd - CENT_STEP);
    expect(free.frames.map((f) => f.timestampSec)).toEqual([0, 4, 10, 14]);
    expect(next.frames.map((f) => f.timestampSec)).toEqual([0, 8, 14]);
    const p = await plan(input, { ...asked, budget: free.costUsd - CENT_STEP });
    same(p, next);
    expect(p.budget).toMatchObject({ changed: true, tried: 2, chosen: { every: 7.5, detail: 'high', maxSide: null, maxFrames: null } });
    const byTokens = await plan(input, { ...asked, maxTokens: free.inputTokens - 1 });
    same(byTokens, next);
    expect(byTokens.budget).toMatchObject({ changed: true, chosen: { every: 7.5 } });
  });

  it('exactly the cheapest plan fits; a hair below it nothing does, and the error states the cheapest cost', async () => {
    const input = await fixture('timecode');
    // gpt-4o (tile rule): low detail (85 tokens) is the last size step, cheaper than 512 px at high (255).
    const o: PlanOptions = { ...asked, model: 'gpt-4o' };
    // The sparsest plan: one frame (an interval past the end), then 512 px at low detail.
    const cheapest = await plan(input, { ...o, every: 1000, maxSide: 512, detail: 'low' });
    expect([cheapest.frames.length, cheapest.imageTokens]).toEqual([1, 85]);
    const at = await plan(input, { ...o, budget: cheapest.costUsd });
    expect([at.frames.length, at.costUsd, at.detailApplied, at.budget!.changed]).toEqual([1, cheapest.costUsd, 'low', true]);
    expect(at.budget!.chosen).toMatchObject({ detail: 'low', maxSide: 512 });
    const err = await plan(input, { ...o, budget: cheapest.costUsd - CENT_STEP }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { cheapestUsd: cheapest.costUsd, cheapestTokens: cheapest.inputTokens },
      message: `${input}: nothing fits $${cheapest.costUsd - CENT_STEP}; the cheapest plan (1 frame at ${cheapest.width}x${cheapest.height} low) costs $${cheapest.costUsd.toFixed(6)} and ${cheapest.inputTokens} input tokens`,
    });
    expect((err as Error).message).not.toContain('\n');
    const tokens = await plan(input, { ...o, maxTokens: cheapest.inputTokens - 1 }).catch((e: unknown) => e);
    expect(tokens).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringContaining(`nothing fits ${cheapest.inputTokens - 1} input tokens; the cheapest plan`),
    });
  });

  it('a patch model whose 512 px high costs what low does stops at the first step that fits', async () => {
    const input = await fixture('timecode');
    // gpt-5.5: 512x288 is 144 patches at high and at low, so the 512 px step is already the cheapest.
    const cheapest = await plan(input, { ...asked, every: 1000, maxSide: 512 });
    expect(cheapest.imageTokens).toBe((await plan(input, { ...asked, every: 1000, maxSide: 512, detail: 'low' })).imageTokens);
    const p = await plan(input, { ...asked, budget: cheapest.costUsd });
    expect(p.budget!.chosen).toEqual({ every: p.every, detail: 'high', maxSide: 512, maxFrames: null });
    same(p, { ...cheapest, every: p.every } as Plan);
  });

  it('scene mode ends with a frame cap (the interval does not bound the cuts)', async () => {
    const input = await fixture('scene');
    const o: PlanOptions = { mode: 'scene', model: 'gpt-4o', every: 5 };
    // The sparsest interval BUDGET_ORDER reaches on 24 s from every 5: x6 = 30 s (the first past the end).
    // Scene mode still keeps the cuts at least every/5 = 6 s apart: 0, 9 and 18.
    const sparse = await plan(input, { ...o, every: 30, maxSide: 512, detail: 'low' });
    expect(sparse.frames.map((f) => f.timestampSec)).toEqual([0, 9, 18]);
    const two = await plan(input, { ...o, every: 30, maxSide: 512, detail: 'low', maxFrames: 2 });
    const p = await plan(input, { ...o, budget: two.costUsd });
    expect(p.budget!.chosen).toEqual({ every: 30, detail: 'low', maxSide: 512, maxFrames: 2 });
    same(p, two);
  });
});

describe('omniprep plan --budget (CLI)', () => {
  it('prints what it chose; refuses with one line and exit 1 when nothing fits', async () => {
    const input = await fixture('timecode');
    const free = await plan(input, { every: 5, model: 'gpt-5.5', detail: 'high' });
    const below = free.costUsd - CENT_STEP;
    const r = await cli(['plan', input, '--every', '5', '--detail', 'high', '--budget', String(below)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`budget: $${below}; chose every 7.5 s, high`);
    const asIs = await cli(['plan', input, '--every', '5', '--detail', 'high', '--budget', String(free.costUsd)]);
    expect(asIs.stdout).toContain(`budget: $${free.costUsd}; chose every 5 s, high (as asked)`);
    // gpt-5.5's last step is low detail at 512 px (it costs what 512 px at auto does)
    const cheapest = await plan(input, { model: 'gpt-5.5', every: 1000, maxSide: 512, detail: 'low' });
    const none = await cli(['plan', input, '--budget', String(cheapest.costUsd - CENT_STEP)]);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe(
      `omniprep: ${input}: nothing fits $${cheapest.costUsd - CENT_STEP}; the cheapest plan (1 frame at 512x288 low) costs $${cheapest.costUsd.toFixed(6)} and ${cheapest.inputTokens} input tokens\n`,
    );
  });
});

describe('the floor respects what was asked', () => {
  it('with --max-side 256 the low-detail step stays at 256 px, and the error names the cheapest plan tried', async () => {
    const input = await fixture('timecode');
    const o: PlanOptions = { model: 'gpt-5.5', every: 5, maxSide: 256 };
    // one frame at 256x144: 8x5 patches at high, 48 tokens; at low the same size costs the same
    const cheapest = await plan(input, { ...o, every: 1000, detail: 'low' });
    expect([cheapest.width, cheapest.height, cheapest.imageTokens]).toEqual([256, 144, 48]);
    const err = await plan(input, { ...o, budget: cheapest.costUsd - CENT_STEP }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BUDGET_EXCEEDED', details: { cheapestUsd: cheapest.costUsd, cheapestTokens: cheapest.inputTokens } });
    expect((err as Error).message).toContain(`(1 frame at 256x144 low) costs $${cheapest.costUsd.toFixed(6)}`);
  });
});
