import type { Command } from 'commander';
import { register as foundation } from './commands/foundation.js';
import { register as tokens } from './commands/tokens.js';
import { register as plan } from './commands/plan.js';
import { register as sample } from './commands/sample.js';
import { register as audio } from './commands/audio.js';
import { register as requests } from './commands/requests.js';
import { register as costCurve } from './commands/cost-curve.js';
import { register as calibrate } from './commands/calibrate.js';
import { register as serve } from './commands/serve.js';

/** Each command lives in its own module under commands/; add new ones here. */
export function registerCommands(program: Command): void {
  for (const register of [foundation, tokens, plan, sample, audio, requests, costCurve, calibrate, serve]) register(program);
}
