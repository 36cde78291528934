/**
 * The camera finish: what every real photo carries but no label names. Applied by render.ts to
 * synthetic samples so that "clean", and every label, is learned on images that look like camera
 * output rather than like perfectly clean renders.
 *
 * - Sensor noise (sensor stage, before any compression): camera-model noise (Brooks et al. 2019,
 *   noise.ts) at an sRGB std of 0.8-2.0 /255 at mid grey, i.e. at most 1/1.8 of the 3.6 /255 that
 *   is the weakest noise the `noise` label ever gets (4 /255 x 0.9), spatially correlated as after
 *   demosaicing. (Up to the fifth model the finish went to 3.2 /255: so close to the weakest label
 *   that the two could not be told apart, and 40% of clean test images were flagged as noise.) Not for samples whose labels already carry sensor noise (noise, low_light).
 * - JPEG (compression stage, last): one ordinary re-encode at quality 72-97. Low-light samples
 *   are also compressed harder (quality 50-90, as phones do with dark, noisy frames), so that a
 *   dark compressed photo is not taken for the `jpeg` label; a quality-50 encode stays well below
 *   the jpeg label's visibility bar (2.5 x the artifacts of quality 75, see jpeg.ts).
 *   Not for samples with the jpeg label.
 * - Lens softness (opt-in, `synth --soft-finish P`: a share P of all samples, whatever their labels):
 *   a Gaussian PSF of sigma 0.2-0.5 px in linear light on the source crop, for the slight softness
 *   of lenses, demosaicing and in-camera denoising that a camera's own output has at native scale.
 *   Its strongest is half the per-axis spread of the weakest defocus label (disk radius 1.8 px:
 *   std r/2 = 0.9 px), the same margin as the sensor-noise finish keeps below the noise label.
 *   Without it the eighth model read clean crops blurred by sigma 0.45 as jpeg (17 of 80, 7 unblurred)
 *   and by sigma 0.6 as jpeg or motion blur (60 of 80 flagged). Applied before the labels'
 *   degradations (scene stage included), so rain streaks are not softened by it.
 * - Coarse noise grain (opt-in, `synth --noise-grain P`: a share P of all samples): the sample's
 *   sensor noise, both the noise label's and the sensor-noise finish, gets its residual smoothed
 *   by a Gaussian of 0.6-2 px with its std kept (noise.ts `grain`), the blotchy noise that
 *   in-camera denoising leaves. One draw per sample, so a sample's label noise and finish noise
 *   come from the same "camera". Why: the ninth model found camera noise of std 12/255 on 80 of 80
 *   clean val crops with white grain but on 3 of 80 with grain 2 px, calling the rest clean, motion
 *   blur or defocus (scripts/diagnose_noise_grain.mjs), as it does on real noise photos.
 * - Video/web codec (opt-in, `synth --codec-finish P`: a share P of the samples without the jpeg
 *   label): the last compression is AVIF (AV1 intra coding, as in video frames; quality 45-75) or
 *   WebP (VP8 intra; quality 50-90), replacing the JPEG finish where one was drawn (and also on
 *   samples that drew none). These codecs smooth flat areas and
 *   fine texture in blocks of varying size, with deblocking filters instead of JPEG's 8x8 grid:
 *   the look of video frames (the GoPro deblurring sets are averaged video frames) and of web
 *   images. Why: the shipped model calls 3 of 5 real frame-averaged motion photos jpeg, never motion blur (it
 *   has seen compression only as JPEG). The quality floors keep the smoothing below the weakest
 *   defocus label: on textured 256 px crops an AVIF encode at quality 45 keeps about 0.6-0.7 of
 *   the Laplacian energy where a disk of radius 2 keeps 0.4 (quality 20-30 keeps 0.2-0.55, too
 *   close to blur to call clean).
 * - In-camera processed noise (opt-in, `synth --isp-noise P`: a share P of all samples): the
 *   sample's sensor noise, the noise label's and the sensor-noise finish's alike (one camera per
 *   sample; low light's photon noise is not processed), uses the 'isp' noise model (isp_noise.ts):
 *   Bayer mosaic, colour-difference demosaicing, chroma
 *   noise reduction, optional luma noise reduction and sharpening, at the camera model's luma
 *   strength. It replaces the coarse grain when both are drawn. Why: the shipped model finds noise
 *   on none of the 12 real Nam/PolyU noise photos (in-camera JPEGs of high-ISO shots), calling 7 of
 *   them motion blur, while it finds it on 8 of the 9 DND photos (raw data, simply developed).
 * - Fast shutter (opt-in, `synth --rain-shutter P`: a share P of the samples with the rain label):
 *   the exposure is 0.3-0.7 of the one the rain model assumes, so every streak is that much shorter
 *   (rain.ts `shutter`): short dashes instead of long lines, as in many real rain photos (short
 *   exposures). Why: the shipped model misses 7 of the 26 real rain photos, dense short faint
 *   streaks, and finds a dense single layer of 5 px streaks on 10 of 40 clean val crops, of 8 px
 *   streaks on 20 (scripts/diagnose_rain_style.mjs); the rain model's shortest streak is 8 px,
 *   and a lone layer is never shorter than 15 px.
 * - GIF (opt-in, `synth --gif-finish P`: a share P of the samples without the jpeg
 *   label): after everything else, a GIF round trip, 256 colours chosen by libimagequant with error
 *   diffusion of strength 0-1, as web GIFs (and animated frames) are made from photos. The palette
 *   steps and the dither pattern are texture a blur does not have. Why: 6 of the 10 real defocus
 *   photos are dual-pixel GIF frames, 3 of them missed; on 40 single-problem 512su val images of
 *   each kind the shipped model finds defocus on 40 as they are and on 28 after a dithered GIF
 *   round trip, motion blur on 32 and 17, most of the rest called clean (scripts/diagnose_gif.mjs).
 */
