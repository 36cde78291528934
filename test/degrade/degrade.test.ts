import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEGRADATIONS, PHYSICAL_ORDER, applyDegradations, Rng, diskKernel, linearMotionKernel, motionKernel, kernelSum, convolve,
  convolveReference, defocusBlur, motionBlur, noise, jpeg, haze, lowLight, rain, transmission, depthMap, lowLightExposure,
  artifactStrength, blockEdgeExcess, defocusDef, REFERENCE_QUALITY, NOISE_SIGMA_RANGE, noiseSeverityOf, gerp, RAIN_MIN_LENGTH,
  type Kernel,
} from '../../src/degrade/index.js';
import { createImage, toLinear, luma, type ImageF32 } from '../../src/image/tensor.js';
import { crop } from '../../src/image/transform.js';
import { deadLeaves } from '../../src/data/synth/dead_leaves.js';
import { ArgumentError } from '../../src/util/errors.js';

const SHARP = deadLeaves(11, { size: 128 });

/** Mean squared Laplacian of the luma: high-frequency energy. */
function hfEnergy(img: ImageF32): number {
  const Y = luma(img);
  const W = Y.width;
  let e = 0;
  let n = 0;
  for (let y = 1; y < Y.height - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      const l = 4 * Y.data[y * W + x]! - Y.data[y * W + x - 1]! - Y.data[y * W + x + 1]! - Y.data[(y - 1) * W + x]! - Y.data[(y + 1) * W + x]!;
      e += l * l;
      n++;
    }
  }
  return e / n;
}

function std(a: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  const m = s / (to - from);
  let v = 0;
  for (let i = from; i < to; i++) v += (a[i]! - m) ** 2;
  return Math.sqrt(v / (to - from));
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

test('Rng: fixed stream, fork independence, normal and Poisson moments', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextU32()));
  assert.notDeepEqual(new Rng(42).fork('x').nextU32(), new Rng(42).fork('y').nextU32());
  const r = new Rng(1);
  const n = Array.from({ length: 20000 }, () => r.normal());
  assert.ok(Math.abs(mean(n)) < 0.03 && Math.abs(std(n) - 1) < 0.03);
  for (const lam of [3, 80]) {
    const p = Array.from({ length: 20000 }, () => r.poisson(lam));
    assert.ok(Math.abs(mean(p) - lam) < 0.05 * lam && Math.abs(std(p) ** 2 - lam) < 0.08 * lam, `lambda ${lam}`);
  }
});

test('Rng.shuffle: a seeded permutation of a copy, the input untouched, each position reachable', () => {
  const items = Array.from({ length: 10 }, (_, i) => i);
  const once = new Rng(7).shuffle(items);
  assert.deepEqual([...once].sort((a, b) => a - b), items);
  assert.deepEqual(items, Array.from({ length: 10 }, (_, i) => i), 'input not modified');
  assert.deepEqual(new Rng(7).shuffle(items), once);
  assert.notDeepEqual(new Rng(8).shuffle(items), once);
  // Over many draws, element 0 lands in every position.
  const r = new Rng(3);
  const seen = new Set(Array.from({ length: 300 }, () => r.shuffle(items).indexOf(0)));
  assert.equal(seen.size, 10);
  assert.deepEqual(new Rng(1).shuffle([]), []);
});

test('kernels are normalised (sum 1) and convolve matches the plain reference', () => {
  const ks: Kernel[] = [diskKernel(1), diskKernel(3.5), diskKernel(12), linearMotionKernel(5, 0), linearMotionKernel(35, 33)];
  for (let s = 0; s < 5; s++) ks.push(motionKernel({ kind: 'shake', length: 5 + 7 * s, angle: 0, anxiety: 0.02 * s, trajectorySeed: s }));
  for (const k of ks) {
    assert.ok(Math.abs(kernelSum(k) - 1) < 1e-6, `sum ${kernelSum(k)}`);
    assert.equal(k.size % 2, 1);
  }
  // Kernel extent follows the requested length.
  assert.ok(linearMotionKernel(35, 0).size >= 35 && linearMotionKernel(35, 0).size <= 39);
  const img = crop(SHARP, { left: 0, top: 0, width: 24, height: 20 });
  for (const k of [diskKernel(2.5), motionKernel({ kind: 'shake', length: 9, angle: 0, anxiety: 0.05, trajectorySeed: 3 })]) {
    const fast = convolve(img, k);
    const ref = convolveReference(img, k);
    for (let i = 0; i < fast.data.length; i++) assert.ok(Math.abs(fast.data[i]! - ref.data[i]!) < 1e-5);
  }
});

