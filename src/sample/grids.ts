import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { EXTENSION } from '../image/encode.js';
import { composeGrid } from '../image/grid.js';
import { gridPays } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import type { ManifestGrid, SampledFrame } from './manifest.js';

/**
 * --grid: the kept frames tiled in order, with the planned cell size, written next to them. A
 * group whose grid would cost no fewer tokens than its frames (gridPays: the last, part-filled
 * one) is not tiled: its frames are sent alone (framesOutsideGrids).
 */
export async function writeGrids(p: Plan, grid: { cols: number; rows: number }, kept: SampledFrame[], dir: string, written: string[]): Promise<ManifestGrid[]> {
  const g0 = p.grids![0]!;
  const per = grid.cols * grid.rows;
  const grids: ManifestGrid[] = [];
  for (let i = 0; i < kept.length; i += per) {
    const cells = kept.slice(i, i + per);
    if (!gridPays(g0.tokens, cells.length, p.tokensPerFrame)) continue;
    const data = await composeGrid(
      cells.map((c) => ({ image: c.file, timestampSec: c.timestampSec })),
      { cols: grid.cols, rows: grid.rows, cellWidth: g0.cellWidth, cellHeight: g0.cellHeight, format: p.format, quality: p.quality },
    );
    const file = join(dir, `grid-${String(grids.length).padStart(5, '0')}.${EXTENSION[p.format]}`);
    await writeFile(file, data);
    written.push(file);
    grids.push({
      index: grids.length,
      file: relative(dir, file),
      timestamps: cells.map((c) => c.timestampSec),
      frames: cells.map((c) => c.index),
      width: g0.width,
      height: g0.height,
      bytes: data.length,
      tokens: g0.tokens,
    });
  }
  return grids;
}