import { applyDegradations, applyJpeg, applyNoise, r4, type AppliedDegradation, type NoiseParams, type RecipeItem } from '../../degrade/index.js';
import { gaussianBlur } from '../../degrade/kernels.js';
import { cameraShotRead, SRGB_SLOPE_MID } from '../../degrade/noise.js';
import { ISP_CHROMA_SIGMA, ISP_LUMA_SIGMA, ISP_SHARPEN, type IspProcessing } from '../../degrade/isp_noise.js';
import { RAIN_MIN_LENGTH, RAIN_SHUTTER_RANGE } from '../../degrade/rain.js';
import type { Rng } from '../../degrade/rng.js';
import { toLinear, toSrgb, type ImageF32 } from '../../image/tensor.js';
import { encodeLossy, encodeGif, readImage, type LossyCodec } from '../../image/io.js';
import { checkNumber, invalidArg } from '../../util/errors.js';

/** What was applied (recorded in the manifest line). */
export interface CameraFinish {
  jpegQuality?: number;
  /** sRGB noise std at mid grey (0-1 scale) of the sensor-noise finish. */
  noiseSigma?: number;
  /** Gaussian sigma in px of the lens-softness finish. */
  softSigma?: number;
  /** Gaussian sigma in px of the coarse noise grain (sensor-noise finish; the noise label records its own). */
  noiseGrain?: number;
  /** Codec of the video/web codec finish (it replaces the JPEG finish). */
  codec?: LossyCodec;
  /** Its quality (the encoder's own 1-100 scale). */
  codecQuality?: number;
  /** In-camera processing of the sensor-noise finish ('isp' noise model; the noise label records its own). */
  noiseIsp?: IspProcessing;
  /** Dither strength (0-1) of the GIF finish (a 256-colour GIF round trip, last). */
  gifDither?: number;
}

/** Share of eligible samples with the sensor-noise finish, and its std range (sRGB, /255). */
export const FINISH_NOISE_PROB = 0.6;
export const FINISH_NOISE_SIGMA: [number, number] = [0.8 / 255, 2.0 / 255];
/** Share of eligible samples with the JPEG finish, and its quality range. */
export const FINISH_JPEG_PROB = 0.7;
export const FINISH_JPEG_QUALITY: [number, number] = [72, 97];
/** Low-light samples: JPEG finish share and quality range. */
export const FINISH_LOW_LIGHT_JPEG_PROB = 0.85;
export const FINISH_LOW_LIGHT_JPEG_QUALITY: [number, number] = [50, 90];
/** Lens-softness finish: Gaussian sigma range in px (its share is the dataset's `softFinish`). */
export const FINISH_SOFT_SIGMA: [number, number] = [0.2, 0.5];
/** Coarse noise grain: Gaussian sigma range in px of the residual smoothing (its share is the dataset's `noiseGrain`). */
export const NOISE_GRAIN_SIGMA: [number, number] = [0.6, 2.0];
/** GIF finish: palette size (GIF's largest) and dither strength range (its share is the dataset's `gifFinish`). */
export const FINISH_GIF_COLOURS = 256;
export const FINISH_GIF_DITHER: [number, number] = [0, 1];
/** Video/web codec finish: quality ranges per codec (its share is the dataset's `codecFinish`). */
export const FINISH_CODEC_QUALITY: Readonly<Record<LossyCodec, [number, number]>> = { avif: [45, 75], webp: [50, 90] };

