/**
 * `attnvision train` and `attnvision eval`: train any zoo model on an image folder or a manifest
 * dataset; evaluate a checkpoint and write an HTML report with curves and a confusion matrix.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command, ParsedArgs } from '../command.js';
import { parseArgs, flagList, flagNumber, flagString, parseDecimal } from '../command.js';
import { imageFolder, manifestDataset, refuseUnfinishedSynth, type Dataset } from '../../data/dataset.js';
import { Trainer, evaluateLoader, unfinishedRunNote, type TrainConfig, type EpochLog } from '../../train/trainer.js';
import { renderReport } from '../../train/report.js';
import { readCheckpoint } from '../../io/checkpoint.js';
import { readSafetensorsMetadata } from '../../io/safetensors.js';
import { isRegularFile, writeFileAtomic } from '../../util/fs.js';
import { createModel, defaultForward, modelInfo } from '../../models/index.js';
import { Predictor } from '../../train/infer.js';
import { DataLoader } from '../../data/loader/loader.js';
import { ArgumentError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import { rotationRobustness, pgdAttack, type RotationResult } from '../../train/robustness.js';
import type { MultiLabelMetrics } from '../../train/metrics.js';
import { Inspector } from '../../quality/inspector.js';
import { evaluateInspectorOnDataset, type SeverityBand } from '../../quality/dataset_eval.js';
import { SCAN_THRESHOLDS } from '../../quality/calibrate.js';

/** `loadData` found no such split (the caller decides whether that is an error). */
export class MissingSplitError extends ArgumentError {}

/**
 * Loads `--data`: a manifest.jsonl (with --labels), a folder holding one (DIR/manifest.jsonl, with
 * --labels), or a folder with train/ val/ test/ sub-folders of class folders. A folder of class
 * folders alone is taken whole for any split (`eval --data DIR`), except with `flatIsTrainOnly`
 * (training: it is the train split and never again its own validation split).
 */
export async function loadData(spec: string, split: string, labels: string[] | undefined, opts: { strictLabels?: boolean; flatIsTrainOnly?: boolean } = {}): Promise<Dataset> {
  if (spec.endsWith('.jsonl')) {
    if (!labels) throw new ArgumentError(`--data ${spec}: a manifest dataset needs --labels a,b,c`);
    return manifestDataset(spec, labels, split, opts).catch((e: unknown) => {
      throw e instanceof Error && /no samples in split/.test(e.message) ? new MissingSplitError(e.message) : e;
    });
  }
  const stat = await fs.stat(spec).catch(() => null);
  if (!stat?.isDirectory()) throw new ArgumentError(`--data ${spec}: not a folder or a .jsonl manifest`);
  // A synthesizer output folder: the same test as resolveManifest's (calibrate, package-inspector).
  const manifest = path.join(spec, 'manifest.jsonl');
  if (await isRegularFile(manifest)) return loadData(manifest, split, labels, opts);
  await refuseUnfinishedSynth(spec);
  const sub = path.join(spec, split);
  if (await fs.stat(sub).catch(() => null)) return imageFolder(sub, labels);
  let hasSplits = false;
  for (const s of ['train', 'val', 'test']) if (await fs.stat(path.join(spec, s)).then(() => true, () => false)) hasSplits = true;
  if (!hasSplits && (split === 'train' || !opts.flatIsTrainOnly)) return imageFolder(spec, labels);
  throw new MissingSplitError(`--data ${spec}: no ${split}/ folder${hasSplits ? '' : ` (a folder of class folders is the train split only; put validation images in ${path.join(spec, 'val')}/<class>/)`}`);
}

/** Every image a dataset names must exist: found before training, not as blank images mid-run. */
async function checkFilesExist(ds: Dataset): Promise<void> {
  const missing: string[] = [];
  for (const s of ds.samples) if (!(await isRegularFile(s.file))) missing.push(s.file);
  if (missing.length) throw new ArgumentError(`${ds.root}: ${missing.length} of the ${ds.samples.length} images do not exist (first: ${missing.slice(0, 3).join(', ')})`);
}

