// The service's providers: each one's server and key from the config, else from the variables its
// client reads (the CLI's names), OPENAI_* as before.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/service/config.js';

describe('resolveConfig: each provider’s server and key', () => {
  it('reads the variables the providers’ clients read, and the config wins over them', () => {
    const env = {
      OPENAI_BASE_URL: 'http://o/v1',
      OPENAI_API_KEY: 'ok',
      ANTHROPIC_BASE_URL: 'http://a',
      ANTHROPIC_API_KEY: 'ak',
      GOOGLE_API_KEY: 'gk', // GEMINI_API_KEY first, then GOOGLE_API_KEY, as the Gemini client
      OMNIPREP_LOCAL_BASE_URL: 'http://l/v1',
    };
    expect(resolveConfig({}, env).providers).toEqual({
      openai: { baseURL: 'http://o/v1', apiKey: 'ok' },
      anthropic: { baseURL: 'http://a', apiKey: 'ak' },
      gemini: { baseURL: undefined, apiKey: 'gk' },
      local: { baseURL: 'http://l/v1', apiKey: undefined },
    });
    const given = resolveConfig(
      { baseURL: 'http://o2/v1', providers: { gemini: { baseURL: 'http://g', apiKey: 'g2' }, anthropic: { baseURL: 'http://a2' } } },
      { ...env, GEMINI_API_KEY: 'gemini' },
    ).providers;
    expect(given).toMatchObject({
      openai: { baseURL: 'http://o2/v1', apiKey: 'ok' },
      anthropic: { baseURL: 'http://a2', apiKey: 'ak' },
      gemini: { baseURL: 'http://g', apiKey: 'g2' },
    });
    expect(resolveConfig({}, { GEMINI_API_KEY: 'gemini', GOOGLE_API_KEY: 'gk' }).providers.gemini.apiKey).toBe('gemini');
    expect(resolveConfig({}, { ANTHROPIC_API_KEY: '' }).providers.anthropic.apiKey).toBeUndefined();
  });
});