/**
 * Camera-model noise parameters for an sRGB std `sigma` at mid grey: shot/read from Brooks'
 * log-linear fit (noise.ts), white-balance gains, correlation.
 */
export function finishNoiseParams(sigma: number, rng: Rng): NoiseParams {
  const { shot, read } = cameraShotRead(sigma / SRGB_SLOPE_MID, 0.26 * rng.normal());
  return { model: 'camera', sigma, shot, read, gains: [rng.uniform(1.9, 2.4), 1, rng.uniform(1.5, 1.9)], correlation: rng.uniform(0.2, 0.7) };
}

/** Labels that bring their own sensor noise, so a sample with one gets no sensor-noise finish. */
export function carriesSensorNoise(labels: readonly string[]): boolean {
  return labels.includes('noise') || labels.includes('low_light');
}

/** The finish of one sample: null where a part is not applied. */
export interface FinishPlan {
  noise: NoiseParams | null;
  jpegQuality: number | null;
  /** Gaussian sigma (px) of the lens-softness finish. */
  softSigma: number | null;
  /** Gaussian sigma (px) of the coarse grain of this sample's sensor noise (label and finish). */
  noiseGrain: number | null;
  /** The video/web codec finish, when drawn (then `jpegQuality` is null). */
  codec: { codec: LossyCodec; quality: number } | null;
  /** In-camera processing of this sample's sensor noise (label and finish: the 'isp' model), when drawn (then `noiseGrain` is null). */
  isp: IspProcessing | null;
  /** Fast-shutter factor of this sample's rain streaks (rain.ts `shutter`), when drawn and the sample has the rain label. */
  rainShutter: number | null;
  /** Dither strength of the GIF finish (a 256-colour GIF round trip after any other compression), when drawn. */
  gifDither: number | null;
}

/**
 * Shares of the samples, each in [0, 1], with each opt-in part of the finish, as the dataset's
 * config (SynthConfig) and the synthesizer's options name them. An absent share is 0, and is
 * recorded in synth.json only when given, so datasets made before that part existed keep theirs.
 */
export interface FinishShares {
  /** Lens-softness finish, a Gaussian PSF (`synth --soft-finish`). */
  softFinish?: number;
  /** Sensor noise (noise label and sensor-noise finish) with coarse grain (`synth --noise-grain`). */
  noiseGrain?: number;
  /** Samples without the jpeg label whose last compression is AVIF or WebP instead of the JPEG finish (`synth --codec-finish`). */
  codecFinish?: number;
  /** Sensor noise (noise label and sensor-noise finish) from the in-camera processed 'isp' model (`synth --isp-noise`). */
  ispNoise?: number;
  /** Samples with the rain label whose streaks are shortened by a fast shutter (`synth --rain-shutter`). */
  rainShutter?: number;
  /** Samples without the jpeg label saved last as a 256-colour GIF (`synth --gif-finish`). */
  gifFinish?: number;
}

/** A range `lo-hi` as the help text writes it. */
const range = ([lo, hi]: readonly [number, number]): string => `${lo}-${hi}`;

/**
 * The opt-in shares with the `synth` flag that sets each, in the order synth.json records them,
 * and each flag's help (lines of `synth --help`; the ranges are this module's constants).
 */