const trainUsage = `Usage: attnvision train --data DIR|manifest.jsonl --model NAME --out DIR [options]

Data: an image folder (DIR/train/<class>/*, DIR/val/<class>/*; a folder of class folders alone is
training data without validation), or a manifest dataset (attnvision synth output, or its folder;
give --labels) with train/val splits. Every class needs training images (single-label: at least 2
classes; multi-label: each label on some image); every image a manifest names must exist.
  --labels a,b,...     label order for manifest data (multi-label, sigmoid BCE)
  --model NAME         zoo model (attnvision models)
  --weights FILE       initial weights: a checkpoint (.safetensors) or an exported model (.onnx, e.g.
                       models/inspector.onnx); fine-tuning; classifier re-initialised if sizes differ
  --epochs N [10]  --batch N [32]  --size PX [224]  --workers N [cores-1]
  --opt sgd|adamw [adamw]  --lr X [1e-3]  --wd X [0.05; AdamW: lr x wd < 1]  --momentum X [0.9]
  --warmup EPOCHS [1]  --smoothing X [0.1, single-label]  --clip X [5; 0: no clipping]
  --crop crop|resized-crop [crop: random crop at native scale]
  --severity-head      also regress a severity per label (manifest data)
  --pair-weight W      weight W on the BCE term of each present label of images with two or more
                       labels (manifest data; default 1), so a problem hidden by its partner costs
                       more when missed
  --pair-weight-labels a,b,...  with --pair-weight: weight only these labels' terms
  --negative-weight W  weight W on the BCE term of each absent label of images with at least one
                       label (manifest data; default 1: hard negatives), so a label raised by
                       another problem costs more when falsely called
  --negative-weight-labels a,b,...  with --negative-weight: weight only these labels' terms
  --negative-weight-partners a,b,...  with --negative-weight: only on images where one of these
                       labels is present (e.g. the blur labels for both: the other blur is the
                       hard negative of a blurred image)
  --ema D              keep an exponential moving average of the weights with decay D (e.g. 0.999;
                       warm-up min(D, (1+t)/(10+t))); validation scores it and best.safetensors holds
                       it; log.csv's valMetricRaw scores the raw weights
  --seed S [0]  --resume (continue DIR/last.safetensors exactly, with the same flags and data; starts
                       a new run when there is none; a damaged one is an error; other data is
                       refused; another --epochs is allowed, and said to stretch the learning-rate
                       schedule). Without --resume, a DIR that already holds a run is refused
                       unless --overwrite (which deletes that run's checkpoints, logs and report
                       first).
  --cache-batches      replay the first epoch's decoded batches from memory in later epochs (to
                       measure loader overhead: compare the epoch times in log.csv with a normal run)
Writes DIR/last.safetensors (every epoch), DIR/log.jsonl, DIR/log.csv and, with a validation split,
DIR/best.safetensors and DIR/report.html.`;

