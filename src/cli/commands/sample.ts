import type { Command } from 'commander';
import type { SampleOptions } from '../../sample/sample.js';
import { action } from '../util.js';
import { resolveCliOptions, withEstimateOptions, type EstimateCliOptions } from '../sampling-options.js';

export function register(program: Command): void {
  withEstimateOptions(
    program.command('sample <input>').description('write the planned frames to DIR and DIR/manifest.json').requiredOption('--out <dir>', 'output directory'),
  ).action(
    action(async (input: string, opts: EstimateCliOptions & { out: string }) => {
      const tty = process.stderr.isTTY && !program.opts().json;
      const { sample } = await import('../../sample/sample.js');
      const run = sample(
        input,
        resolveCliOptions<SampleOptions>(opts, {
          out: opts.out,
          onFrame: tty ? (_f, done, total) => process.stderr.write(`\r${done}/${total} frames`) : undefined,
        }),
      );
      const m = await run.manifest();
      if (tty) process.stderr.write('\n');
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
