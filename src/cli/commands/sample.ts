import type { Command } from 'commander';
import { action } from '../util.js';
import { createProgress } from '../progress.js';
import { planOptionsFromCli, withEstimateOptions, type EstimateCliOptions } from '../sampling-options.js';

export function register(program: Command): void {
  withEstimateOptions(
    program.command('sample <input>').description('write the planned frames to DIR and DIR/manifest.json').requiredOption('--out <dir>', 'output directory'),
  ).action(
    action(async (input: string, opts: EstimateCliOptions & { out: string }) => {
      const { sample } = await import('../../sample/sample.js');
      const bar = createProgress({ total: 0, label: 'frames', enabled: !program.opts().json });
      const run = sample(input, {
        ...planOptionsFromCli(opts),
        out: opts.out,
        onFrame: (_f, done, total) => bar.update(done, total),
      });
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
