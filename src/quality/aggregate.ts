/**
 * Tile -> image aggregation of the inspector. A label's image probability is the mean of its most
 * confident tiles: `topK` tiles for every label, or, when the config has `labelTopFraction`, the
 * top ceil(f * T) of the image's T tiles for each label separately. A small fraction lets a label
 * that covers part of the photo (the blurred background of a shallow depth of field) count, a
 * fraction of 1 averages a whole-image problem (haze, noise) over every tile. Severity is the
 * probability-weighted mean severity of the same tiles.
 */
import type { InspectorConfig } from './labels.js';

/** Tile counts the calibration scans per label, as fractions of the tiles of an image. */
export const SCAN_FRACTIONS = [0.25, 0.5, 1] as const;

/** Tiles in the top share `fraction` of T tiles: ceil(fraction * T), at least 1. */
export function tilesInShare(fraction: number, T: number): number {
  return Math.max(1, Math.min(T, Math.ceil(fraction * T - 1e-9)));
}

/** Number of tiles averaged for label k of an image with T tiles. */
export function tilesAveraged(config: Pick<InspectorConfig, 'topK' | 'labelTopFraction'>, k: number, T: number): number {
  const f = config.labelTopFraction?.[k];
  return f !== undefined ? tilesInShare(f, T) : Math.max(1, Math.min(config.topK, T));
}

/** Mean of the n largest values of `probs`, and the probability-weighted mean of `severity` over them. */
export function topMean(probs: readonly number[], n: number, severity?: readonly number[]): { probability: number; severity: number } {
  if (!probs.length) throw new RangeError('topMean: no tile probabilities to average');
  const order = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, Math.max(1, Math.min(n, probs.length)));
  const sum = order.reduce((s, i) => s + probs[i]!, 0);
  const sev = severity ? order.reduce((s, i) => s + probs[i]! * severity[i]!, 0) / (sum || 1) : 0;
  return { probability: sum / order.length, severity: sev };
}