test('blur lowers high-frequency energy monotonically with severity', () => {
  const sev = [0, 0.25, 0.5, 0.75, 1];
  for (const [name, fn] of [['defocus', defocusBlur], ['motion', motionBlur]] as const) {
    const e = sev.map((s) => hfEnergy(fn(SHARP, s, new Rng(5), { ...(name === 'defocus' ? { varying: false, subject: null } : { kind: 'linear' }) } as never).image));
    const e0 = hfEnergy(SHARP);
    assert.ok(e[0]! < 0.8 * e0, `${name}: severity 0 still blurs (${e[0]} vs ${e0})`);
    for (let i = 1; i < e.length; i++) assert.ok(e[i]! < e[i - 1]!, `${name}: ${e.join(', ')}`);
  }
});

test('35 px motion kernel and 12 px disk on 256x256: linear-light mean kept, detail removed, same size', () => {
  // (Their speed belongs to the synthesis benchmark in docs/benchmarks.md, not to a timed test.)
  const big = deadLeaves(3, { size: 256 });
  const hf = (im: ImageF32) => {
    let e = 0;
    for (let y = 0; y < im.height; y++) for (let x = 1; x < im.width; x++) e += (im.data[y * im.width + x]! - im.data[y * im.width + x - 1]!) ** 2;
    return e;
  };
  for (const out of [motionBlur(big, 1, new Rng(1), { length: 35 }).image, defocusBlur(big, 1, new Rng(1), { radius: 12, varying: false, subject: null }).image]) {
    assert.deepEqual([out.channels, out.width, out.height], [big.channels, big.width, big.height]);
    // Blur averages light: the mean is kept in linear light (not in sRGB values).
    const [a, b] = [mean(toLinear(out).data), mean(toLinear(big).data)];
    assert.ok(Math.abs(a - b) < 0.01 * b, `linear mean ${a} vs ${b}`);
    assert.ok(hf(out) < 0.2 * hf(big), 'large kernels remove most of the fine detail');
  }
});

test('Gaussian noise: measured sigma matches the requested one', () => {
  const flat = createImage(3, 128, 128, 0.5);
  for (const sigma of [5 / 255, 25 / 255]) {
    const out = noise(flat, 0.5, new Rng(9), { model: 'gaussian', sigma }).image;
    const s = std(out.data);
    assert.ok(Math.abs(s - sigma) < 0.03 * sigma, `sigma ${sigma} measured ${s}`);
  }
  // Severity maps to increasing sigma.
  const s0 = noise(flat, 0, new Rng(1), { model: 'gaussian' }).params.sigma;
  const s1 = noise(flat, 1, new Rng(1), { model: 'gaussian' }).params.sigma;
  assert.ok(s0 < 6 / 255 && s1 > 40 / 255);
});

test('Poisson-Gaussian noise: variance a*y + b in linear light', () => {
  const a = 0.004;
  const b = 0.0004;
  for (const level of [0.3, 0.7]) {
    const flat = createImage(1, 160, 160, level);
    const out = toLinear(noise(flat, 0.5, new Rng(3), { model: 'poisson_gaussian', shot: a, read: b, correlation: 0 }).image);
    const y = toLinear(flat).data[0]!;
    const v = std(out.data) ** 2;
    assert.ok(Math.abs(v - (a * y + b)) < 0.06 * (a * y + b), `level ${level}: var ${v} expected ${a * y + b}`);
  }
  // Camera model: per-channel gains make red and blue noisier than green.
  const grey = createImage(3, 128, 128, 0.5);
  const cam = noise(grey, 0.6, new Rng(4), { model: 'camera' });
  const P = 128 * 128;
  const [r, g, bl] = [0, 1, 2].map((c) => std(cam.image.data, c * P, (c + 1) * P));
  assert.ok(r! > g! && bl! > g!, `${r} ${g} ${bl}`);
});

