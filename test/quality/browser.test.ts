/**
 * The browser inspector (onnxruntime-web, here its WebAssembly backend under Node) gives the Node
 * inspector's result when fed the same resized pixels: same tiles, model outputs, aggregation and
 * decisions. Checked on a random tiny model with per-label tile shares and on the shipped model;
 * inspect() itself (decode, palette low-pass, canvas draws) with a fake canvas at native scale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import * as ortWeb from 'onnxruntime-web';
import { Inspector, shippedModelDir } from '../../src/quality/inspector.js';
import { BrowserInspector, type OrtModule } from '../../src/quality/browser.js';
import { mosaicPlan } from '../../src/quality/tiling.js';
import type { InspectResult } from '../../src/quality/labels.js';
import { tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { writeDemoImages } from '../../src/quality/demo.js';

ortWeb.env.wasm.numThreads = 1;

async function bothAgree(model: string, file: string, threshold?: number): Promise<InspectResult> {
  const node = await Inspector.load({ model });
  const config = JSON.parse(await readFile(model.replace(/\.onnx$/, '.json'), 'utf8'));
  const web = await BrowserInspector.load({ ort: ortWeb as unknown as OrtModule, model: await readFile(model), config, sessionOptions: { executionProviders: ['wasm'] } });
  const want = await node.inspect(file, { threshold });
  const meta = await sharp(file).metadata();
  const plan = web.plan(meta.width!, meta.height!);
  // The Node inspector's resize (Lanczos), so both see the same pixels.
  const { data, info } = await sharp(file).resize(plan.width, plan.height, { fit: 'fill', kernel: 'lanczos3' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  // Detail tiles (downscaled image, config detailLabels): native pixels copied into a mosaic, as the canvas path does.
  const dplan = web.detailPlan(meta.width!, meta.height!);
  let detail;
  if (dplan) {
    const native = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const m = mosaicPlan(dplan);
    const C = native.info.channels;
    const pixels = new Uint8Array(m.width * m.height * C);
    dplan.origins.forEach((o, i) => {
      for (let y = 0; y < dplan.tile; y++) {
        const from = ((o.top + y) * meta.width! + o.left) * C;
        pixels.set(native.data.subarray(from, from + dplan.tile * C), ((m.origins[i]!.top + y) * m.width + m.origins[i]!.left) * C);
      }
    });
    detail = { pixels, channels: C, plan: dplan };
  }
  // The finer coverage (downscaled image, config fineLabels): the image resized to its plan, as for the coverage.
  const fplan = web.finePlan(meta.width!, meta.height!);
  let fine;
  if (fplan) {
    const img = fplan.scale === 1 ? sharp(file) : sharp(file).resize(fplan.width, fplan.height, { fit: 'fill', kernel: 'lanczos3' });
    const f = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    fine = { pixels: f.data, channels: f.info.channels, plan: fplan };
  }
  const got = await web.inspectResized(data, info.channels, plan, { width: meta.width!, height: meta.height! }, { threshold }, detail, fine);
  assert.equal(got.detail === undefined, want.detail === undefined, 'both use detail tiles, or neither');
  assert.equal(got.fine === undefined, want.fine === undefined, 'both use fine tiles, or neither');
  if (got.fine && want.fine) {
    assert.deepEqual([got.fine.rows, got.fine.cols, got.fine.cells], [want.fine.rows, want.fine.cols, want.fine.cells]);
    got.fine.tileProbabilities.forEach((p, t) => p.forEach((v, k) => assert.ok(Math.abs(v - want.fine!.tileProbabilities[t]![k]!) <= 2e-4, `fine tile ${t} label ${k}`)));
  }
  if (got.detail && want.detail) {
    assert.deepEqual([got.detail.rows, got.detail.cols, got.detail.origins], [want.detail.rows, want.detail.cols, want.detail.origins]);
    got.detail.tileProbabilities.forEach((p, t) => p.forEach((v, k) => assert.ok(Math.abs(v - want.detail!.tileProbabilities[t]![k]!) <= 2e-4, `detail tile ${t} label ${k}`)));
  }
  assert.deepEqual(got.tiles, want.tiles);
  assert.deepEqual(got.thresholds, want.thresholds);
  got.scores.forEach((s, k) => {
    assert.equal(s.label, want.scores[k]!.label);
    assert.ok(Math.abs(s.probability - want.scores[k]!.probability) <= 2e-4, `${s.label}: web ${s.probability} node ${want.scores[k]!.probability}`);
    assert.ok(Math.abs(s.severity - want.scores[k]!.severity) <= 2e-4, `${s.label} severity: web ${s.severity} node ${want.scores[k]!.severity}`);
  });
  // Decisions agree unless a probability sits within float noise of its threshold.
  const near = got.scores.some((s, k) => Math.abs(s.probability - got.thresholds[k]!) <= 2e-4);
  if (!near) assert.deepEqual(got.labels.map((l) => l.label), want.labels.map((l) => l.label));
  await node.dispose();
  await web.dispose();
  return got;
}

test('browser inspector on onnxruntime-web = Node inspector on the same pixels (tiny model, per-label tile shares)', async () => {
  const { dir, model } = await tinyInspectorModel();
  const cfgPath = model.replace(/\.onnx$/, '.json');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  await writeFile(cfgPath, JSON.stringify({ ...cfg, labelTopFraction: [0.25, 0.5, 1, 1, 0.25, 1, 0.5], labelThresholds: [0.3, 0.4, 0.5, 0.6, 0.45, 0.5, 0.55] }));
  const file = path.join(dir, 'wide.png');
  const px = Buffer.from(Array.from({ length: 150 * 70 * 3 }, (_, i) => (i * 31 + (i >> 9) * 7) % 256));
  await sharp(px, { raw: { width: 150, height: 70, channels: 3 } }).png().toFile(file);
  const r = await bothAgree(model, file);
  assert.ok(r.tiles.rows * r.tiles.cols > 2, 'several tiles, so the per-label shares matter');
  await bothAgree(model, file, 0.5);
  // Detail tiles: the 150 px image is downscaled to the 3 x 32 px budget, so noise and jpeg come from native tiles.
  await writeFile(cfgPath, JSON.stringify({ ...cfg, labelTopFraction: [0.25, 0.5, 1, 1, 0.25, 1, 0.5], detailLabels: ['noise', 'jpeg'] }));
  const d = await bothAgree(model, file);
  assert.deepEqual([d.detail?.rows, d.detail?.cols], [3, 3]);
  // A smaller detail grid (detailTilesPerSide) is used by both inspectors; the coverage tiles stay.
  await writeFile(cfgPath, JSON.stringify({ ...cfg, detailLabels: ['noise', 'jpeg'], detailTilesPerSide: 2 }));
  const d2 = await bothAgree(model, file);
  assert.deepEqual([d2.detail?.rows, d2.detail?.cols, d2.tiles.rows * d2.tiles.cols], [2, 2, d.tiles.rows * d.tiles.cols]);
  // Fine labels (the blurs) from a finer coverage: 5 tiles per side, so the 150 px image at native scale.
  await writeFile(cfgPath, JSON.stringify({ ...cfg, detailLabels: ['noise', 'jpeg'], fineLabels: ['defocus_blur', 'motion_blur'], fineTilesPerSide: 5 }));
  const f = await bothAgree(model, file);
  assert.deepEqual([f.fine?.labels, f.fine?.cols, f.fine?.rows], [['defocus_blur', 'motion_blur'], 5, 3]);
  // Pixels resized by the caller must come with every view the Node inspector would use.
  const web = await BrowserInspector.load({ ort: ortWeb as unknown as OrtModule, model: await readFile(model), config: JSON.parse(await readFile(cfgPath, 'utf8')), sessionOptions: { executionProviders: ['wasm'] } });
  const plan = web.plan(150, 70);
  const px3 = new Uint8Array(plan.width * plan.height * 3);
  await assert.rejects(web.inspectResized(px3, 3, plan, { width: 150, height: 70 }), /inspectResized: a 150 x 70 image needs its detail tiles \(detailPlan\(150, 70\)\)/);
  await assert.rejects(web.inspectResized(px3, 3, web.plan(300, 140), { width: 150, height: 70 }), /inspectResized: plan is not plan\(150, 70\)/);
  await web.dispose();
  // A bad config is refused by the browser inspector too, naming the field.
  await assert.rejects(
    BrowserInspector.load({ ort: ortWeb as unknown as OrtModule, model: await readFile(model), config: { ...cfg, labelTopFraction: [1] } }),
    /labelTopFraction must hold 7 numbers/,
  );
});

test('browser inspector on onnxruntime-web = Node inspector with the shipped model', async () => {
  // The README demo images (clean, then one per label): 256 px, so 3 x 3 tiles of 112 px.
  const files = await writeDemoImages();
  for (const file of [files[0]!, files[1]!]) await bothAgree(path.join(shippedModelDir(), 'inspector.onnx'), file);
});

/** A decoded image as the fake canvas holds it: RGBA, [H, W, 4]. */
interface FakeBitmap { width: number; height: number; rgba: Uint8ClampedArray }

