// The root's signatures, as users see them through the built package's declarations. tsc checks
// these (`npm run typecheck`, part of `npm test`); the runtime part only keeps vitest honest.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  EvalGrid,
  EvaluateOptions,
  Evaluation,
  MediaInfo,
  Plan,
  PlanFacts,
  PlanOptions,
  Question,
  RunOptions,
  RunResult,
  SampleOptions,
  SampleRun,
  SampledFrame,
} from 'omniprep';
import { type OmniprepError, evaluate, imageTokens, plan, planFromFacts, run, sample } from 'omniprep';
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

  it('evaluate takes questions (a file or a list), a grid and options, and gives the report', () => {
    expectTypeOf(evaluate).parameters.toEqualTypeOf<[questions: string | readonly Question[], grid?: EvalGrid, o?: EvaluateOptions]>();
    expectTypeOf(evaluate).returns.resolves.toEqualTypeOf<Evaluation>();
    expectTypeOf<Evaluation['plans'][number]['ci95']>().toEqualTypeOf<[number, number]>();
    expectTypeOf<Evaluation['recommended']>().toEqualTypeOf<number | null>();
    expect(typeof evaluate).toBe('function');
  });
});
