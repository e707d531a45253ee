import type { Command } from 'commander';
import type { Plan } from '../../plan/types.js';
import { ESTIMATE } from '../../options/sampling.js';
import { addFlags } from '../flags.js';
import { action } from '../util.js';
import { resolveCliOptions, withEstimateOptions, type EstimateCliOptions } from '../sampling-options.js';
import { manyOrOne, withManyOptions, writeJson, type ManyCliOptions } from '../many.js';

/** `, and 2 frames alone` when --grid leaves frames out of its grids (the last group a grid would cost more for). */
function aloneText(p: Plan): string {
  const tiled = (p.grids ?? []).reduce((a, g) => a + g.frames.length, 0);
  return tiled < p.frames.length ? `, and ${p.frames.length - tiled} frame(s) alone` : '';
}

export function describePlan(p: Plan): string {
  const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;
  const lines = [
    `${p.input}: ${p.media.durationSec.toFixed(2)} s ${p.media.container}${p.media.width ? `, ${p.media.width}x${p.media.height}` : ''}`,
    p.video
      ? `video: sent as video (${p.video.mime}), ${p.video.windows.length} window(s) at ${p.video.fps} fps: ${p.video.frames} frames of ${p.video.tokensPerFrame} tokens = ${p.video.frameTokens}; audio ${p.video.audioSeconds.toFixed(2)} s = ${p.video.audioTokens} tokens`
      : p.frames.length
        ? `frames: ${p.frames.length} (${p.mode} mode, every ${p.every} s${p.framesBeforeCap > p.frames.length ? `, thinned from ${p.framesBeforeCap}` : ''}) at ${p.width}x${p.height} ${p.detailApplied}, ${p.tokensPerFrame} tokens each`
        : 'frames: none',
    ...(p.grids ? [`grids: ${p.grids.length} of ${p.grids[0]?.width}x${p.grids[0]?.height}, ${p.grids[0]?.tokens} tokens each${aloneText(p)}`] : []),
    ...(p.video ? [] : [`image tokens: ${p.imageTokens}`]),
    ...(p.audio ? [`audio: ${p.audio.seconds.toFixed(2)} s, ${p.audio.tokens} tokens`] : p.audioNote ? [`audio: none (${p.audioNote})`] : []),
    `text tokens: ${p.textTokens}; input tokens: ${p.inputTokens}; expected output: ${p.outputTokens}${p.requests > 1 ? `; ${p.requests} requests` : ''}`,
    `cost (${p.tier}): ${usd(p.costUsd)}   [${Object.entries(p.costByTier)
      .map(([t, v]) => `${t} ${usd(v)}`)
      .join(', ')}]`,
    `rule: ${p.rules.image}, registry ${p.rules.registryVersion}`,
    ...(p.budget
      ? [
          `budget: ${p.budget.limitUsd !== null ? `$${p.budget.limitUsd}` : `${p.budget.limitTokens} tokens`}; chose every ${p.budget.chosen.every} s, ${p.budget.chosen.detail}${p.budget.chosen.maxSide ? `, max side ${p.budget.chosen.maxSide}` : ''}${p.budget.chosen.maxFrames ? `, at most ${p.budget.chosen.maxFrames} frames` : ''}${p.budget.changed ? '' : ' (as asked)'}`,
        ]
      : []),
    ...p.warnings.map((w) => `warning: ${w}`),
  ];
  return lines.join('\n');
}

export function register(program: Command): void {
  const cmd = withEstimateOptions(
    program
      .command('plan [inputs...]')
      .description(
        'frames, tokens and dollars of the request, from metadata, without decoding; many inputs (several, a directory, --from): a line each and the dataset totals per tier',
      )
      .option('--out <dir>', 'many inputs: DIR/<input>/plan.json each, and DIR/summary.json'),
  );
  addFlags(withManyOptions(cmd), { windowSec: ESTIMATE.windowSec }).action(
    action(async (inputs: string[], opts: EstimateCliOptions & ManyCliOptions & { window?: number; out?: string }) => {
      const { plan } = await import('../../plan/plan.js');
      const input = await manyOrOne(program, inputs, opts, {
        force: Boolean(opts.out),
        work: async (one, out, signal) => {
          const p = await plan(one, resolveCliOptions(opts, { windowSec: opts.window, signal }));
          if (out) await writeJson(out, 'plan.json', p);
          return p;
        },
        counts: (p) => ({ counts: { frames: p.frames.length, tokens: p.inputTokens, usd: p.costUsd }, usdByTier: p.costByTier }),
      });
      if (input === undefined) return undefined;
      const p = await plan(input, resolveCliOptions(opts, { windowSec: opts.window }));
      return { json: p, text: describePlan(p) };
    }),
  );
}