test('correlated noise: neighbour correlation 2c/(1+2c^2), variance kept', () => {
  const flat = createImage(1, 200, 200, 0.5);
  const white = noise(flat, 0.5, new Rng(5), { model: 'poisson_gaussian', correlation: 0 }).image;
  for (const c of [0.3, 0.6]) {
    const out = noise(flat, 0.5, new Rng(5), { model: 'poisson_gaussian', correlation: c }).image;
    const d = out.data.map((v) => v - 0.5);
    let num = 0;
    let den = 0;
    for (let y = 0; y < 200; y++) for (let x = 0; x < 199; x++) num += d[y * 200 + x]! * d[y * 200 + x + 1]!;
    for (const v of d) den += v * v;
    const rho = num / (den * (199 / 200));
    const want = (2 * c) / (1 + 2 * c * c);
    assert.ok(Math.abs(rho - want) < 0.04, `c ${c}: neighbour correlation ${rho}, expected ${want}`);
    const ratio = std(out.data) / std(white.data);
    assert.ok(Math.abs(ratio - 1) < 0.05, `c ${c}: std ratio ${ratio}`);
  }
  assert.equal(noise(flat, 0.5, new Rng(5), { model: 'gaussian' }).params.correlation, 0);
});

test('coarse noise grain: lag correlation exp(-d^2 / 4 sigma^2), std kept, recorded only when given', () => {
  const flat = createImage(1, 240, 240, 0.5);
  const white = noise(flat, 0.3, new Rng(8), { model: 'gaussian' });
  assert.equal('grain' in white.params, false, 'no grain key unless asked (older manifests unchanged)');
  for (const g of [0.8, 1.5]) {
    const out = noise(flat, 0.3, new Rng(8), { model: 'gaussian', grain: g });
    assert.equal(out.params.grain, g);
    const d = out.image.data.map((v) => v - 0.5);
    const lagCorr = (lag: number) => {
      let num = 0;
      let den = 0;
      for (let y = 0; y < 240; y++) for (let x = 0; x < 240 - lag; x++) num += d[y * 240 + x]! * d[y * 240 + x + lag]!;
      for (const v of d) den += v * v;
      return num / (den * ((240 - lag) / 240));
    };
    for (const lag of [1, 3]) {
      const want = Math.exp(-(lag * lag) / (4 * g * g));
      const got = lagCorr(lag);
      assert.ok(Math.abs(got - want) < 0.05, `grain ${g}, lag ${lag}: correlation ${got}, expected ${want}`);
    }
    const ratio = std(out.image.data) / std(white.image.data);
    assert.ok(Math.abs(ratio - 1) < 0.05, `grain ${g}: std ratio ${ratio}`);
  }
  // Re-applying the recorded parameters gives the same image.
  const once = noise(flat, 0.5, new Rng(3), { model: 'camera', grain: 1.2 });
  assert.deepEqual(noise(flat, 0.5, new Rng(3), once.params).image.data, once.image.data);
  assert.throws(() => noise(flat, 0.5, new Rng(3), { grain: -1 }), /grain/);
  assert.throws(() => noise(flat, 0.5, new Rng(3), { grain: 9 }), /grain/);
});