function trainConfig(a: ParsedArgs): TrainConfig {
  const w = 'train';
  const model = flagString(a, 'model');
  if (!model) throw new ArgumentError('train: --model is required (see attnvision models)');
  modelInfo(model);
  const opt = flagString(a, 'opt', 'adamw')!;
  if (opt !== 'sgd' && opt !== 'adamw') throw new ArgumentError(`train: expected sgd or adamw for --opt but received "${opt}"`);
  const crop = flagString(a, 'crop', 'crop')!;
  if (crop !== 'crop' && crop !== 'resized-crop') throw new ArgumentError(`train: expected crop or resized-crop for --crop but received "${crop}"`);
  const pairWeightLabels = flagList(a, 'pair-weight-labels');
  const negativeWeightLabels = flagList(a, 'negative-weight-labels');
  const negativeWeightPartners = flagList(a, 'negative-weight-partners');
  return {
    model,
    weights: flagString(a, 'weights'),
    epochs: flagNumber(a, 'epochs', 10, w, { int: true, min: 1 }),
    batchSize: flagNumber(a, 'batch', 32, w, { int: true, min: 1 }),
    imageSize: flagNumber(a, 'size', 224, w, { int: true, min: 8 }),
    optimizer: opt,
    lr: flagNumber(a, 'lr', 1e-3, w, { min: 0 }),
    weightDecay: flagNumber(a, 'wd', 0.05, w, { min: 0 }),
    momentum: flagNumber(a, 'momentum', 0.9, w, { min: 0, max: 1 }),
    warmupEpochs: flagNumber(a, 'warmup', 1, w, { min: 0 }),
    labelSmoothing: flagNumber(a, 'smoothing', 0.1, w, { min: 0, max: 1 }),
    clipNorm: flagNumber(a, 'clip', 5, w, { min: 0 }),
    seed: flagNumber(a, 'seed', 0, w, { int: true }),
    severityHead: a.flags.has('severity-head'),
    cropMode: crop,
    workers: a.flags.has('workers') ? flagNumber(a, 'workers', 1, w, { int: true, min: 1 }) : undefined,
    ...(a.flags.has('cache-batches') ? { cacheBatches: true } : {}),
    ...(a.flags.has('pair-weight') ? { pairWeight: flagNumber(a, 'pair-weight', 1, w, { min: 0 }) } : {}),
    ...(pairWeightLabels ? { pairWeightLabels } : {}),
    ...(a.flags.has('negative-weight') ? { negativeWeight: flagNumber(a, 'negative-weight', 1, w, { min: 0 }) } : {}),
    ...(negativeWeightLabels ? { negativeWeightLabels } : {}),
    ...(negativeWeightPartners ? { negativeWeightPartners } : {}),
    ...(a.flags.has('ema') ? { ema: flagNumber(a, 'ema', 0.999, w, { min: 0, max: 1 }) } : {}),
  };
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a zoo model on an image folder or manifest dataset',
  usage: trainUsage,
  interruptHint: 'run the same command with --resume to continue from the last finished epoch',
  async run(argv) {
    const a = parseArgs(argv, { values: ['data', 'labels', 'model', 'weights', 'epochs', 'batch', 'size', 'workers', 'opt', 'lr', 'wd', 'momentum', 'warmup', 'smoothing', 'clip', 'crop', 'seed', 'out', 'pair-weight', 'pair-weight-labels', 'negative-weight', 'negative-weight-labels', 'negative-weight-partners', 'ema'], booleans: ['severity-head', 'resume', 'overwrite', 'cache-batches'], positional: 0 }, 'train');
    const data = flagString(a, 'data');
    const out = flagString(a, 'out');
    if (!data || !out) throw new ArgumentError('train: --data and --out are required');
    const labels = flagList(a, 'labels');
    const config = trainConfig(a);
    // A finished or interrupted run is not overwritten by accident: continue it, replace it with
    // --overwrite (its checkpoints, logs and report are removed first), or use a new folder.
    if (a.flags.has('resume') && a.flags.has('overwrite')) throw new ArgumentError('train: give --resume or --overwrite, not both');
    if (!a.flags.has('resume') && (await fs.stat(path.join(out, 'last.safetensors')).then(() => true, () => false))) {
      if (!a.flags.has('overwrite')) throw new ArgumentError(`train: ${out} already holds a run (last.safetensors); give --resume to continue it, --overwrite to replace it, or a new --out`);
      for (const f of ['last.safetensors', 'best.safetensors', 'log.jsonl', 'log.csv', 'report.html']) await fs.rm(path.join(out, f), { force: true });
    }
    const train = await loadData(data, 'train', labels);
    await checkFilesExist(train);
    const val = await loadData(data, 'val', labels ?? [...train.classes], { flatIsTrainOnly: true }).catch((e: unknown) => {
      if (!(e instanceof MissingSplitError)) throw e;
      console.error(`train: no validation split (${e.message}); best.safetensors and report.html need one and are not written`);
      return undefined;
    });
    if (val) await checkFilesExist(val);
    console.error(`train: ${train.samples.length} training images, ${val?.samples.length ?? 0} validation images, classes: ${train.classes.join(', ')}`);
    let bar: Progress | null = null;
    const trainer = new Trainer(config, train, val, out, {
      // The bar starts before the first batch, so its rate and ETA count that batch's time too.
      onEpochStart: (e) => (bar = new Progress({ total: e.batches, label: `epoch ${e.epoch + 1}/${config.epochs}`, unit: 'batch' })),
      onStep: (s) => {
        bar?.tick(1, `${s.imagesPerSec.toFixed(1)} img/s loss ${s.loss.toFixed(4)}${s.acc !== undefined ? ` acc ${(100 * s.acc).toFixed(1)}%` : ''} lr ${s.lr.toExponential(2)}`);
      },
      onEpoch: (l) => {
        bar?.finish();
        console.error(`epoch ${l.epoch}: train loss ${l.trainLoss.toFixed(4)}${l.trainAcc !== undefined ? ` acc ${(100 * l.trainAcc).toFixed(2)}%` : ''}${l.valLoss !== undefined ? `, val loss ${l.valLoss.toFixed(4)} metric ${l.valMetric!.toFixed(4)}${l.valMetricRaw !== undefined ? ` (raw weights ${l.valMetricRaw.toFixed(4)})` : ''}` : ''}, ${l.imagesPerSec.toFixed(1)} img/s, ${l.seconds.toFixed(0)} s`);
      },
      onLoadError: (f, m, phase) => console.error(`warning: ${f}: ${m} (${phase === 'val' ? 'not scored' : 'another image of its batch trained in its place this time'})`),
      onNotice: (m) => console.error(`train: ${m}`),
    });
    const res = await trainer.run({ resume: a.flags.has('resume') });
    if (val) {
      const ev = await evaluateCheckpoint(path.join(out, 'best.safetensors'), val, config.batchSize);
      await writeFileAtomic(path.join(out, 'report.html'), renderReport({ title: `${config.model} on ${data} (validation)`, logs: res.logs, metrics: ev.metrics, extra: { config } }));
      console.error(`wrote ${path.join(out, 'report.html')}`);
    }
    return 0;
  },
};

