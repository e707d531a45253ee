/** omniprep/calibrate: measure how a server bills images, find the rule that explains it, save a registry override. */
export {
  calibrate,
  calibrationOverride,
  saveOverride,
  CALIBRATE_DEFAULTS,
  type CalibrateOptions,
  type CalibrationReport,
  type CalibratedImage,
} from './calibrate.js';
export { fitImageRule, type Observation, type RuleFit, type FitResult, type FittedRule } from './fit.js';
export { CALIBRATION_SIZES, type ImageSize } from './images.js';