test('isp noise: the camera model\'s luma strength, demosaic-correlated grain, weaker and blotchy chroma; checked, reproducible', () => {
  const S = 160;
  const P = S * S;
  const grey = createImage(3, S, S, 0.5);
  /** Luma and Cb (B - Y) of the residual from mid grey, [H*W] each. */
  const parts = (img: ImageF32) => {
    const Y = new Float32Array(P);
    const Cb = new Float32Array(P);
    for (let i = 0; i < P; i++) {
      Y[i] = 0.299 * (img.data[i]! - 0.5) + 0.587 * (img.data[P + i]! - 0.5) + 0.114 * (img.data[2 * P + i]! - 0.5);
      Cb[i] = img.data[2 * P + i]! - 0.5 - Y[i]!;
    }
    return { Y, Cb };
  };
  const lagCorr = (d: Float32Array, lag: number) => {
    let num = 0;
    let den = 0;
    for (let y = 0; y < S; y++) for (let x = 0; x < S - lag; x++) num += d[y * S + x]! * d[y * S + x + lag]!;
    for (const v of d) den += v * v;
    return num / (den * ((S - lag) / S));
  };
  const cam = noise(grey, 0.4, new Rng(4), { model: 'camera', correlation: 0 });
  const isp = noise(grey, 0.4, new Rng(4), { model: 'isp', isp: { chroma: 2, luma: 0, sharpen: 0 } });
  // Same severity and stream: the same camera (shot, read, gains); no [c, 1, c] smoothing.
  assert.deepEqual([isp.params.shot, isp.params.read, isp.params.gains], [cam.params.shot, cam.params.read, cam.params.gains]);
  assert.equal(isp.params.correlation, 0);
  const c = parts(cam.image);
  const q = parts(isp.image);
  const lumaRatio = std(q.Y) / std(c.Y);
  assert.ok(lumaRatio > 0.9 && lumaRatio < 1.1, `luma std isp / camera ${lumaRatio}`);
  assert.ok(std(q.Cb) < 0.8 * std(c.Cb), `chroma noise reduced: Cb std ${std(q.Cb)} vs camera ${std(c.Cb)}`);
  assert.ok(lagCorr(q.Cb, 3) > 0.3 && Math.abs(lagCorr(c.Cb, 3)) < 0.05, `Cb lag-3 correlation isp ${lagCorr(q.Cb, 3)}, camera ${lagCorr(c.Cb, 3)}`);
  assert.ok(lagCorr(q.Y, 1) > 0.2 && Math.abs(lagCorr(c.Y, 1)) < 0.05, `luma lag-1 correlation isp ${lagCorr(q.Y, 1)}, camera ${lagCorr(c.Y, 1)}`);
  // Colour-difference demosaicing: red and blue share green's noise (camera model: independent).
  const weakNr = noise(grey, 0.4, new Rng(4), { model: 'isp', isp: { chroma: 0.3, luma: 0, sharpen: 0 } }).image;
  const channelCorr = (img: ImageF32, a: number, b: number) => {
    let num = 0;
    let da = 0;
    let db = 0;
    for (let i = 0; i < P; i++) {
      const x = img.data[a * P + i]! - 0.5;
      const y = img.data[b * P + i]! - 0.5;
      num += x * y;
      da += x * x;
      db += y * y;
    }
    return num / Math.sqrt(da * db);
  };
  assert.ok(channelCorr(weakNr, 0, 1) > 0.3 && channelCorr(weakNr, 2, 1) > 0.3, `isp R-G ${channelCorr(weakNr, 0, 1)}, B-G ${channelCorr(weakNr, 2, 1)}`);
  assert.ok(Math.abs(channelCorr(cam.image, 0, 1)) < 0.05, `camera R-G ${channelCorr(cam.image, 0, 1)}`);
  // Sharpening makes the luma grain finer (less neighbour correlation) at the same strength.
  const sharpened = parts(noise(grey, 0.4, new Rng(4), { model: 'isp', isp: { chroma: 2, luma: 0, sharpen: 1 } }).image);
  assert.ok(lagCorr(sharpened.Y, 1) < lagCorr(q.Y, 1) - 0.05, `sharpened lag-1 ${lagCorr(sharpened.Y, 1)} vs ${lagCorr(q.Y, 1)}`);
  assert.ok(Math.abs(std(sharpened.Y) / std(c.Y) - 1) < 0.1);
  // Processing drawn when not given, in range, recorded; the record reproduces the image.
  const drawn = noise(grey, 0.4, new Rng(5), { model: 'isp' });
  const p = drawn.params.isp!;
  assert.ok(p.chroma >= 0.8 && p.chroma <= 2.5 && p.luma >= 0 && p.luma <= 0.7 && p.sharpen >= 0 && p.sharpen <= 1, JSON.stringify(p));
  assert.deepEqual(noise(grey, 0.4, new Rng(5), drawn.params).image.data, drawn.image.data);
  // The other models never draw or record it (older manifests regenerate unchanged).
  assert.equal('isp' in noise(grey, 0.4, new Rng(5), { model: 'camera' }).params, false);
  assert.throws(() => noise(createImage(1, 32, 32, 0.5), 0.4, new Rng(1), { model: 'isp' }), /noise: expected 3 .*colour filter array.* for image channels but received 1/);
  assert.throws(() => noise(grey, 0.4, new Rng(1), { model: 'isp', grain: 1 }), /noise: .*grain/);
  assert.throws(() => noise(grey, 0.4, new Rng(1), { model: 'camera', isp: { chroma: 1, luma: 0, sharpen: 0 } }), /noise: .*isp/);
  assert.throws(() => noise(grey, 0.4, new Rng(1), { model: 'isp', isp: { chroma: 0, luma: 0, sharpen: 0 } }), /noise: .*params\.isp/);
  assert.throws(() => noise(grey, 0.4, new Rng(1), { model: 'isp', isp: { chroma: '1' as never, luma: 0, sharpen: 0 } }), /noise: .*params\.isp/);
  assert.throws(() => noise(grey, 0.4, new Rng(1), { model: 'isp', isp: { chroma: 1, luma: 0, sharpen: 0, gamma: 2 } as never }), /noise: .*params\.isp/);
  assert.throws(() => noise(grey, 0.4, new Rng(1), { model: 'isp', correlation: 0.5 }), /noise: .*params\.correlation/);
});

