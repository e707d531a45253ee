import type { Command } from 'commander';
import { action, numberArg } from '../util.js';
import { DEFAULT_MODEL, modelOptions, withModelOptions, type ModelCliOptions } from '../model-options.js';

export function register(program: Command): void {
  withModelOptions(
    program
      .command('tokens')
      .description('tokens one image costs for a model: { model, detail, width, height, resizedWidth, resizedHeight, tokens, rule }')
      .requiredOption('--width <px>', 'image width', numberArg('--width', { min: 1, integer: true }))
      .requiredOption('--height <px>', 'image height', numberArg('--height', { min: 1, integer: true }))
      .option('--detail <level>', 'low, high, original, auto (what the model accepts)'),
  ).action(
    action(async (opts: ModelCliOptions & { width: number; height: number; detail?: string }) => {
      const { imageTokens } = await import('../../models/tokens.js');
      const r = imageTokens(opts.model ?? DEFAULT_MODEL, opts.width, opts.height, opts.detail, modelOptions(opts));
      return {
        json: r,
        text: `${r.model} ${r.detail}: ${r.width}x${r.height} -> ${r.resizedWidth}x${r.resizedHeight}, ${r.tokens} tokens (${r.rule})`,
      };
    }),
  );
}
