/**
 * `attnvision attention`: renders what a model's attention modules look at, overlaid on an image.
 */
import type { Command } from '../command.js';
import { parseArgs, flagNumber, flagString, parseDecimal } from '../command.js';
import { Graph, type Tensor } from '../../graph/graph.js';
import { ConstantBinding } from '../../nn/binding.js';
import { withBinding } from '../../nn/module.js';
import { CompiledGraph } from '../../runtime/session.js';
import { createModel, defaultForward } from '../../models/index.js';
import { readCheckpoint } from '../../io/checkpoint.js';
import { setAttentionCapture, collectAttention } from '../../attention/capture.js';
import { mapsFromAttention, renderAttentionPng, rollout, gridFor, windowQueryMap, windowRollout, normaliseMap, type AttentionMap, type WindowLayer } from '../../attention/render.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../data/loader/transform.js';
import { ArgumentError } from '../../util/errors.js';
import { DECODE_TIMEOUT_SECONDS, openImagePipeline } from '../../image/io.js';

export const attentionCommand: Command = {
  name: 'attention',
  summary: 'render attention maps (per query, rollout) of a model over an image as PNG',
  usage: `Usage: attnvision attention <model> <image> --out attn.png [--checkpoint FILE | --weights FILE] [--size PX] [--query X,Y] [--classes N]

Runs the model on the image (resized to PX x PX) with attention capture on, and renders one panel per
attention module: the attention of the query position (fractions of width/height, default 0.5,0.5)
over the image, pooling weights for GC blocks, and attention rollout across global-attention layers.
Swin's window attention is drawn on the whole token grid: the query's (shifted) window, zero elsewhere.
Its rollout runs through every window layer and, between stages, back through patch merging (each
coarse token to its 2 x 2 fine tokens), onto the first stage's grid: once from all output tokens
(what the pooled prediction draws on) and once from the query's token in the last stage.
  --checkpoint FILE   a trainer checkpoint (model, classes and size from its metadata)
  --weights FILE      safetensors weights for <model>`,
  async run(argv) {
    const a = parseArgs(argv, { values: ['out', 'checkpoint', 'weights', 'size', 'query', 'classes'], positional: 2 }, 'attention');
    const [name, image] = a.positional;
    const out = flagString(a, 'out');
    if (!name || !image || !out) throw new ArgumentError('attention: expected <model> <image> --out file.png');
    if (!/\.png$/i.test(out)) throw new ArgumentError(`attention: --out ${out}: the maps are written as PNG; give a .png file name`);
    const query = (flagString(a, 'query', '0.5,0.5')!).split(',').map(parseDecimal) as [number, number];
    if (query.length !== 2 || query.some((v) => !(v >= 0 && v <= 1))) throw new ArgumentError(`attention: expected X,Y in [0, 1] for --query but received "${flagString(a, 'query')}"`);
    const ckFile = flagString(a, 'checkpoint');
    const ck = ckFile ? await readCheckpoint(ckFile) : null;
    if (ck && !ck.metadata.model) throw new ArgumentError(`attention: ${ckFile} is not a trainer checkpoint (no model metadata); use --weights`);
    if (ck && ck.metadata.model !== name) throw new ArgumentError(`attention: ${ckFile} holds a ${ck.metadata.model}, not a ${name}`);
    for (const f of ['size', 'classes', 'weights']) if (ck && a.flags.has(f)) throw new ArgumentError(`attention: --${f} cannot be combined with --checkpoint (which sets it)`);
    const size = ck ? Number(ck.metadata.imageSize) : flagNumber(a, 'size', 224, 'attention', { int: true, min: 8 });
    const h = await createModel(ck?.metadata.model ?? name, {
      numClasses: ck ? Number(ck.metadata.numOutputs) : a.flags.has('classes') ? flagNumber(a, 'classes', 1000, 'attention', { int: true, min: 1 }) : undefined,
      inputSize: [3, size, size],
      weights: flagString(a, 'weights'),
    });
    if (ck) h.state.loadStateDict(ck.entries, { source: ckFile });
    const modules = setAttentionCapture(h.model, true);
    if (!modules.length) throw new ArgumentError(`attention: ${h.info.name} has no attention modules that expose their weights`);
    h.model.eval();
    const graph = new Graph();
    const captured = graph.run(() => {
      const x = graph.input('input', [1, 3, size, size]);
      withBinding(new ConstantBinding(graph, h.state), () => defaultForward(h.info, h.model, { input: x }));
      return collectAttention(h.model);
    });
    if (!captured.length) throw new ArgumentError(`attention: no attention was recorded by ${h.info.name}`);
    const run = await CompiledGraph.compile(graph, captured.map((c) => c.tensor as Tensor), { outputNames: captured.map((_, i) => `a${i}`) });
    const { img } = await openImagePipeline(image, { failOn: 'error' });
    const raw = await img.resize(size, size, { fit: 'fill' }).flatten({ background: '#ffffff' }).toColourspace('srgb').timeout({ seconds: DECODE_TIMEOUT_SECONDS }).raw().toBuffer();
    const ch = raw.length / (size * size);
    const x = new Float32Array(3 * size * size);
    for (let c = 0; c < 3; c++) for (let i = 0; i < size * size; i++) x[c * size * size + i] = (raw[i * ch + (ch === 1 ? 0 : c)]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
    const res = await run.run({ input: x });
    const aspect = 1; // the model saw a square resize; maps are stretched back over the image
    const maps: AttentionMap[] = [];
    const square = new Map<number, Float32Array[]>();
    const windowLayers: WindowLayer[] = [];
    captured.forEach((c, i) => {
      // Window attention: one matrix per window, placed on the grid; rolled out below across stages.
      if (c.windows) {
        windowLayers.push({ data: res[`a${i}`]!.data as Float32Array, shape: c.tensor.shape, layout: c.windows });
        return void maps.push(windowQueryMap(c.path, res[`a${i}`]!.data as Float32Array, c.tensor.shape, c.windows, query));
      }
      const r = mapsFromAttention(c.path, res[`a${i}`]!.data as Float32Array, c.tensor.shape, aspect, query);
      maps.push(...r.maps);
      if (r.matrix) square.set(r.matrix.n, [...(square.get(r.matrix.n) ?? []), r.matrix.a]);
    });
    for (const [n, mats] of square) {
      if (mats.length < 2) continue;
      const g = gridFor(n, aspect)!;
      const R = rollout(mats, n);
      const mean = new Float32Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mean[j]! += R[i * n + j]! / n;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of mean) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      maps.push({ title: `rollout over ${mats.length} layers (${n} tokens)`, values: mean.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0)), rows: g[0], cols: g[1] });
    }
    if (windowLayers.length >= 2) try {
      const stages = new Set(windowLayers.map((l) => `${l.layout.height}x${l.layout.width}`)).size;
      const span = `${windowLayers.length} layers/${stages} stage${stages > 1 ? 's' : ''}`;
      const all = windowRollout(windowLayers);
      maps.push({ title: `rollout ${span}: all tokens`, values: normaliseMap(all.values), rows: all.rows, cols: all.cols });
      const { height: H, width: W } = windowLayers[windowLayers.length - 1]!.layout;
      const u = new Float32Array(H * W);
      u[Math.min(H - 1, Math.floor(query[1] * H)) * W + Math.min(W - 1, Math.floor(query[0] * W))] = 1;
      const one = windowRollout(windowLayers, u);
      maps.push({ title: `rollout ${span}: query ${Math.round(query[0] * 100)}%,${Math.round(query[1] * 100)}%`, values: normaliseMap(one.values), rows: one.rows, cols: one.cols });
    } catch (e) {
      // A layout the rollout does not model (e.g. a grid that does not merge 2x2): keep the per-layer maps.
      console.error(`attention: warning: no rollout panels: ${(e as Error).message}`);
    }
    await renderAttentionPng(image, maps, out);
    console.log(`wrote ${out}: ${maps.length} maps from ${captured.length} attention modules (${captured.map((c) => c.path).join(', ')})`);
    return 0;
  },
};