/**
 * The few canvas APIs BrowserInspector.inspect uses, for images it tiles at native scale (every
 * draw is a same-size copy; a resize is refused, so a test cannot pass on a wrong resize): enough
 * to run inspect() itself in Node. Returns a function that removes them again.
 */
function installFakeCanvas(): () => void {
  const g = globalThis as Record<string, unknown>;
  const saved = ['createImageBitmap', 'OffscreenCanvas'].map((k) => [k, g[k]] as const);
  class Canvas implements FakeBitmap {
    rgba: Uint8ClampedArray;
    constructor(readonly width: number, readonly height: number) {
      this.rgba = new Uint8ClampedArray(width * height * 4);
    }
    getContext() {
      return Canvas.context(this);
    }
    static context(c: Canvas) {
      return {
        fillStyle: '', imageSmoothingEnabled: false, imageSmoothingQuality: '',
        fillRect(x: number, y: number, w: number, h: number) {
          assert.deepEqual([x, y, w, h], [0, 0, c.width, c.height], 'fills the whole canvas');
          assert.equal(this.fillStyle, '#ffffff');
          c.rgba.fill(255);
        },
        drawImage(src: FakeBitmap, ...xywh: number[]) {
          assert.deepEqual(xywh, [0, 0, c.width, c.height], 'a same-size draw');
          assert.deepEqual([src.width, src.height], [c.width, c.height], 'a same-size draw');
          for (let i = 0; i < c.rgba.length; i += 4) {
            const a = src.rgba[i + 3]! / 255; // source over the white canvas
            for (let k = 0; k < 3; k++) c.rgba[i + k] = src.rgba[i + k]! * a + c.rgba[i + k]! * (1 - a);
            c.rgba[i + 3] = 255;
          }
        },
        getImageData: () => ({ data: c.rgba.slice() }),
        putImageData(img: { data: Uint8ClampedArray }) {
          c.rgba.set(img.data);
        },
      };
    }
  }
  g.OffscreenCanvas = Canvas;
  g.createImageBitmap = async (blob: Blob): Promise<FakeBitmap> => {
    const { data, info } = await sharp(Buffer.from(await blob.arrayBuffer())).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, rgba: new Uint8ClampedArray(data) };
  };
  return () => saved.forEach(([k, v]) => (v === undefined ? delete g[k] : (g[k] = v)));
}