/** Rebuilds the model recorded in a trainer checkpoint and evaluates it on `ds`; unreadable images are named on stderr and left out. */
export async function evaluateCheckpoint(file: string, ds: Dataset, batch: number, opts: { threshold?: number; progress?: boolean } = {}) {
  const ck = await readCheckpoint(file);
  const model = ck.metadata.model;
  if (!model) throw new ArgumentError(`${file}: not a trainer checkpoint (no model metadata)`);
  const unfinished = await unfinishedRunNote(file);
  if (unfinished) console.error(`eval: warning: ${unfinished}`);
  const size = Number(ck.metadata.imageSize);
  const numOutputs = Number(ck.metadata.numOutputs);
  const classes = JSON.parse(ck.metadata.classes ?? '[]') as string[];
  if (classes.join() !== ds.classes.join()) throw new ArgumentError(`${file}: trained on classes [${classes}] but the data has [${ds.classes}]`);
  const head = ck.metadata.head;
  if (head && (head === 'multi-label') !== ds.multiLabel) throw new ArgumentError(`${file}: a ${head} checkpoint cannot be scored on ${ds.multiLabel ? 'a multi-label manifest' : 'a single-label image folder'} (${ds.root})`);
  const h = await createModel(model, { numClasses: numOutputs, inputSize: [3, size, size] });
  h.state.loadStateDict(ck.entries, { source: file });
  const pred = await Predictor.build({ model: h.model, state: h.state, inputs: [{ name: 'input', shape: [batch, 3, size, size], dtype: 'float32' }], forward: (m, ins) => defaultForward(h.info, m, ins) });
  const loader = new DataLoader(ds, { batchSize: batch, shuffle: false, seed: 0, transform: { size, mode: 'center', flip: false } });
  try {
    const bar = opts.progress ? new Progress({ total: ds.samples.length, label: 'eval', unit: 'img' }) : null;
    const ev = await evaluateLoader(pred, loader, ds, {
      severityHead: numOutputs === 2 * ds.classes.length,
      threshold: opts.threshold,
      onLoadError: (f, m) => console.error(`${f}: ${m} (not scored)`),
      onBatch: (n) => bar?.tick(n),
    });
    bar?.finish();
    const trainer = JSON.parse(ck.metadata.trainer ?? '{}') as { logs?: EpochLog[] };
    return { ...ev, logs: trainer.logs ?? [], model, handle: h, size };
  } finally {
    await loader.close();
  }
}

