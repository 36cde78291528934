/**
 * The image-quality inspector (Node): `Inspector.load()` then `inspect(pathOrBuffer)`. The browser
 * inspector is `attnvision/browser` (quality/browser.ts).
 */
export { Inspector, InspectError, shippedModelDir, type LoadOptions, type InspectOptions } from './inspector.js';
export { QUALITY_LABELS, type QualityLabel, type LabelResult, type InspectResult, type InspectorConfig } from './labels.js';
export { planTiles, type TilePlan } from './tiling.js';
export { renderHeatmap } from './heatmap.js';
export { baselineScores, baselineLabels, DEFAULT_BASELINE_THRESHOLDS, type BaselineScores, type BaselineThresholds } from './baselines.js';
export { topMean, tilesAveraged, SCAN_FRACTIONS } from './aggregate.js';
export { checkInspectorConfig, labelThresholdsOf, tileBatch, resultFromTileOutputs, InspectorConfigError } from './core.js';
export { calibrateInspector, SCAN_THRESHOLDS, type CalibrationResult } from './calibrate.js';
export { pairedBootstrap, type PairedBootstrap, type ScoredDecisions } from './bootstrap.js';
export { calibrateJointly, ISSUE_BARS, type JointCalibration, type JointObjective, type LabelRule, type JointStart } from './joint_calibration.js';
export { crossValidateObjective, groupFolds, type CrossValidatedObjective } from './objective_cv.js';
export { collectSplitTiles, operatingPoints, probsUnderRules, type OperatingPoint, type SplitTiles } from './operating_points.js';
export { analyseMisses, type DecisionRow, type LabelMisses } from './miss_analysis.js';
