/** The model options every command shares: --model, --models FILE, --rule MODEL. */
import type { Command } from 'commander';
import type { ModelOptions } from '../models/tokens.js';
import { ESTIMATE } from '../options/sampling.js';
import { addFlags } from './flags.js';

export { DEFAULT_MODEL } from '../models/constants.js';

export interface ModelCliOptions {
  model?: string;
  models?: string;
  rule?: string;
}

export function withModelOptions(cmd: Command): Command {
  return addFlags(cmd, { model: ESTIMATE.model })
    .option('--models <file>', 'a JSON file of models and rules that add to or override the registry (also OMNIPREP_MODELS)')
    .option('--rule <model>', 'for a model the registry does not know: the known model whose rules it follows');
}

export function modelOptions(o: ModelCliOptions): ModelOptions {
  return { modelsFile: o.models, rule: o.rule };
}
