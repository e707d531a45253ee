/** The sampling and estimate flags shared by plan, sample, request, batch, run and cost-curve (options/sampling.ts). */
import type { Command } from 'commander';
import { ESTIMATE, pickSampling, SAMPLING, type EstimateOptions, type SamplingOptions } from '../options/sampling.js';
import { resolveOptions, type Resolved } from '../options/resolve.js';
import { DECODERS, type DecoderChoice } from '../options/decoder.js';
import type { PlanOptions } from '../plan/types.js';
import { addFlags } from './flags.js';
import { modelOptions, withModelOptions, type ModelCliOptions } from './model-options.js';

/** The sampling options as commander hands them over (already parsed and checked). */
export interface SamplingCliOptions extends ModelCliOptions, SamplingOptions {}

export interface EstimateCliOptions extends SamplingCliOptions, Omit<EstimateOptions, 'model'> {
  allowPrivateUrls?: boolean;
  decoder?: DecoderChoice;
}

export function withSamplingOptions(cmd: Command): Command {
  return addFlags(withModelOptions(cmd), SAMPLING);
}

export function withEstimateOptions(cmd: Command): Command {
  return addFlags(withSamplingOptions(cmd), ESTIMATE, { omit: ['model', 'windowSec'] })
    .option('--allow-private-urls', 'let an http(s) input reach loopback, private and link-local addresses (trusted networks only)')
    .option(
      '--decoder <name>',
      `what decodes frames: ${DECODERS.join(', ')} (default auto: node-av when the ffmpeg found is over two years old; or OMNIPREP_DECODER)`,
    );
}

export function planOptionsFromCli(o: EstimateCliOptions): PlanOptions {
  return {
    ...modelOptions(o),
    ...pickSampling(o),
    model: o.model,
    send: o.send,
    prompt: o.prompt,
    audio: o.audio,
    tier: o.tier,
    budget: o.budget,
    maxTokens: o.maxTokens,
    outputTokens: o.outputTokens,
    allowRetired: o.allowRetired,
    ...(o.allowPrivateUrls ? { remote: { allowPrivate: true } } : {}),
    ...(o.decoder ? { decoder: o.decoder } : {}),
  };
}

/**
 * The command's options resolved once, as the CLI's surface (each flag was checked by its parser):
 * the library below takes them as they are. `extra` adds the command's own (`windowSec`, `out`, ...).
 */
export function resolveCliOptions<O extends PlanOptions = PlanOptions>(o: EstimateCliOptions, extra: Partial<O> = {}): Resolved<O> {
  return resolveOptions<O>({ ...planOptionsFromCli(o), ...extra }, { surface: 'cli' });
}
