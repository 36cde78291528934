/**
 * Blur kernels and 2-D convolution for the degradation library.
 *
 * - `diskKernel(r)`: the pillbox (uniform disk) point-spread function of a defocused thin lens in
 *   geometric optics; pixel weights are the exact-ish disk/pixel overlap area (16x16 supersampling),
 *   like MATLAB's fspecial('disk').
 * - `linearMotionKernel(length, angle)`: uniform straight-line motion, antialiased.
 * - `shakeTrajectory` + `trajectoryKernel`: random camera-shake trajectories following Boracchi &
 *   Foi, "Modeling the Performance of Image Restoration from Motion Blur", IEEE TIP 2012 (the
 *   generator used for DeblurGAN/GoPro-style synthetic blur): a 2-D random walk whose velocity gets
 *   Gaussian perturbations, a centripetal pull, and occasional abrupt "big shakes", rescaled to the
 *   requested path length; the PSF is the time-density of the path (bilinear splatting).
 * - `gaussianKernel1d(sigma)`.
 * - `convolve(img, k)`: dense-or-sparse direct convolution with reflect borders. Only non-zero taps
 *   are visited and each tap is a contiguous multiply-add over a row, so a 35 px shake kernel (~100
 *   taps) on 256x256x3 takes a few ms, a 25x25 disk ~50 ms. `convolveReference` is the plain
 *   per-pixel loop kept as the reference for tests.
 *
 * All kernels are square with odd side, centred, and normalised to sum exactly to 1 (in float64
 * before the float32 store).
 */
import { createImage, type ImageF32 } from '../image/tensor.js';
import { invalidArg } from '../util/errors.js';
import type { Rng } from './rng.js';

export interface Kernel {
  /** Row-major weights, size x size. */
  data: Float32Array;
  /** Odd side length. */
  size: number;
}

function normalise(acc: Float64Array, size: number): Kernel {
  let sum = 0;
  for (const v of acc) sum += v;
  if (!(sum > 0)) throw new RangeError('kernel has no mass');
  const data = new Float32Array(size * size);
  for (let i = 0; i < acc.length; i++) data[i] = acc[i]! / sum;
  return { data, size };
}

/** Sum of the weights (1 up to float32 rounding for every kernel built here). */
export function kernelSum(k: Kernel): number {
  let s = 0;
  for (const v of k.data) s += v;
  return s;
}

/** Uniform disk of radius `radius` px (>= 0.5): defocus point-spread function. */
export function diskKernel(radius: number): Kernel {
  if (!(radius >= 0.5 && radius <= 64)) invalidArg('diskKernel', 'radius', 'number in [0.5, 64]', radius);
  const half = Math.ceil(radius - 0.5);
  const size = 2 * half + 1;
  const acc = new Float64Array(size * size);
  const ss = 16;
  const r2 = radius * radius;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let inside = 0;
      for (let sy = 0; sy < ss; sy++) {
        const py = y - half - 0.5 + (sy + 0.5) / ss;
        for (let sx = 0; sx < ss; sx++) {
          const px = x - half - 0.5 + (sx + 0.5) / ss;
          if (px * px + py * py <= r2) inside++;
        }
      }
      acc[y * size + x] = inside / (ss * ss);
    }
  }
  return normalise(acc, size);
}

/** Splats points (x, y relative to the centre) bilinearly into a kernel that contains them all. */
function splat(points: Float64Array): Kernel {
  let ext = 0;
  for (let i = 0; i < points.length; i++) ext = Math.max(ext, Math.abs(points[i]!));
  const half = Math.ceil(ext) + 1;
  const size = 2 * half + 1;
  const acc = new Float64Array(size * size);
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i]! + half;
    const y = points[i + 1]! + half;
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    acc[y0 * size + x0]! += (1 - fx) * (1 - fy);
    acc[y0 * size + x0 + 1]! += fx * (1 - fy);
    acc[(y0 + 1) * size + x0]! += (1 - fx) * fy;
    acc[(y0 + 1) * size + x0 + 1]! += fx * fy;
  }
  return trim(normalise(acc, size));
}

/** Removes all-zero outer rings (keeps the kernel centred and odd-sized). */
function trim(k: Kernel): Kernel {
  let half = (k.size - 1) / 2;
  const ringEmpty = (h: number): boolean => {
    const c = (k.size - 1) / 2;
    for (let y = c - h; y <= c + h; y++) {
      for (let x = c - h; x <= c + h; x++) {
        if ((Math.abs(y - c) === h || Math.abs(x - c) === h) && k.data[y * k.size + x] !== 0) return false;
      }
    }
    return true;
  };
  while (half > 0 && ringEmpty(half)) half--;
  if (half === (k.size - 1) / 2) return k;
  const size = 2 * half + 1;
  const off = (k.size - size) / 2;
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = k.data[(y + off) * k.size + x + off]!;
  return { data, size };
}

