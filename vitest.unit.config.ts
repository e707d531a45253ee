// `npm run test:unit`: the pure modules' tests (planner, token math, size chooser, frame selection,
// Annex B parsing, grids, cuts, request building, limiter). No build, no fixtures, no ffmpeg:
// they pass with OMNIPREP_FFMPEG=/nonexistent. Files are named *.unit.test.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.unit.test.ts'],
    testTimeout: 30_000,
    pool: 'threads',
  },
});