/** Mean |difference| across 8x8 block boundaries over mean |difference| inside blocks. */
function blockiness(img: ImageF32): number {
  const Y = luma(img);
  const W = Y.width;
  let edge = 0;
  let ne = 0;
  let inner = 0;
  let ni = 0;
  for (let y = 0; y < Y.height; y++) {
    for (let x = 0; x < W - 1; x++) {
      const d = Math.abs(Y.data[y * W + x + 1]! - Y.data[y * W + x]!);
      if (x % 8 === 7) {
        edge += d;
        ne++;
      } else {
        inner += d;
        ni++;
      }
    }
  }
  return edge / ne / (inner / ni);
}

test('JPEG blockiness rises as quality falls', async () => {
  const smooth = defocusBlur(deadLeaves(4, { size: 128 }), 0.3, new Rng(1), { varying: false, subject: null }).image;
  const b = [];
  for (const quality of [30, 15, 5]) b.push(blockiness((await jpeg(smooth, 0, new Rng(1), { quality, chromaSubsampling: '4:2:0', minRatio: 0 })).image));
  assert.ok(b[0]! > 1.05 && b[1]! > b[0]! && b[2]! > b[1]!, b.join(', '));
  assert.equal((await jpeg(smooth, 1, new Rng(2))).params.quality <= 7, true);
});

