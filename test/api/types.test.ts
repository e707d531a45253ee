// The root's signatures, as users see them through the built package's declarations. tsc checks
// these (`npm run typecheck`, part of `npm test`); the runtime part only keeps vitest honest.
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { FastifyInstance } from 'fastify';
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ResponseCreateParamsNonStreaming } from 'openai/resources/responses/responses';
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
import { type AnthropicClient, type ClientOptions, type Clients, createClient, type OpenAIClient } from 'omniprep/dispatch';
import type { ChatBody, MessagesBody, ResponsesBody } from 'omniprep/request';
import type { ServiceApp } from 'omniprep/service';

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

  it('name no SDK type, and the SDKs own clients and bodies fit the shapes they declare instead', () => {
    // A user's own SDK client is accepted where omniprep takes one, and omniprep's bodies are what the SDK sends.
    expectTypeOf<OpenAI>().toMatchTypeOf<NonNullable<ClientOptions['client']>>();
    expectTypeOf<Anthropic>().toMatchTypeOf<NonNullable<ClientOptions['anthropicClient']>>();
    expectTypeOf<ChatBody>().toMatchTypeOf<ChatCompletionCreateParamsNonStreaming>();
    expectTypeOf<ResponsesBody>().toMatchTypeOf<ResponseCreateParamsNonStreaming>();
    expectTypeOf<MessagesBody>().toMatchTypeOf<MessageCreateParamsNonStreaming>();
    expectTypeOf<FastifyInstance>().toMatchTypeOf<ServiceApp>();
    expectTypeOf(createClient).returns.resolves.toEqualTypeOf<OpenAIClient>();
    expectTypeOf<Clients['anthropic']>().returns.resolves.toEqualTypeOf<AnthropicClient>();
    expect(typeof createClient).toBe('function');
  });
});
