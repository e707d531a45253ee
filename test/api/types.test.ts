// The root's signatures, as users see them through the built package's declarations. tsc checks
// these (`npm run typecheck`, part of `npm test`); the runtime part only keeps vitest honest.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { MediaInfo, Plan, PlanFacts, PlanOptions, RunOptions, RunResult, SampleOptions, SampleRun, SampledFrame } from 'omniprep';
import { type OmniprepError, imageTokens, plan, planFromFacts, run, sample } from 'omniprep';
import type { Resolved } from 'omniprep/options';

describe('root signatures', () => {
  it('plan, planFromFacts, sample and run take and give what the README shows', () => {
    expectTypeOf(plan).parameters.toEqualTypeOf<[input: string | MediaInfo, options?: PlanOptions | Resolved<PlanOptions>]>();
    expectTypeOf(plan).returns.resolves.toEqualTypeOf<Plan>();
    expectTypeOf(planFromFacts).parameter(0).toEqualTypeOf<PlanFacts>();
    expectTypeOf(planFromFacts).returns.toEqualTypeOf<Plan>();
    expectTypeOf(sample).parameters.toEqualTypeOf<[input: string, options?: SampleOptions | Resolved<SampleOptions>]>();
    expectTypeOf(sample).returns.toEqualTypeOf<SampleRun>();
    expectTypeOf<SampleRun>().toMatchTypeOf<AsyncIterable<SampledFrame>>();
    expectTypeOf(run).parameters.toEqualTypeOf<[input: string, given: RunOptions | Resolved<RunOptions>]>();
    expectTypeOf(run).returns.resolves.toEqualTypeOf<RunResult>();
    expectTypeOf<RunResult['totals']['spentUsd']>().toEqualTypeOf<number>();
    expectTypeOf<Plan['frames'][number]['timestampSec']>().toEqualTypeOf<number>();
    expectTypeOf<PlanOptions['every']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<PlanOptions['mode']>().toEqualTypeOf<'keyframe' | 'exact' | 'scene' | undefined>();
    expectTypeOf(imageTokens).returns.toHaveProperty('tokens');
    expectTypeOf<OmniprepError['code']>().toBeString();
    expect(typeof plan).toBe('function');
  });
});