export const FINISH_SHARE_FLAGS: readonly { key: keyof FinishShares; flag: string; help: readonly string[] }[] = [
  {
    key: 'softFinish',
    flag: 'soft-finish',
    help: [
      'share of samples (any label) given the lens-softness finish: a Gaussian PSF',
      `of sigma ${range(FINISH_SOFT_SIGMA)} px, the slight softness of a camera's own output, so that`,
      'it is not read as blur or JPEG',
    ],
  },
  {
    key: 'noiseGrain',
    flag: 'noise-grain',
    help: [
      "share of samples whose sensor noise (the noise label's and the finish's) is",
      `coarse-grained: the residual smoothed by a Gaussian of ${range(NOISE_GRAIN_SIGMA)} px, std kept, as`,
      'after in-camera denoising, so blotchy noise is not read as blur or clean',
    ],
  },
  {
    key: 'codecFinish',
    flag: 'codec-finish',
    help: [
      'share of samples without the jpeg label whose last compression is AVIF',
      `(quality ${range(FINISH_CODEC_QUALITY.avif)}) or WebP (${range(FINISH_CODEC_QUALITY.webp)}), replacing the ordinary JPEG finish where`,
      'one was drawn: the smoothing of video frames and web images, so it is not',
      'read as JPEG damage and blur under it is still found',
    ],
  },
  {
    key: 'ispNoise',
    flag: 'isp-noise',
    help: [
      "share of samples whose sensor noise (the noise label's and the finish's, not",
      "low light's) is processed as in a camera's own JPEGs: Bayer mosaic,",
      `demosaicing, chroma noise reduction (sigma ${range(ISP_CHROMA_SIGMA)} px), sharpening (colour`,
      'blotches and fine grain, at the same luma strength); replaces --noise-grain',
      'on the samples that draw both',
    ],
  },
  {
    key: 'rainShutter',
    flag: 'rain-shutter',
    help: [
      'share of samples with the rain label taken with a fast shutter: every streak',
      `${range(RAIN_SHUTTER_RANGE)} of its length (at least ${RAIN_MIN_LENGTH} px), the short dashes of many real`,
      'rain photos',
    ],
  },
  {
    key: 'gifFinish',
    flag: 'gif-finish',
    help: [
      'share of samples without the jpeg label saved last as a GIF: a palette of',
      `${FINISH_GIF_COLOURS} colours, error diffusion of strength ${range(FINISH_GIF_DITHER)}, as web GIFs and`,
      'animated frames are made, so palette steps and dither are not read as noise',
      'or as sharpness',
    ],
  },
];

/** The shares given in `opts`, each checked to lie in [0, 1], in FINISH_SHARE_FLAGS order; absent ones stay absent. */
export function checkFinishShares(where: string, opts: FinishShares): FinishShares {
  const shares: FinishShares = {};
  for (const { key } of FINISH_SHARE_FLAGS) {
    const value = opts[key];
    if (value !== undefined) shares[key] = checkNumber(where, key, value, 0, 1);
  }
  return shares;
}

