/**
 * Non-local block (Wang et al. 2018, "Non-local Neural Networks", https://arxiv.org/abs/1711.07971).
 *
 * Equation (eq. 1, 6): y_i = 1/C(x) sum_j f(x_i, x_j) g(x_j),  z_i = BN(W y_i) + x_i, over all
 * positions of [B, C, H, W] or spacetime [B, C, T, H, W]; g, theta, phi, W are 1x1(x1) convs with a
 * bottleneck of C/2 channels. Pairwise functions f (sec. 3.2):
 *   - 'embedded_gaussian': softmax_j(theta(x_i)^T phi(x_j))     (default; the self-attention form)
 *   - 'gaussian':          softmax_j(x_i^T x_j)                  (no theta / phi)
 *   - 'dot_product':       theta(x_i)^T phi(x_j) / N_j
 *   - 'concatenation':     ReLU(w_f^T [theta(x_i), phi(x_j)]) / N_j
 * `subSample` max-pools phi and g (2x2 in space; [1, 2, 2] for spacetime, as the paper's video
 * models), giving N_j = N / 4. W is followed by BN whose scale starts at 0, so a new block is the
 * identity (sec. 4.1). Caveats: the concatenation score is computed as w_a^T theta_i + w_b^T phi_j
 * (w_f split in two), which equals the paper's form without building the [N, N, C] tensor.
 *
 * Attention output: with `returnAttention`, the pairwise weights f/C [B, N, N_j] of the last traced
 * call are kept on `lastAttention`.
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module, type Parameter } from '../nn/module.js';
import { Conv } from '../nn/layers/conv.js';
import { BatchNorm } from '../nn/layers/norm.js';
import { kaimingUniformDefault } from '../nn/init.js';
import { checkInt, invalidArg } from '../util/errors.js';

export type NonLocalMode = 'embedded_gaussian' | 'gaussian' | 'dot_product' | 'concatenation';
const MODES: readonly NonLocalMode[] = ['embedded_gaussian', 'gaussian', 'dot_product', 'concatenation'];

export interface NonLocalOptions {
  /** Bottleneck ratio: inter channels = channels / rdRatio (default 2, the paper's C/2). */
  rdRatio?: number;
  /** Inter channels, overriding rdRatio (default channels / 2). */
  rdChannels?: number;
  /** Pairwise function (default 'embedded_gaussian'). */
  mode?: NonLocalMode;
  /** Max-pool phi and g by 2 in space (default false). */
  subSample?: boolean;
  /** Spatial dims: 2 for [B, C, H, W], 3 for spacetime [B, C, T, H, W] (default 2). */
  dims?: 2 | 3;
  /** Start the BN after W at scale 0, making the block the identity (default true). */
  zeroInit?: boolean;
  /** Keep the pairwise weights of the last call on `lastAttention` (default false). */
  returnAttention?: boolean;
}

/** The concatenation pairwise function's w_f [1, 2 * inter] (ReLU(w_f^T [theta_i, phi_j])). */
class ConcatProject extends Module {
  readonly weight: Parameter;
  constructor(readonly inter: number) {
    super();
    this.weight = this.addParam('weight', [1, 2 * inter, 1], kaimingUniformDefault);
  }
  /** theta [B, N, c], phi [B, c, M] -> ReLU scores [B, N, M]. */
  forward(theta: Tensor, phi: Tensor): Tensor {
    const w = F.reshape(this.tensor(this.weight), [2 * this.inter]);
    const [wa, wb] = F.split(w, [this.inter, this.inter], 0) as [Tensor, Tensor];
    const a = F.matmul(theta, F.reshape(wa, [this.inter, 1])); // [B, N, 1]
    const b = F.matmul(F.reshape(wb, [1, this.inter]), phi); // [B, 1, M]
    return F.relu(F.add(a, b)); // [B, N, M]
  }
}