test('JPEG label is visible: quality is lowered until the damage is minRatio x that of an ordinary JPEG', async () => {
  const p = { quality: 30, chromaSubsampling: '4:2:0' as const };
  const encode = async (img: ImageF32, quality: number, minRatio: number) => (await jpeg(img, 0, new Rng(1), { ...p, quality, minRatio })).image;
  const strength = async (img: ImageF32, quality: number, minRatio: number) => artifactStrength(img, await encode(img, quality, minRatio));
  // Smooth gradients: quality 30 is ~4x the reference damage; asking for 6x lowers the quality, but not to 5.
  const smooth = createImage(3, 128, 128);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) smooth.data[(c * 128 + y) * 128 + x] = 0.5 + 0.3 * Math.sin(x / 13 + c) * Math.cos(y / 17);
  const ref = await strength(smooth, REFERENCE_QUALITY, 0);
  assert.ok((await strength(smooth, 30, 0)) < 6 * ref);
  const lowered = await strength(smooth, 30, 6);
  assert.ok(lowered >= 6 * ref, `strength ${lowered}, reference ${ref}`);
  assert.notDeepEqual((await encode(smooth, 30, 6)).data, (await encode(smooth, 5, 0)).data);
  // Faint grain never reaches 2.5x the reference damage: the quality goes down to 5.
  const grain = createImage(3, 128, 128);
  const r = new Rng(3);
  for (let i = 0; i < grain.data.length; i++) grain.data[i] = 0.5 + 0.02 * r.normal();
  assert.deepEqual((await encode(grain, 30, 2.5)).data, (await encode(grain, 5, 0)).data);
  // Already visible at the first quality: a single encode, identical to minRatio 0.
  const busy = deadLeaves(7, { size: 128 });
  assert.deepEqual((await encode(busy, 10, 2.5)).data, (await encode(busy, 10, 0)).data);
  assert.ok(Math.abs(blockEdgeExcess(busy)) < 2, `natural image block-edge excess ${blockEdgeExcess(busy)}`);
});

test('shallow depth of field: the subject ellipse stays sharp, the background is blurred', () => {
  const img = deadLeaves(8, { size: 128 });
  const subject = { cx: 0.5, cy: 0.5, rx: 0.25, ry: 0.25, feather: 4 };
  const out = defocusBlur(img, 1, new Rng(1), { radius: 8, varying: false, subject }).image;
  const diff = (x0: number, y0: number, n: number) => {
    let s = 0;
    for (let c = 0; c < 3; c++) for (let y = y0; y < y0 + n; y++) for (let x = x0; x < x0 + n; x++) s += Math.abs(out.data[(c * 128 + y) * 128 + x]! - img.data[(c * 128 + y) * 128 + x]!);
    return s / (3 * n * n);
  };
  assert.ok(diff(56, 56, 16) < 1e-6, `centre changed by ${diff(56, 56, 16)}`);
  assert.ok(diff(0, 0, 16) > 0.01 && diff(112, 112, 16) > 0.01, `corners changed by ${diff(0, 0, 16)}, ${diff(112, 112, 16)}`);
  // Sampled parameters: about a quarter of defocus samples have a subject, all inside the image.
  const subjects = Array.from({ length: 200 }, (_, i) => defocusDef.sample(0.5, new Rng(i), img).subject).filter((s) => s);
  assert.ok(subjects.length > 25 && subjects.length < 75, `${subjects.length} of 200`);
  for (const s of subjects) assert.ok(s!.cx - s!.rx > -0.1 && s!.cx + s!.rx < 1.1);
});

test('haze lowers contrast with depth and with severity', () => {
  const params = { depth: { horizon: 0, tilt: 0, roughness: 0, noiseSeed: 1, near: 0 } };
  const t = transmission(128, 128, { beta: 2, airlight: [0.9, 0.9, 0.9], ...params });
  assert.ok(t[127 * 128]! > t[64 * 128]! && t[64 * 128]! > t[2 * 128]!, 'transmission falls with depth (towards the top)');
  const d = depthMap(128, 128, params.depth);
  assert.ok(d[127 * 128]! < d[0]!);
  const contrast = (img: ImageF32, y0: number): number => std(luma(crop(img, { left: 0, top: y0, width: 128, height: 32 })).data);
  const clean = [contrast(SHARP, 96), contrast(SHARP, 0)];
  let prev = [Infinity, Infinity];
  for (const s of [0, 0.5, 1]) {
    const h = haze(SHARP, s, new Rng(2), params).image;
    const near = contrast(h, 96) / clean[0]!;
    const far = contrast(h, 0) / clean[1]!;
    assert.ok(far < near && near < 1, `severity ${s}: near ${near} far ${far}`);
    assert.ok(far < prev[1]! && near < prev[0]!);
    prev = [near, far];
  }
});

