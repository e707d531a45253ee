import type { Command } from 'commander';
import type { SampleOptions } from '../../sample/sample.js';
import { action } from '../util.js';
import { createProgress } from '../progress.js';
import { resolveCliOptions, withEstimateOptions, type EstimateCliOptions } from '../sampling-options.js';
import { manyOrOne, withManyOptions, type ManyCliOptions } from '../many.js';

export function register(program: Command): void {
  withManyOptions(
    withEstimateOptions(
      program
        .command('sample [inputs...]')
        .description(
          'write the planned frames to DIR and DIR/manifest.json; many inputs (several, a directory, --from): DIR/<input>/ each, and DIR/summary.json',
        )
        .requiredOption('--out <dir>', 'output directory'),
    ),
  ).action(
    action(async (inputs: string[], opts: EstimateCliOptions & ManyCliOptions & { out: string }) => {
      const { sample } = await import('../../sample/sample.js');
      const input = await manyOrOne(program, inputs, opts, {
        work: (one, out, signal) => sample(one, resolveCliOptions<SampleOptions>(opts, { out, signal })).manifest(),
        counts: (m) => ({ counts: { frames: m.totals.frames, tokens: m.plan.inputTokens, usd: m.plan.costUsd } }),
      });
      if (input === undefined) return undefined;
      const bar = createProgress({ total: 0, label: 'frames', enabled: !program.opts().json });
      const run = sample(input, resolveCliOptions<SampleOptions>(opts, { out: opts.out, onFrame: (_f, done, total) => bar.update(done, total) }));
      const m = await run.manifest().finally(() => bar.done());
      const text = [
        `${m.totals.frames} frames (${m.mode} mode) written to ${opts.out}, ${m.totals.bytes} bytes, ${m.totals.imageTokens} image tokens for ${m.model} ${m.detail}`,
        ...(m.dropped.length ? [`--dedup dropped ${m.dropped.length} repeated frame(s)`] : []),
        ...(m.grids ? [`${m.grids.length} grid image(s)`] : []),
        `took ${(m.timings.sampleMs / 1000).toFixed(2)} s`,
        ...m.warnings.map((w) => `warning: ${w}`),
      ].join('\n');
      return { json: m, text };
    }),
  );
}