test('browser inspect(): a GIF Blob is low-passed (paletteLowpass) as the Node inspector does; a PNG Blob is not (fake canvas)', async () => {
  const { model } = await tinyInspectorModel();
  const cfgPath = model.replace(/\.onnx$/, '.json');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  const px = Buffer.from(Array.from({ length: 90 * 60 * 3 }, (_, i) => (i * 31 + (i >> 7) * 13) % 256));
  const png = await sharp(px, { raw: { width: 90, height: 60, channels: 3 } }).png().toBuffer();
  const gif = await sharp(png).gif({ colours: 32, dither: 1 }).toBuffer();
  const restore = installFakeCanvas();
  try {
    const results: Record<string, InspectResult> = {};
    for (const [name, config] of Object.entries({ on: { ...cfg, paletteLowpass: 0.1 }, off: cfg })) {
      await writeFile(cfgPath, JSON.stringify(config));
      const node = await Inspector.load({ model });
      const web = await BrowserInspector.load({ ort: ortWeb as unknown as OrtModule, model: await readFile(model), config, sessionOptions: { executionProviders: ['wasm'] } });
      for (const [kind, bytes] of Object.entries({ gif, png })) {
        const want = await node.inspect(bytes);
        const got = await web.inspect(new Blob([bytes]));
        assert.equal(got.tiles.rows * got.tiles.cols, 6, 'a 90 x 60 image at native scale: 3 x 2 tiles of 32 px');
        got.tileProbabilities.forEach((p, t) => p.forEach((v, k) => assert.ok(Math.abs(v - want.tileProbabilities[t]![k]!) <= 2e-4, `${name} ${kind}: tile ${t} label ${k}`)));
        results[`${name} ${kind}`] = got;
      }
      await node.dispose();
      await web.dispose();
    }
    assert.notDeepEqual(results['on gif']!.tileProbabilities, results['off gif']!.tileProbabilities, 'the GIF was low-passed');
    assert.deepEqual(results['on png']!.tileProbabilities, results['off png']!.tileProbabilities, 'the PNG was not');
  } finally {
    restore();
  }
  assert.equal((globalThis as Record<string, unknown>).OffscreenCanvas, undefined, 'the fakes are gone');
});