test('rain adds oriented bright streaks; more with severity', () => {
  const dark = createImage(3, 128, 128, 0.2);
  const m = [0, 0.5, 1].map((s) => mean(rain(dark, s, new Rng(3)).image.data) - 0.2);
  assert.ok(m[0]! > 0.002 && m[1]! > m[0]! && m[2]! > m[1]!, m.join(', '));
  // Vertical rain: vertical neighbours correlate far more than horizontal ones.
  const r = rain(dark, 0.5, new Rng(3), { veil: 0, layers: [{ density: 10, length: 30, angle: 90, width: 0.6, brightness: 0.5, seed: 1 }] }).image;
  let dx = 0;
  let dy = 0;
  for (let y = 0; y < 127; y++) for (let x = 0; x < 127; x++) {
    dx += Math.abs(r.data[y * 128 + x + 1]! - r.data[y * 128 + x]!);
    dy += Math.abs(r.data[(y + 1) * 128 + x]! - r.data[y * 128 + x]!);
  }
  assert.ok(dx > 3 * dy, `dx ${dx} dy ${dy}`);
});

test('rain shutter: every streak shorter by the factor (at least RAIN_MIN_LENGTH px), every other draw unchanged, recorded only when given', () => {
  const grey = createImage(3, 96, 96, 0.3);
  for (const seed of [1, 2, 3]) for (const severity of [0.1, 0.6, 1]) {
    const plain = rain(grey, severity, new Rng(seed));
    assert.equal('shutter' in plain.params, false, 'no shutter key unless asked (older manifests unchanged)');
    const fast = rain(grey, severity, new Rng(seed), { shutter: 0.3 });
    assert.equal(fast.params.shutter, 0.3);
    assert.deepEqual({ ...fast.params, shutter: undefined, layers: undefined }, { ...plain.params, shutter: undefined, layers: undefined });
    fast.params.layers.forEach((l, i) => {
      const was = plain.params.layers[i]!;
      assert.deepEqual({ ...l, length: 0 }, { ...was, length: 0 }, 'drops, width, brightness, angle and seed unchanged');
      assert.ok(Math.abs(l.length - Math.max(RAIN_MIN_LENGTH, 0.3 * was.length)) < 1e-3, `${l.length} from ${was.length}`);
    });
  }
  // Shorter streaks of the same drops: less streak energy, and a run of lit pixels along the fall is shorter.
  const dark = createImage(3, 128, 128, 0.1);
  const layer = { density: 4, length: 30, angle: 90, width: 0.5, brightness: 0.5, seed: 9 };
  const long = rain(dark, 0.5, new Rng(1), { veil: 0, layers: [layer] }).image;
  const short = rain(dark, 0.5, new Rng(1), { veil: 0, layers: [{ ...layer, length: 30 * 0.4 }] }).image;
  const lit = (img: typeof long) => img.data.filter((v) => v > 0.15).length;
  assert.ok(lit(short) < 0.6 * lit(long), `${lit(short)} vs ${lit(long)} lit values`);
  assert.throws(() => rain(grey, 0.5, new Rng(1), { shutter: 0 }), /rain: .*shutter/);
  assert.throws(() => rain(grey, 0.5, new Rng(1), { shutter: 1.5 }), /rain: .*shutter/);
});

test('low light darkens with severity and adds photon noise', () => {
  const grey = createImage(3, 96, 96, 0.6);
  const l = [0, 0.5, 1].map((s) => lowLight(grey, s, new Rng(8)));
  const means = l.map((x) => mean(x.image.data));
  assert.ok(means[0]! < 0.6 && means[1]! < means[0]! && means[2]! < means[1]!, means.join(', '));
  // Noise: the output scatters around the noiseless exposure with Poisson variance y / photons.
  const p = l[1]!.params;
  const y = toLinear(lowLightExposure(grey, p)).data[0]!;
  const v = std(toLinear(l[1]!.image).data) ** 2;
  const expected = y / p.photons + p.read ** 2;
  assert.ok(Math.abs(v - expected) < 0.15 * expected, `var ${v} expected ${expected}`);
});