export class NonLocal extends Module {
  readonly inter: number;
  readonly mode: NonLocalMode;
  readonly subSample: boolean;
  readonly dims: 2 | 3;
  readonly g: Conv;
  readonly theta: Conv | null;
  readonly phi: Conv | null;
  readonly concatProject: ConcatProject | null;
  readonly convOut: Conv;
  readonly bn: BatchNorm;
  readonly returnAttention: boolean;
  /** Pairwise weights [B, N, N_j] of the last traced call (only with returnAttention). */
  lastAttention: Tensor | null = null;
  constructor(
    readonly channels: number,
    opts: NonLocalOptions = {},
  ) {
    super();
    checkInt('NonLocal', 'channels', channels, 1);
    this.inter = opts.rdChannels ?? Math.max(1, Math.floor(channels / (opts.rdRatio ?? 2)));
    checkInt('NonLocal', 'rdChannels', this.inter, 1);
    this.mode = opts.mode ?? 'embedded_gaussian';
    if (!MODES.includes(this.mode)) invalidArg('NonLocal', 'mode', MODES.map((m) => `'${m}'`).join(' | '), this.mode);
    this.subSample = opts.subSample ?? false;
    this.dims = opts.dims ?? 2;
    if (this.dims !== 2 && this.dims !== 3) invalidArg('NonLocal', 'dims', '2 or 3', this.dims);
    const conv = (i: number, o: number) => new Conv(i, o, 1, { dims: this.dims });
    this.g = this.addChild('g', conv(channels, this.inter));
    const embed = this.mode !== 'gaussian';
    this.theta = embed ? this.addChild('theta', conv(channels, this.inter)) : null;
    this.phi = embed ? this.addChild('phi', conv(channels, this.inter)) : null;
    this.concatProject = this.mode === 'concatenation' ? this.addChild('concat_project', new ConcatProject(this.inter)) : null;
    this.convOut = this.addChild('conv_out', conv(this.inter, channels));
    this.bn = this.addChild('bn', new BatchNorm(channels, { zeroInit: opts.zeroInit ?? true }));
    this.returnAttention = opts.returnAttention ?? false;
  }

  private pool(t: Tensor): Tensor {
    if (!this.subSample) return t;
    return F.maxPool(t, { kernel: this.dims === 2 ? [2, 2] : [1, 2, 2] });
  }

  forward(x: Tensor): Tensor {
    const [B, , ...S] = x.shape as number[];
    if (x.rank !== this.dims + 2) invalidArg(this.path || 'NonLocal', 'input', `rank ${this.dims + 2} [B, C, ...${this.dims} spatial dims]`, x.shape);
    const flat = (t: Tensor) => F.reshape(t, [B!, t.shape[1]!, -1]); // [B, c, N]
    const g = flat(this.pool(this.g.call(x))); // [B, c, M]
    let thetaT: Tensor;
    let phi: Tensor;
    if (this.theta && this.phi) {
      thetaT = F.transpose(flat(this.theta.call(x)), [0, 2, 1]); // [B, N, c]
      phi = flat(this.pool(this.phi.call(x))); // [B, c, M]
    } else {
      thetaT = F.transpose(flat(x), [0, 2, 1]); // [B, N, C]
      phi = flat(this.pool(x)); // [B, C, M]
    }
    const M = phi.shape[2]!;
    let f: Tensor; // [B, N, M]
    if (this.mode === 'embedded_gaussian' || this.mode === 'gaussian') f = F.softmax(F.matmul(thetaT, phi), -1);
    else if (this.mode === 'dot_product') f = F.div(F.matmul(thetaT, phi), M);
    else f = F.div(this.concatProject!.call(thetaT, phi), M);
    if (this.returnAttention) this.lastAttention = f;
    const y = F.matmul(f, F.transpose(g, [0, 2, 1])); // [B, N, c]
    const yImg = F.reshape(F.transpose(y, [0, 2, 1]), [B!, this.inter, ...S]); // [B, c, *S]
    return F.add(x, this.bn.call(this.convOut.call(yImg)));
  }
}
