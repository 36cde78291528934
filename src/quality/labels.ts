/**
 * The image-quality inspector's label set. "clean" is not a model output: an image is clean when no
 * problem label reaches the threshold.
 */
export const QUALITY_LABELS = ['defocus_blur', 'motion_blur', 'noise', 'rain', 'haze', 'low_light', 'jpeg'] as const;
export type QualityLabel = (typeof QUALITY_LABELS)[number];

export interface LabelResult {
  label: QualityLabel;
  /** Probability that the image has this problem (aggregated over tiles). */
  probability: number;
  /** Estimated severity in [0, 1] (0 = barely, 1 = extreme). */
  severity: number;
}

/** A rectangle in source pixels. */
export interface TileCell {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface InspectResult {
  /** True when no label reaches its threshold. */
  clean: boolean;
  /** Labels at or above their threshold, most probable first. */
  labels: LabelResult[];
  /** Every label's probability and severity, in QUALITY_LABELS order. */
  scores: LabelResult[];
  /**
   * Tile grid used: rows x cols, tile side in source pixels, and for drawing, each tile's display
   * cell in source pixels (row-major; tiles overlap, so a cell is the part of the image nearer to
   * that tile's centre than to any other's: its edges lie halfway between neighbouring centres).
   */
  tiles: { rows: number; cols: number; tileSize: number; width: number; height: number; cells: TileCell[] };
  /** Per-tile probabilities [rows * cols][labels] (for heatmaps). */
  tileProbabilities: number[][];
  /**
   * Present when the image was downscaled for tiling and the config has `detailLabels`: the
   * native-scale detail tiles (tiling.ts planDetailTiles) those labels were read from, with their
   * origins in source pixels, display cells (as `tiles.cells`: the part of the image nearest each
   * tile's centre) and per-tile probabilities [rows * cols][labels]. Heatmaps draw these labels from them.
   */
  detail?: { labels: QualityLabel[]; rows: number; cols: number; tileSize: number; origins: { left: number; top: number }[]; cells: TileCell[]; tileProbabilities: number[][] };
  /**
   * Present when the image was downscaled for tiling and the config has `fineLabels`: the finer
   * coverage (tiling.ts planFineTiles) those labels were read from: grid, tile side in source
   * pixels, display cells and per-tile probabilities [rows * cols][labels], as `tiles`.
   */
  fine?: { labels: QualityLabel[]; rows: number; cols: number; tileSize: number; cells: TileCell[]; tileProbabilities: number[][] };
  /** The threshold each label was decided at, in `scores` order. */
  thresholds: number[];
}

/** The shipped model's configuration (models/inspector.json). */
export interface InspectorConfig {
  labels: QualityLabel[];
  /** Model input side in pixels. */
  inputSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Default decision threshold (for every label without its own). */
  threshold: number;
  /** Optional per-label thresholds in `labels` order, calibrated on validation data. */
  labelThresholds?: number[];
  /** Model outputs 2K values: presence logits then severity logits. */
  severityHead: boolean;
  /** Architecture name and training run, for the model card. */
  model: string;
  /** How tile probabilities become image probabilities: mean of the top-k tiles. */
  topK: number;
  /** Optional per-label share of the tiles averaged (top ceil(f*T) of T), in `labels` order; overrides `topK`. See aggregate.ts. */
  labelTopFraction?: number[];
  /** Maximum tiles per side (large images are downscaled so a tile sees enough context). */
  maxTilesPerSide: number;
  /**
   * Labels read from native-scale detail tiles when an image is downscaled for tiling (pixel-level
   * problems: noise, jpeg); absent or empty: every label from the coverage tiles. tiling.ts.
   */
  detailLabels?: QualityLabel[];
  /** Detail tiles per side (at most; default `maxTilesPerSide`). Fewer cost less on large photos. */
  detailTilesPerSide?: number;
  /**
   * Labels read from a second, finer coverage of an image downscaled for tiling: the image
   * downscaled only so that at most `fineTilesPerSide` tiles cover a side (blur, whose size in
   * pixels shrinks with the photo); absent or empty: every such label from the coverage tiles.
   * Not also a detail label. tiling.ts planFineTiles.
   */
  fineLabels?: QualityLabel[];
  /** Tiles per side of the finer coverage (at most; more than `maxTilesPerSide`, at most 16). Needed with `fineLabels`. */
  fineTilesPerSide?: number;
  /**
   * Weight `a` of the separable low-pass `[a, 1 - 2a, a]` given to palette images (GIF, palette
   * PNG) at native resolution before tiling, to take their dither out (image/palette.ts); in
   * (0, 1/3]. Absent: palette images are tiled as they are.
   */
  paletteLowpass?: number;
  /**
   * SHA-256 (hex) of the ONNX file this config was written for (package-inspector). When present,
   * loading checks it, so a config left beside another model (an interrupted package, files mixed
   * up) is refused instead of applying one model's thresholds to another's outputs.
   */
  modelSha256?: string;
}

/** The config file of an inspector model: the model's path with .json for .onnx (either case). */
export function configPathOf(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.json';
}
