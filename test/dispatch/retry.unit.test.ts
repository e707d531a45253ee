// classifyFailure tells the SDKs' errors apart by their class names (retry.ts), so that importing
// the dispatcher loads no SDK. Each SDK's own error classes, made as the SDK makes them, classify
// as they did by `instanceof`; a look-alike that is no SDK's error does not.
import { createRequire } from 'node:module';
import * as anthropic from '@anthropic-ai/sdk';
import * as openai from 'openai';
import { describe, expect, it } from 'vitest';
import { AttemptTimeoutError } from '../../src/providers/failure.js';
import { classifyFailure } from '../../src/dispatch/retry.js';

const headers = (h: Record<string, string>): Headers => new Headers(h);

describe('classifyFailure, OpenAI SDK errors', () => {
  it('aborted, timed out and connection failures', () => {
    expect(classifyFailure(new openai.APIUserAbortError())).toEqual({ kind: 'aborted', retryable: false, message: 'cancelled', maybeBilled: true });
    expect(classifyFailure(new openai.APIConnectionTimeoutError())).toEqual({ kind: 'timeout', retryable: true, message: 'timed out', maybeBilled: true });
    expect(classifyFailure(new openai.APIConnectionError({ message: 'Connection error.', cause: new Error('ECONNRESET') }))).toEqual({
      kind: 'connection',
      retryable: true,
      message: 'connection failed (ECONNRESET)',
      maybeBilled: false,
    });
  });

  it('HTTP errors by status, with the wait the server asks for', () => {
    const limited = openai.APIError.generate(429, { error: { message: 'slow down' } }, undefined, headers({ 'retry-after-ms': '1500' }));
    expect(limited).toBeInstanceOf(openai.RateLimitError);
    expect(classifyFailure(limited)).toEqual({
      kind: 'rate-limit',
      retryable: true,
      status: 429,
      message: '429 slow down',
      retryAfterMs: 1500,
      maybeBilled: false,
    });
    expect(classifyFailure(openai.APIError.generate(503, { error: { message: 'busy' } }, undefined, headers({})))).toMatchObject({
      kind: 'server',
      retryable: true,
      status: 503,
    });
    expect(classifyFailure(openai.APIError.generate(400, { error: { message: 'bad image' } }, undefined, headers({})))).toEqual({
      kind: 'client',
      retryable: false,
      status: 400,
      message: '400 bad image',
      maybeBilled: false,
    });
  });

  it("the SDK's CommonJS copy classifies the same", () => {
    const cjs = createRequire(import.meta.url)('openai') as typeof openai;
    expect(cjs.APIError).not.toBe(openai.APIError);
    expect(classifyFailure(cjs.APIError.generate(429, { error: { message: 'slow down' } }, undefined, headers({ 'retry-after': '2' })))).toMatchObject({
      kind: 'rate-limit',
      retryAfterMs: 2000,
    });
    expect(classifyFailure(new cjs.APIConnectionTimeoutError())).toMatchObject({ kind: 'timeout' });
  });
});

describe('classifyFailure, Anthropic SDK errors', () => {
  it('aborted, timed out and connection failures', () => {
    expect(classifyFailure(new anthropic.APIUserAbortError())).toMatchObject({ kind: 'aborted', retryable: false });
    expect(classifyFailure(new anthropic.APIConnectionTimeoutError())).toMatchObject({ kind: 'timeout', retryable: true });
    expect(classifyFailure(new anthropic.APIConnectionError({ message: 'Connection error.', cause: new Error('ECONNREFUSED') }))).toMatchObject({
      kind: 'connection',
      message: 'connection failed (ECONNREFUSED)',
    });
  });

  it('HTTP errors keep the error type and message, and wait for the exhausted limit to reset', () => {
    const now = Date.now();
    const body = { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } };
    const reset = new Date(now + 60_000).toISOString();
    const e = anthropic.APIError.generate(
      429,
      body,
      undefined,
      headers({ 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': reset }),
    );
    expect(e).toBeInstanceOf(anthropic.RateLimitError);
    const f = classifyFailure(e);
    expect(f).toMatchObject({ kind: 'rate-limit', retryable: true, status: 429, message: 'rate_limit_error: slow down' });
    expect(f.retryAfterMs).toBeGreaterThan(50_000);
    expect(f.retryAfterMs).toBeLessThanOrEqual(60_000);
    const overloaded = anthropic.APIError.generate(529, { type: 'error', error: { type: 'overloaded_error', message: 'busy' } }, undefined, headers({}));
    expect(classifyFailure(overloaded)).toMatchObject({ kind: 'server', retryable: true, status: 529, message: 'overloaded_error: busy' });
  });
});

describe('classifyFailure, other errors', () => {
  it('an attempt timer, a failed fetch, and look-alikes that are no SDK error', () => {
    expect(classifyFailure(new AttemptTimeoutError(1000))).toMatchObject({ kind: 'timeout' });
    expect(classifyFailure(new TypeError('fetch failed', { cause: new Error('ENOTFOUND') }))).toMatchObject({
      kind: 'connection',
      message: 'connection failed (ENOTFOUND)',
    });
    class APIError extends Error {
      status = 429;
    }
    expect(classifyFailure(new APIError('not an SDK error'))).toMatchObject({ kind: 'other', retryable: false });
    expect(classifyFailure('a string')).toMatchObject({ kind: 'other', message: 'a string' });
  });
});