/** Decides the finish of a sample from its labels and the dataset's opt-in shares (pure in `rng`). */
export function planFinish(labels: readonly string[], rng: Rng, shares: FinishShares = {}): FinishPlan {
  // Every value is drawn whatever the labels, so each sample's stream stays in step.
  const doNoise = rng.bool(FINISH_NOISE_PROB);
  const sigma = Math.exp(rng.uniform(Math.log(FINISH_NOISE_SIGMA[0]), Math.log(FINISH_NOISE_SIGMA[1])));
  const noiseParams = finishNoiseParams(sigma, rng);
  const noise = doNoise && !carriesSensorNoise(labels) ? noiseParams : null;
  const dark = labels.includes('low_light');
  const [p, [qlo, qhi]] = dark ? [FINISH_LOW_LIGHT_JPEG_PROB, FINISH_LOW_LIGHT_JPEG_QUALITY] : [FINISH_JPEG_PROB, FINISH_JPEG_QUALITY];
  const doJpeg = rng.bool(p);
  const quality = rng.int(qlo, qhi);
  const jpegQuality = !labels.includes('jpeg') && doJpeg ? quality : null;
  // Drawn last, so the draws above (and every dataset made before this part) are unchanged.
  const doSoft = rng.bool(shares.softFinish ?? 0);
  const softSigma = r4(rng.uniform(FINISH_SOFT_SIGMA[0], FINISH_SOFT_SIGMA[1]));
  // Drawn after the softness for the same reason.
  const doGrain = rng.bool(shares.noiseGrain ?? 0);
  const grain = r4(rng.uniform(NOISE_GRAIN_SIGMA[0], NOISE_GRAIN_SIGMA[1]));
  const noiseGrain = doGrain ? grain : null;
  // Drawn after the grain for the same reason. The jpeg label's compression is its own.
  const doCodec = rng.bool(shares.codecFinish ?? 0);
  const codecName: LossyCodec = rng.bool(0.5) ? 'avif' : 'webp';
  const codecQuality = rng.int(...FINISH_CODEC_QUALITY[codecName]);
  const codec = doCodec && !labels.includes('jpeg') ? { codec: codecName, quality: codecQuality } : null;
  // Drawn after the codec for the same reason.
  const doIsp = rng.bool(shares.ispNoise ?? 0);
  const processing: IspProcessing = {
    chroma: r4(rng.uniform(...ISP_CHROMA_SIGMA)),
    luma: r4(rng.bool(0.5) ? rng.uniform(...ISP_LUMA_SIGMA) : 0),
    sharpen: r4(rng.uniform(...ISP_SHARPEN)),
  };
  const isp = doIsp ? processing : null;
  // Drawn after the processing for the same reason.
  const doShutter = rng.bool(shares.rainShutter ?? 0);
  const shutter = r4(rng.uniform(...RAIN_SHUTTER_RANGE));
  // Drawn after the shutter for the same reason.
  const doGif = rng.bool(shares.gifFinish ?? 0);
  const dither = r4(rng.uniform(...FINISH_GIF_DITHER));
  const grainUsed = isp ? null : noiseGrain;
  let finishNoise: NoiseParams | null = noise;
  if (noise && isp) finishNoise = { ...noise, model: 'isp', correlation: 0, isp };
  else if (noise && grainUsed !== null) finishNoise = { ...noise, grain: grainUsed };
  return {
    noise: finishNoise,
    jpegQuality: codec ? null : jpegQuality,
    softSigma: doSoft ? softSigma : null,
    noiseGrain: grainUsed,
    codec,
    isp,
    rainShutter: doShutter && labels.includes('rain') ? shutter : null,
    gifDither: doGif && !labels.includes('jpeg') ? dither : null,
  };
}

/** Lens-softness part of the finish: Gaussian PSF of `sigma` px in linear light (apply to the source). */
export function applyFinishSoftness(img: ImageF32, sigma: number): ImageF32 {
  return toSrgb(gaussianBlur(toLinear(img), sigma));
}

/**
 * The degradations of `recipe` in physical order with the sensor-noise finish at its place: after
 * the scene and optics (and any label's sensor noise), before the jpeg label's compression. The
 * recipe is applied in two steps around the noise with the same `degradeRng` (applyDegradations
 * only forks it), so every label keeps the parameters it would get in one step.
 */
export async function degradeWithSensorFinish(
  src: ImageF32,
  recipe: readonly RecipeItem[],
  noise: NoiseParams | null,
  degradeRng: Rng,
  noiseRng: Rng,
): Promise<{ image: ImageF32; applied: AppliedDegradation[] }> {
  const compression = recipe.filter((r) => r.name === 'jpeg');
  let { image, applied } = await applyDegradations(src, recipe.filter((r) => r.name !== 'jpeg'), degradeRng);
  if (noise) image = applyNoise(image, noise, noiseRng);
  if (compression.length) {
    const done = await applyDegradations(image, compression, degradeRng);
    image = done.image;
    applied = [...applied, ...done.applied];
  }
  return { image, applied };
}

/** JPEG part of the finish (apply last). */
export function applyFinishJpeg(img: ImageF32, quality: number): Promise<ImageF32> {
  return applyJpeg(img, { quality, chromaSubsampling: '4:2:0' });
}

/** GIF part of the finish (apply after any other compression): a 256-colour GIF round trip of an RGB image. */
export async function applyFinishGif(img: ImageF32, dither: number): Promise<ImageF32> {
  if (img.channels !== 3) invalidArg('applyFinishGif', 'image channels', '3 (the synthesizer renders RGB)', img.channels);
  return readImage(await encodeGif(img, FINISH_GIF_COLOURS, dither));
}

/** Video/web codec part of the finish (apply last, instead of the JPEG finish): one encode/decode round trip of an RGB image. */
export async function applyFinishCodec(img: ImageF32, codec: LossyCodec, quality: number): Promise<ImageF32> {
  if (img.channels !== 3) invalidArg('applyFinishCodec', 'image channels', '3 (the synthesizer renders RGB)', img.channels);
  return readImage(await encodeLossy(img, codec, quality));
}