test('every degradation: seeds reproduce bit-identical output, params are complete, severity checked', async () => {
  for (const name of PHYSICAL_ORDER) {
    const a = await applyDegradations(SHARP, [{ name, severity: 0.6 }], new Rng(77));
    const b = await applyDegradations(SHARP, [{ name, severity: 0.6 }], new Rng(77));
    const c = await applyDegradations(SHARP, [{ name, severity: 0.6 }], new Rng(78));
    assert.deepEqual(a.image.data, b.image.data, name);
    // Another seed gives another sample (JPEG is deterministic given its params, which may coincide).
    if (JSON.stringify(a.applied) !== JSON.stringify(c.applied) || name !== 'jpeg') assert.notDeepEqual(a.image.data, c.image.data, name);
    assert.deepEqual(a.applied, b.applied);
    // Re-applying with the recorded params reproduces the image (the manifest is sufficient).
    const again = await applyDegradations(SHARP, [{ name, severity: 0.6, params: a.applied[0]!.params }], new Rng(77));
    assert.deepEqual(again.image.data, a.image.data, `${name} from recorded params`);
    assert.deepEqual(JSON.parse(JSON.stringify(a.applied[0]!.params)), a.applied[0]!.params);
    assert.ok(a.image.data.every((v) => v >= 0 && v <= 1 && Number.isFinite(v)), name);
  }
  await assert.rejects(applyDegradations(SHARP, [{ name: 'noise', severity: 1.5 }], new Rng(1)), ArgumentError);
  await assert.rejects(applyDegradations(SHARP, [{ name: 'fog' as never, severity: 0.5 }], new Rng(1)), ArgumentError);
  assert.throws(() => noise(SHARP, 0.5, new Rng(1), { sigmaa: 1 } as never), ArgumentError);
});

test('combinations run in physical order whatever the recipe order', async () => {
  const recipe = [{ name: 'jpeg', severity: 0.5 }, { name: 'haze', severity: 0.5 }, { name: 'motion_blur', severity: 0.5 }, { name: 'low_light', severity: 0.3 }] as const;
  const a = await applyDegradations(SHARP, recipe, new Rng(5));
  const b = await applyDegradations(SHARP, [...recipe].reverse(), new Rng(5));
  assert.deepEqual(a.applied.map((x) => x.name), ['haze', 'low_light', 'motion_blur', 'jpeg']);
  assert.deepEqual(a.image.data, b.image.data);
  // Forked streams: adding a label leaves the other labels' parameters unchanged.
  const single = await applyDegradations(SHARP, [{ name: 'motion_blur', severity: 0.5 }], new Rng(5));
  assert.deepEqual(single.applied[0]!.params, a.applied.find((x) => x.name === 'motion_blur')!.params);
  assert.equal(Object.keys(DEGRADATIONS).length, 7);
  assert.equal((await applyDegradations(SHARP, [], new Rng(1))).image, SHARP);
});

test('noise: noiseSeverityOf inverts the severity -> std map (unjittered) and clamps outside its range', () => {
  const [lo, hi] = NOISE_SIGMA_RANGE;
  for (const s of [0, 0.1, 0.37, 0.8, 1]) assert.ok(Math.abs(noiseSeverityOf(gerp(lo, hi, s)) - s) < 1e-12, `severity ${s}`);
  assert.equal(noiseSeverityOf(lo / 2), 0);
  assert.equal(noiseSeverityOf(hi * 2), 1);
  // Drawn stds sit within the +-10% jitter of the map at the same severity.
  for (const s of [0, 0.5, 1]) {
    const p = noise(createImage(3, 8, 8, 0.5), s, new Rng(3)).params;
    assert.ok(p.sigma >= 0.9 * gerp(lo, hi, s) - 1e-7 && p.sigma <= 1.1 * gerp(lo, hi, s) + 1e-7, `severity ${s}: ${p.sigma}`);
  }
});