/** Straight uniform motion of `length` px at `angleDeg` (0 = horizontal, counter-clockwise). */
export function linearMotionKernel(length: number, angleDeg: number): Kernel {
  if (!(length >= 1 && length <= 128)) invalidArg('linearMotionKernel', 'length', 'number in [1, 128]', length);
  const n = Math.max(2, Math.ceil(length * 4));
  const pts = new Float64Array(2 * n);
  const a = (angleDeg * Math.PI) / 180;
  for (let i = 0; i < n; i++) {
    const t = (i / (n - 1) - 0.5) * (length - 1);
    pts[2 * i] = t * Math.cos(a);
    pts[2 * i + 1] = -t * Math.sin(a);
  }
  return splat(pts);
}

export interface ShakeOptions {
  /** Blur extent in px: the longer side of the trajectory's bounding box. */
  length: number;
  /** Random-walk irregularity ("anxiety"/expl in Boracchi & Foi's code), typically U(0, 0.1). */
  anxiety: number;
  /** Number of random-walk steps (default 64; see shakeTrajectory). */
  steps?: number;
  /** Fraction of the trajectory covered by the exposure (default 1). */
  exposure?: number;
}

/**
 * Camera-shake trajectory (Boracchi & Foi 2012, `createTrajectory`): returns interleaved (x, y)
 * samples centred on the origin, scaled so the bounding box's longer side is `length`.
 *
 * Deviation from the reference: it walks 2000 steps, which with its perturbation sizes makes a
 * Brownian tangle a few px wide; we walk 64 steps (same update rule) so the path keeps a direction
 * with curls and jerks, then interpolate 16 samples per step and rescale to the requested extent.
 */
export function shakeTrajectory(rng: Rng, opts: ShakeOptions): Float64Array {
  const steps = opts.steps ?? 64;
  const expl = opts.anxiety;
  const centripetal = 0.7 * rng.next();
  const gaussianTerm = 10 * rng.next();
  const freqBigShakes = 0.2 * rng.next();
  const stepLen = opts.length / (steps - 1);
  const a0 = 2 * Math.PI * rng.next();
  let vx = Math.cos(a0) * stepLen;
  let vy = Math.sin(a0) * stepLen;
  const xs = new Float64Array(steps);
  const ys = new Float64Array(steps);
  for (let t = 0; t < steps - 1; t++) {
    let nx = 0;
    let ny = 0;
    if (rng.next() < freqBigShakes * expl) {
      // Abrupt change of direction: rotate 2v by pi + U(-0.5, 0.5).
      const ang = Math.PI + (rng.next() - 0.5);
      nx = 2 * (vx * Math.cos(ang) - vy * Math.sin(ang));
      ny = 2 * (vx * Math.sin(ang) + vy * Math.cos(ang));
    }
    const dvx = nx + expl * (gaussianTerm * rng.normal() - centripetal * xs[t]!) * stepLen;
    const dvy = ny + expl * (gaussianTerm * rng.normal() - centripetal * ys[t]!) * stepLen;
    vx += dvx;
    vy += dvy;
    const norm = Math.hypot(vx, vy) || 1;
    vx = (vx / norm) * stepLen;
    vy = (vy / norm) * stepLen;
    xs[t + 1] = xs[t]! + vx;
    ys[t + 1] = ys[t]! + vy;
  }
  const used = Math.max(2, Math.round(steps * (opts.exposure ?? 1)));
  let mx = Infinity;
  let Mx = -Infinity;
  let my = Infinity;
  let My = -Infinity;
  for (let t = 0; t < used; t++) {
    mx = Math.min(mx, xs[t]!);
    Mx = Math.max(Mx, xs[t]!);
    my = Math.min(my, ys[t]!);
    My = Math.max(My, ys[t]!);
  }
  const cx = (mx + Mx) / 2;
  const cy = (my + My) / 2;
  const extent = Math.max(Mx - mx, My - my, 1e-9);
  const k = Math.max(0, opts.length - 1) / extent; // a path of extent e covers e + 1 pixels
  const sub = 16;
  const out = new Float64Array(2 * ((used - 1) * sub + 1));
  let o = 0;
  for (let t = 0; t < used - 1; t++) {
    for (let j = 0; j < sub; j++) {
      const a = j / sub;
      out[o++] = ((1 - a) * xs[t]! + a * xs[t + 1]! - cx) * k;
      out[o++] = ((1 - a) * ys[t]! + a * ys[t + 1]! - cy) * k;
    }
  }
  out[o++] = (xs[used - 1]! - cx) * k;
  out[o++] = (ys[used - 1]! - cy) * k;
  return out;
}

