/**
 * Spectral normalization (Miyato et al. 2018, "Spectral Normalization for Generative Adversarial
 * Networks", https://arxiv.org/abs/1802.05957), as torch.nn.utils.spectral_norm.
 *
 * Equation: W_SN = W / sigma(W), sigma(W) = u^T W v, with u, v estimated by power iteration on the
 * weight reshaped to a matrix W [out, in * k...]:
 *   v <- normalize(W^T u),  u <- normalize(W v)      (nPowerIterations times, train mode only)
 * u and v are buffers (`weight_u`, `weight_v`, PyTorch names) updated by each training step through
 * `setBuf`; in eval mode the stored u, v are used unchanged. As in PyTorch the power iteration runs
 * without gradient (u and v are constants for autodiff) while the gradient flows through sigma.
 *
 * State-dict names match PyTorch after `spectral_norm(layer)`: `weight_orig`, `bias`, `weight_u`,
 * `weight_v`. Caveat: PyTorch draws u, v at random at wrap time; here u, v start from seeded
 * random unit vectors (a different draw, same fixed point).
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module, type Buffer, type Parameter } from '../nn/module.js';
import { biasDefault, kaimingUniformDefault, normal, type Initializer } from '../nn/init.js';
import type { ConvLayerOptions } from '../nn/layers/conv.js';
import { checkInt } from '../util/errors.js';

export interface SpectralNormOptions {
  /** Power iterations per training step (default 1). */
  nPowerIterations?: number;
  /** Epsilon in the vector normalisation max(||x||, eps) (default 1e-12). */
  eps?: number;
}

/** A random unit vector (PyTorch: normalize(randn(n))). */
const unitNormal: Initializer = (shape, rng) => {
  const a = normal(1)(shape, rng);
  const n = Math.sqrt(a.reduce((s, v) => s + v * v, 0)) || 1;
  return a.map((v) => v / n);
};

/** x / max(||x||, eps) for a vector [n]. */
function normalize(x: Tensor, eps: number): Tensor {
  return F.div(x, F.maximum(F.sqrt(F.reduceSum(F.mul(x, x))), eps));
}

/**
 * Base of the spectrally normalised layers: owns `weight_orig`, `weight_u`, `weight_v` and returns
 * the normalised weight from `normalizedWeight()` (which records the u, v updates in train mode).
 */
export abstract class SpectralNormBase extends Module {
  readonly weightOrig: Parameter;
  readonly weightU: Buffer;
  readonly weightV: Buffer;
  readonly nPowerIterations: number;
  readonly eps: number;
  constructor(weightShape: readonly number[], weightInit: Initializer, opts: SpectralNormOptions = {}) {
    super();
    this.nPowerIterations = checkInt('SpectralNorm', 'nPowerIterations', opts.nPowerIterations ?? 1, 1);
    this.eps = opts.eps ?? 1e-12;
    const rows = weightShape[0]!;
    const cols = weightShape.slice(1).reduce((p, d) => p * d, 1);
    this.weightOrig = this.addParam('weight_orig', weightShape, weightInit);
    this.weightU = this.addBuffer('weight_u', [rows], unitNormal);
    this.weightV = this.addBuffer('weight_v', [cols], unitNormal);
  }

  /** W / sigma with the shape of `weight_orig`. */
  protected normalizedWeight(): Tensor {
    const w = this.tensor(this.weightOrig);
    const rows = w.shape[0]!;
    const wMat = F.reshape(w, [rows, -1]); // [out, in*k]
    let u = this.tensor(this.weightU); // [out]
    let v = this.tensor(this.weightV); // [in*k]
    if (this.training) {
      const wc = F.stopGradient(wMat);
      for (let i = 0; i < this.nPowerIterations; i++) {
        v = normalize(F.reshape(F.matmul(F.reshape(u, [1, rows]), wc), [-1]), this.eps); // W^T u: [in*k]
        u = normalize(F.reshape(F.matmul(wc, F.reshape(v, [-1, 1])), [-1]), this.eps); // W v: [out]
      }
      this.setBuf(this.weightU, u);
      this.setBuf(this.weightV, v);
    }
    // sigma = u^T W v, gradient through W only.
    const sigma = F.reshape(F.matmul(F.matmul(F.reshape(u, [1, rows]), wMat), F.reshape(v, [-1, 1])), []); // []
    return F.div(w, sigma);
  }
}

/** Spectrally normalised convolution (1-3 spatial dims), PyTorch `spectral_norm(nn.ConvNd(...))`. */
export class SNConv extends SpectralNormBase {
  readonly bias: Parameter | null;
  private readonly convOpts: F.ConvOptions;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number,
    opts: ConvLayerOptions & SpectralNormOptions = {},
  ) {
    const n = opts.dims ?? 2;
    const groups = opts.groups ?? 1;
    const kernel = new Array<number>(n).fill(kernelSize);
    super([outChannels, inChannels / groups, ...kernel], opts.weightInit ?? kaimingUniformDefault, opts);
    const fanIn = (inChannels / groups) * kernelSize ** n;
    this.bias = opts.bias === false ? null : this.addParam('bias', [outChannels], opts.biasInit ?? biasDefault(fanIn));
    const padding = opts.padding === 'same' ? (kernelSize - 1) / 2 : (opts.padding ?? 0);
    this.convOpts = { stride: opts.stride ?? 1, padding, dilation: opts.dilation ?? 1, groups };
  }
  forward(x: Tensor): Tensor {
    return F.conv(x, this.normalizedWeight(), this.bias && this.tensor(this.bias), this.convOpts);
  }
}

/** Spectrally normalised linear layer, PyTorch `spectral_norm(nn.Linear(...))`. */
export class SNLinear extends SpectralNormBase {
  readonly bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; weightInit?: Initializer } & SpectralNormOptions = {},
  ) {
    super([outFeatures, inFeatures], opts.weightInit ?? kaimingUniformDefault, opts);
    this.bias = opts.bias === false ? null : this.addParam('bias', [outFeatures], biasDefault(inFeatures));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.normalizedWeight(), this.bias && this.tensor(this.bias));
  }
}

/**
 * Spectrally normalised embedding table [num, dim] (PyTorch `spectral_norm(nn.Embedding(...))`,
 * used by the projection discriminator): returns rows at int64 `ids`.
 */
export class SNEmbedding extends SpectralNormBase {
  constructor(
    readonly num: number,
    readonly dim: number,
    opts: { weightInit?: Initializer } & SpectralNormOptions = {},
  ) {
    super([num, dim], opts.weightInit ?? normal(1), opts);
  }
  forward(ids: Tensor): Tensor {
    return F.gather(this.normalizedWeight(), ids, 0); // [..., dim]
  }
}
