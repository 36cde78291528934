/**
 * Two tiny reference models used by the demo and the learning tests: a small CNN
 * (conv-BN-ReLU x2, global pooling, linear head) and a small vision transformer (patch embedding,
 * one pre-norm multi-head self-attention block with MLP, mean pooling, linear head).
 */
import type { Tensor } from '../graph/graph.js';
import * as F from '../graph/ops/index.js';
import { Module, type Parameter } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { Conv } from '../nn/layers/conv.js';
import { BatchNorm, LayerNorm } from '../nn/layers/norm.js';
import { kaimingNormal, truncNormal } from '../nn/init.js';

export class TinyCNN extends Module {
  readonly conv1: Conv;
  readonly bn1: BatchNorm;
  readonly conv2: Conv;
  readonly bn2: BatchNorm;
  readonly head: Linear;
  constructor(inChannels: number, numClasses: number, width = 16) {
    super();
    this.conv1 = this.addChild('conv1', new Conv(inChannels, width, 3, { padding: 1, bias: false, weightInit: kaimingNormal() }));
    this.bn1 = this.addChild('bn1', new BatchNorm(width));
    this.conv2 = this.addChild('conv2', new Conv(width, 2 * width, 3, { padding: 1, stride: 2, bias: false, weightInit: kaimingNormal() }));
    this.bn2 = this.addChild('bn2', new BatchNorm(2 * width));
    this.head = this.addChild('head', new Linear(2 * width, numClasses));
  }
  forward(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    y = F.maxPool(y, { kernel: 2 });
    y = F.relu(this.bn2.call(this.conv2.call(y)));
    return this.head.call(F.globalAvgPool(y)); // [B, numClasses]
  }
}

/** Multi-head self-attention over tokens [B, N, C] (Vaswani et al. 2017, eq. 1). */
export class TinyAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  /** Keep the attention probabilities [B, h, N, N] of the last traced call on `lastAttention`. */
  returnAttention = false;
  lastAttention: Tensor | null = null;
  constructor(
    readonly dim: number,
    readonly heads: number,
  ) {
    super();
    this.qkv = this.addChild('qkv', new Linear(dim, 3 * dim));
    this.proj = this.addChild('proj', new Linear(dim, dim));
  }
  forward(x: Tensor): Tensor {
    const [B, N, C] = x.shape as [number, number, number];
    const h = this.heads;
    const qkv = F.transpose(F.reshape(this.qkv.call(x), [B, N, 3, h, C / h]), [2, 0, 3, 1, 4]); // [3, B, h, N, C/h]
    const [q, k, v] = F.split(qkv, 3, 0).map((t) => F.reshape(t, [B, h, N, C / h])) as [Tensor, Tensor, Tensor];
    const attn = F.softmax(F.mul(F.matmul(q, F.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(C / h)), -1); // [B, h, N, N]
    if (this.returnAttention) this.lastAttention = attn;
    const out = F.reshape(F.transpose(F.matmul(attn, v), [0, 2, 1, 3]), [B, N, C]); // [B, N, C]
    return this.proj.call(out);
  }
}

export class TinyViT extends Module {
  readonly patch: Conv;
  readonly pos: Parameter;
  readonly norm1: LayerNorm;
  readonly attn: TinyAttention;
  readonly norm2: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly norm: LayerNorm;
  readonly head: Linear;
  constructor(inChannels: number, numClasses: number, imageSize: number, patch = 4, dim = 32, heads = 4) {
    super();
    const n = (imageSize / patch) ** 2;
    this.patch = this.addChild('patch', new Conv(inChannels, dim, patch, { stride: patch }));
    this.pos = this.addParam('pos', [1, n, dim], truncNormal(0.02));
    this.norm1 = this.addChild('norm1', new LayerNorm(dim));
    this.attn = this.addChild('attn', new TinyAttention(dim, heads));
    this.norm2 = this.addChild('norm2', new LayerNorm(dim));
    this.fc1 = this.addChild('fc1', new Linear(dim, 2 * dim));
    this.fc2 = this.addChild('fc2', new Linear(2 * dim, dim));
    this.norm = this.addChild('norm', new LayerNorm(dim));
    this.head = this.addChild('head', new Linear(dim, numClasses));
  }
  forward(x: Tensor): Tensor {
    const p = this.patch.call(x); // [B, C, h, w]
    const [B, C] = p.shape as [number, number];
    let t = F.add(F.transpose(F.reshape(p, [B, C, -1]), [0, 2, 1]), this.tensor(this.pos)); // [B, N, C]
    t = F.add(t, this.attn.call(this.norm1.call(t)));
    t = F.add(t, this.fc2.call(F.gelu(this.fc1.call(this.norm2.call(t)))));
    return this.head.call(F.reduceMean(this.norm.call(t), 1)); // [B, numClasses]
  }
}