/** Prints multi-label metrics as the text table of `eval`. */
function printMultiLabel(m: MultiLabelMetrics): void {
  console.log(`mAP ${m.mAP.toFixed(4)}  macro-F1 ${m.macroF1.toFixed(4)}  with clean ${m.macroF1WithClean.toFixed(4)}  exact ${(100 * m.exactMatch).toFixed(2)}%  (n=${m.n})`);
  for (const p of [...m.perClass, ...(m.clean.support ? [m.clean] : [])]) console.log(`  ${p.label.padEnd(16)} P ${p.precision.toFixed(3)}  R ${p.recall.toFixed(3)}  F1 ${p.f1.toFixed(3)}  n ${p.support}`);
}

/** `eval --inspector`: the packaged inspector on a manifest split, image by image. */
async function evalInspector(a: ParsedArgs): Promise<number> {
  const model = flagString(a, 'inspector')!;
  const data = flagString(a, 'data');
  if (!data) throw new ArgumentError('eval: --data is required');
  for (const f of ['checkpoint', 'robustness', 'pgd']) if (a.flags.has(f)) throw new ArgumentError(`eval: --${f} cannot be combined with --inspector`);
  const threshold = a.flags.has('threshold') ? flagNumber(a, 'threshold', 0.5, 'eval', { min: 0, max: 1, open: true }) : undefined;
  const inspector = await Inspector.load({ model });
  try {
    const given = flagList(a, 'labels');
    // Scored on the inspector's own labels, a row with a label it does not know would count as clean.
    const ds = await loadData(data, flagString(a, 'split', 'test')!, given ?? [...inspector.config.labels], { strictLabels: !given });
    const bar = new Progress({ total: ds.samples.length, label: 'eval', unit: 'img' });
    const scan = a.flags.has('scan') ? SCAN_THRESHOLDS : undefined;
    const r = await evaluateInspectorOnDataset(inspector, ds, { threshold, scan, onFile: () => bar.tick() });
    bar.finish();
    for (const e of r.errors) console.error(e.error.startsWith(e.file) ? e.error : `${e.file}: ${e.error}`);
    const report = flagString(a, 'report');
    if (report) await writeFileAtomic(report, renderReport({ title: `inspector ${model} on ${data}`, logs: [], metrics: r.metrics, extra: { errors: r.errors } }));
    if (a.flags.has('json')) console.log(JSON.stringify({ ...r.metrics, cleanKept: r.cleanKept, single: r.single, multi: r.multi, pairs: r.pairs, bySeverity: r.bySeverity, bySource: r.bySource, scan: r.scan, bestLabelThresholds: r.bestLabelThresholds, errors: r.errors }));
    else {
      printMultiLabel(r.metrics);
      console.log(`clean kept clean ${(100 * r.cleanKept).toFixed(1)}%`);
      for (const [name, m] of [['at most one label', r.single], ['two or more labels', r.multi]] as const) {
        if (m) console.log(`${name}: macro-F1 ${m.macroF1.toFixed(4)}, with clean ${m.macroF1WithClean.toFixed(4)} (n=${m.n}); recall ${m.perClass.map((p) => `${p.label} ${p.recall.toFixed(2)}`).join(', ')}`);
      }
      if (r.pairs?.length) console.log(`two-label pairs (recall of each label): ${r.pairs.map((p) => `${p.labels[0]} ${p.recall[0].toFixed(2)} + ${p.labels[1]} ${p.recall[1].toFixed(2)} (n=${p.n})`).join('; ')}`);
      if (r.bySeverity?.length) {
        const band = (b: SeverityBand) => `${b.from.toFixed(2)}-${b.to.toFixed(2)} ${b.recall.toFixed(2)} (n=${b.n})`;
        console.log(`recall by severity: ${r.bySeverity.map((g) => `${g.label} ${g.bands.map(band).join(', ')}`).join('; ')}`);
      }
      for (const g of r.bySource ?? []) {
        const one = g.single ? `; at most one label: macro-F1 with clean ${g.single.macroF1WithClean.toFixed(4)} (n=${g.single.n}), recall ${g.single.perClass.map((p) => `${p.label} ${p.support ? p.recall.toFixed(2) : '-'}`).join(', ')}` : '';
        console.log(`source ${g.source} (n=${g.metrics.n}): macro-F1 with clean ${g.metrics.macroF1WithClean.toFixed(4)}, clean kept ${Number.isNaN(g.cleanKept) ? '-' : `${(100 * g.cleanKept).toFixed(1)}%`}${one}`);
      }
      if (r.scan) {
        const best = r.bestScan!;
        console.log(`threshold scan: ${r.scan.map((x) => `${x.threshold.toFixed(2)}:${x.macroF1.toFixed(3)}`).join(' ')}`);
        console.log(`best threshold ${best.threshold.toFixed(2)}: macro-F1 ${best.macroF1.toFixed(4)} (with clean ${best.macroF1WithClean.toFixed(4)}), clean kept clean ${(100 * best.cleanKept).toFixed(1)}%`);
        console.log(`best per-label thresholds: ${r.metrics.classes.map((l, k) => `${l} ${r.bestLabelThresholds![k]}`).join(', ')}`);
      }
      if (report) console.log(`wrote ${report}`);
    }
    return r.errors.length ? 3 : 0;
  } finally {
    await inspector.dispose();
  }
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate a checkpoint: metrics, confusion matrix, HTML report',
  usage: `Usage: attnvision eval --checkpoint FILE --data DIR|manifest.jsonl [--split test] [--labels a,b] [--report out.html] [--json] [--batch N]
                       [--threshold t] [--robustness] [--pgd EPS,STEP,ITERS]
       attnvision eval --inspector model.onnx --data manifest.jsonl [--split test] [--threshold t] [--scan] [--report out.html] [--json]

Prints top-1/top-5, per-class precision/recall/F1, macro-F1 and calibration error (single-label), or
mAP, per-label F1 and exact match (multi-label); --report writes an HTML report with the training
curves stored in the checkpoint and a confusion-matrix heatmap; --json prints the metrics as JSON.
  --robustness          zero-shot scores under 90/180/270-degree rotation and upside-down flip:
                        top-1 (single-label) or mAP (multi-label), and macro-F1; JSON key "rotations"
  --pgd EPS,STEP,ITERS  targeted PGD attack (pixel units of 1/255, e.g. 8,2,10): success rate and
                        accuracy under attack (single-label models)
  --inspector FILE      evaluate a packaged inspector (ONNX + its .json config) instead of a checkpoint:
                        every image is inspected whole, as by 'attnvision inspect' (tiles, aggregation,
                        the config's threshold unless --threshold is given); also reports images with
                        at most one label and with two or more separately, and each label pair's recall
                        (a manifest label the inspector does not know is an error, unless --labels
                        names the labels to score); when the manifest names two or more source kinds
                        (synthesizer lines' source.kind: photo crops, procedural dead leaves), also the
                        scores of each kind's images (JSON key "bySource"); and each label's recall by
                        severity third (0-0.33, 0.33-0.67, 0.67-1, the manifest's severities; JSON
                        key "bySeverity")
  --scan                with --inspector: macro-F1 and clean-kept share at thresholds 0.05..0.95 (choose
                        the threshold on a validation split, never on test)
Multi-label metrics also score "clean" (no label at its threshold: 0.5 unless --threshold, a number
in (0, 1)) as a class: its recall is the share of clean images kept clean, and "with clean" is the
macro-F1 over the labels and clean. Images that cannot be loaded are named on stderr and not scored (exit code 3).`,
  async run(argv) {
    const a = parseArgs(argv, { values: ['checkpoint', 'inspector', 'data', 'split', 'labels', 'report', 'batch', 'pgd', 'threshold'], booleans: ['json', 'robustness', 'scan'], positional: 0 }, 'eval');
    if (a.flags.has('scan') && !flagString(a, 'inspector')) throw new ArgumentError('eval: --scan needs --inspector');
    if (flagString(a, 'inspector')) return evalInspector(a);
    const pgdSpec = flagString(a, 'pgd');
    const pgd = pgdSpec?.split(',').map(parseDecimal);
    if (pgd && (pgd.length !== 3 || pgd.some((v) => !Number.isFinite(v) || v < 0) || !Number.isInteger(pgd[2]))) {
      throw new ArgumentError(`eval: expected EPS,STEP,ITERS (e.g. 8,2,10) for --pgd but received "${pgdSpec}"`);
    }
    const file = flagString(a, 'checkpoint');
    const data = flagString(a, 'data');
    if (!file || !data) throw new ArgumentError('eval: --checkpoint and --data are required');
    const meta = await readSafetensorsMetadata(file); // the header only: evaluateCheckpoint reads the weights
    const labels = flagList(a, 'labels') ?? (JSON.parse(meta.classes ?? 'null') as string[] | null) ?? undefined;
    const ds = await loadData(data, flagString(a, 'split', 'test')!, labels);
    const batch = flagNumber(a, 'batch', 32, 'eval', { int: true, min: 1 });
    const threshold = a.flags.has('threshold') ? flagNumber(a, 'threshold', 0.5, 'eval', { min: 0, max: 1, open: true }) : undefined;
    if (threshold !== undefined && !ds.multiLabel) throw new ArgumentError('eval: --threshold applies to multi-label data (or --inspector)');
    if (pgd && ds.multiLabel) throw new ArgumentError('eval: --pgd needs a single-label dataset');
    const ev = await evaluateCheckpoint(file, ds, batch, { threshold, progress: true });
    const extra: Record<string, unknown> = {};
    if (a.flags.has('robustness')) extra.rotations = await rotationRobustness(ev.handle, ds, ev.size, batch);
    if (pgd) {
      extra.pgd = await pgdAttack(ev.handle, ds, ev.size, batch, { epsilon: pgd[0]!, step: pgd[1]!, iterations: pgd[2]!, seed: 1 });
    }
    const report = flagString(a, 'report');
    if (report) await writeFileAtomic(report, renderReport({ title: `${ev.model}: ${file} on ${data}`, logs: ev.logs, metrics: ev.metrics, extra }));
    if (a.flags.has('json')) console.log(JSON.stringify({ ...ev.metrics, ...extra }));
    else {
      const m = ev.metrics;
      if (m.kind === 'single') {
        console.log(`top-1 ${(100 * m.top1).toFixed(2)}%  top-5 ${(100 * m.top5).toFixed(2)}%  macro-F1 ${m.macroF1.toFixed(4)}  ECE ${m.ece.toFixed(4)}  (n=${m.n})`);
        for (const p of m.perClass) console.log(`  ${p.label.padEnd(16)} P ${p.precision.toFixed(3)}  R ${p.recall.toFixed(3)}  F1 ${p.f1.toFixed(3)}  n ${p.support}`);
      } else printMultiLabel(m);
      for (const r of (extra.rotations as RotationResult[] | undefined) ?? []) {
        const main = r.top1 !== undefined ? `top-1 ${(100 * r.top1).toFixed(2)}%` : `mAP ${r.mAP!.toFixed(4)}`;
        console.log(`  rotation ${r.transform.padEnd(12)} ${main}  macro-F1 ${r.macroF1.toFixed(4)}`);
      }
      const p = extra.pgd as { successRate: number; accuracyUnderAttack: number; cleanAccuracy: number } | undefined;
      if (p) console.log(`  PGD: success ${(100 * p.successRate).toFixed(2)}%, accuracy under attack ${(100 * p.accuracyUnderAttack).toFixed(2)}% (clean ${(100 * p.cleanAccuracy).toFixed(2)}%)`);
      if (report) console.log(`wrote ${report}`);
    }
    if (ev.failed.length) console.error(`eval: ${ev.failed.length} of ${ds.samples.length} images could not be loaded and were not scored`);
    return ev.failed.length ? 3 : 0;
  },
};
