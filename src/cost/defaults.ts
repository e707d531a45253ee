/** The cost curve's defaults (no heavy imports here: the CLI help reads them). */
import { DEFAULT_MODEL } from '../models/constants.js';

export const COST_CURVE_DEFAULTS = {
  every: [1, 2, 5, 10, 30],
  models: [DEFAULT_MODEL],
  /**
   * Cuts closer than this to the cut before them are not new shots (a flash, a dissolve scored
   * twice): the scene mode's `minGap` for the shot scan.
   */
  minShotSec: 0.5,
};