/** PSF of a trajectory: time density of the path, normalised. */
export function trajectoryKernel(points: Float64Array): Kernel {
  return splat(points);
}

/** Normalised 1-D Gaussian, radius ceil(3 sigma). */
export function gaussianKernel1d(sigma: number): Float32Array {
  if (!(sigma > 0)) invalidArg('gaussianKernel1d', 'sigma', 'positive number', sigma);
  const r = Math.max(1, Math.ceil(3 * sigma));
  const acc = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += acc[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
  return Float32Array.from(acc, (v) => v / s);
}

/** Reflect index (numpy 'reflect', no edge repeat), valid for any offset. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - m;
  return m;
}

/** One plane padded by `r` on every side with reflect borders. */
function padPlane(src: Float32Array, H: number, W: number, r: number): Float32Array {
  const PW = W + 2 * r;
  const out = new Float32Array((H + 2 * r) * PW);
  for (let y = -r; y < H + r; y++) {
    const sy = reflect(y, H) * W;
    const o = (y + r) * PW;
    for (let x = -r; x < W + r; x++) out[o + x + r] = src[sy + (x >= 0 && x < W ? x : reflect(x, W))]!;
  }
  return out;
}

/** 2-D convolution (true convolution, kernel flipped) with reflect borders; visits non-zero taps only. */
export function convolve(img: ImageF32, k: Kernel): ImageF32 {
  const { channels: C, height: H, width: W } = img;
  const r = (k.size - 1) / 2;
  const taps: { dy: number; dx: number; w: number }[] = [];
  for (let y = 0; y < k.size; y++) for (let x = 0; x < k.size; x++) if (k.data[y * k.size + x] !== 0) taps.push({ dy: y - r, dx: x - r, w: k.data[y * k.size + x]! });
  const out = createImage(C, H, W);
  const PW = W + 2 * r;
  for (let c = 0; c < C; c++) {
    const p = padPlane(img.data.subarray(c * H * W, (c + 1) * H * W), H, W, r);
    const dst = out.data.subarray(c * H * W, (c + 1) * H * W);
    for (const { dy, dx, w } of taps) {
      // out(y, x) += w * in(y - dy, x - dx)
      for (let y = 0; y < H; y++) {
        const so = (y - dy + r) * PW - dx + r;
        const o = y * W;
        for (let x = 0; x < W; x++) dst[o + x]! += w * p[so + x]!;
      }
    }
  }
  return out;
}

/** Plain per-pixel convolution, same semantics as `convolve` (reference for tests). */
export function convolveReference(img: ImageF32, k: Kernel): ImageF32 {
  const { channels: C, height: H, width: W } = img;
  const r = (k.size - 1) / 2;
  const out = createImage(C, H, W);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let acc = 0;
        for (let ky = 0; ky < k.size; ky++) {
          for (let kx = 0; kx < k.size; kx++) {
            const sy = reflect(y - (ky - r), H);
            const sx = reflect(x - (kx - r), W);
            acc += k.data[ky * k.size + kx]! * img.data[c * H * W + sy * W + sx]!;
          }
        }
        out.data[c * H * W + y * W + x] = acc;
      }
    }
  }
  return out;
}

/** Separable convolution with the same 1-D kernel along x then y (reflect borders). */
export function convolveSeparable(img: ImageF32, k1: Float32Array): ImageF32 {
  const { channels: C, height: H, width: W } = img;
  const r = (k1.length - 1) / 2;
  const out = createImage(C, H, W);
  const tmp = new Float32Array(H * W);
  for (let c = 0; c < C; c++) {
    const src = img.data.subarray(c * H * W, (c + 1) * H * W);
    const dst = out.data.subarray(c * H * W, (c + 1) * H * W);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let acc = 0;
        for (let i = -r; i <= r; i++) {
          const sx = x - i;
          acc += k1[i + r]! * src[y * W + (sx >= 0 && sx < W ? sx : reflect(sx, W))]!;
        }
        tmp[y * W + x] = acc;
      }
    }
    for (let i = -r; i <= r; i++) {
      const w = k1[i + r]!;
      for (let y = 0; y < H; y++) {
        const sy = y - i;
        const so = (sy >= 0 && sy < H ? sy : reflect(sy, H)) * W;
        const o = y * W;
        for (let x = 0; x < W; x++) dst[o + x]! += w * tmp[so + x]!;
      }
    }
  }
  return out;
}

/** Gaussian blur of every channel (separable). */
export function gaussianBlur(img: ImageF32, sigma: number): ImageF32 {
  return convolveSeparable(img, gaussianKernel1d(sigma));
}
