import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { Inspector } from '../../src/quality/inspector.js';
import { mosaicPlan, planDetailTiles, planFineTiles, planTiles, tileCells } from '../../src/quality/tiling.js';
import { checkInspectorConfig, detailPlanOf, finePlanOf, labelTileProbabilities, labelTiles, resultFromTileOutputs, tileBatch } from '../../src/quality/core.js';
import { panelSize, renderHeatmap } from '../../src/quality/heatmap.js';
import { heatmapPaths } from '../../src/cli/commands/inspect.js';
import { topMean, tilesAveraged } from '../../src/quality/aggregate.js';
import type { InspectorConfig, InspectResult } from '../../src/quality/labels.js';
import { QUALITY_LABELS } from '../../src/quality/labels.js';
import { tinyInspectorModel } from '../helpers/tiny_inspector.js';
import { encodeBmp24, paletteLowpass } from '../../src/image/index.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

async function photo(file: string, w: number, h: number) {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + (i >> 7)) % 251;
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg().toFile(file);
}

test('tiling covers any image size with tiles at near-native scale', () => {
  const small = planTiles(20, 10, 32, 3);
  assert.deepEqual([small.width, small.height, small.rows, small.cols], [64, 32, 1, 2], 'upscaled so the short side is one tile');
  const wide = planTiles(100, 40, 32, 4);
  assert.equal(wide.scale, 1);
  assert.deepEqual([wide.rows, wide.cols], [2, 4]);
  const last = wide.origins[wide.origins.length - 1]!;
  assert.equal(last.left + 32, wide.width, 'tiles reach the right edge');
  const huge = planTiles(4000, 3000, 32, 3);
  assert.ok(huge.cols <= 3 && huge.rows <= 3, 'large images are downscaled to the tile budget');
  // A strip needs a tile per (short side) of length: bounded by refusing beyond maxPerSide^2 : 1.
  assert.equal(planTiles(25 * 40, 40, 112, 5).origins.length, 25);
  assert.throws(() => planTiles(1, 600, 112, 5), /image is 1x600 px: too thin to inspect \(aspect ratio 600:1; at most 25:1/);
  assert.throws(() => planTiles(26 * 40, 40, 112, 5), /too thin/);
  // An image that would be enlarged more than 3.5x to fill a tile says nothing about the photo.
  assert.throws(() => planTiles(1, 1, 112, 5), /image is 1x1 px: too small to inspect \(the shorter side must be at least 32 px, 1\/3\.5 of the model's 112 px tile\)/);
  assert.throws(() => planTiles(200, 31, 112, 5), /image is 200x31 px: too small/);
  assert.equal(planTiles(32, 32, 112, 5).scale, 3.5);
  // A small tile budget still takes ordinary photos (the limit is at least 16:1).
  assert.deepEqual([planTiles(640, 480, 112, 1).cols, planTiles(640, 480, 112, 1).rows], [2, 1]);
});

test('tile display cells partition the source image and are centred on their (overlapping) tiles', () => {
  // An exact grid: the cells are the tiles.
  const exact = planTiles(224, 112, 112, 4);
  assert.deepEqual(tileCells(exact, 224, 112), [{ left: 0, top: 0, width: 112, height: 112 }, { left: 112, top: 0, width: 112, height: 112 }]);
  // 300 x 200 source, downscaled 0.5 to 150 x 100 then 2 x 3 overlapping tiles of 64.
  for (const [w, h, tile, max] of [[300, 200, 64, 3], [1000, 700, 112, 4], [130, 90, 32, 5]] as const) {
    const plan = planTiles(w, h, tile, max);
    const cells = tileCells(plan, w, h);
    assert.equal(cells.length, plan.rows * plan.cols);
    let area = 0;
    cells.forEach((c, t) => {
      area += c.width * c.height;
      const o = plan.origins[t]!;
      const f = w / plan.width;
      const cx = (o.left + tile / 2) * f;
      const cy = (o.top + tile / 2) * (h / plan.height);
      assert.ok(c.left <= cx && cx <= c.left + c.width && c.top <= cy && cy <= c.top + c.height, `tile ${t} centre inside its cell`);
      if (t % plan.cols === plan.cols - 1) assert.equal(c.left + c.width, w, 'last column reaches the right edge');
    });
    assert.equal(area, w * h, `${w}x${h}: cells cover the image exactly once`);
  }
});

test('detail tiles: native scale, spread over a downscaled image only; mosaic layout', () => {
  assert.equal(planDetailTiles(100, 40, 32, 4, 4), null, 'not downscaled: no detail tiles');
  assert.equal(planDetailTiles(20, 10, 32, 3, 3), null, 'upscaled: no detail tiles');
  const d = planDetailTiles(1000, 300, 32, 4, 4)!;
  assert.equal(planTiles(1000, 300, 32, 4).scale < 1, true);
  assert.deepEqual([d.width, d.height, d.scale, d.rows, d.cols], [1000, 300, 1, 4, 4]);
  const xs = d.origins.slice(0, 4).map((o) => o.left);
  assert.deepEqual([xs[0], xs[3]! + 32], [0, 1000], 'first and last columns touch the borders');
  assert.ok(xs.every((x, i) => i === 0 || x - xs[i - 1]! > 32), 'spread, not adjacent');
  assert.ok(d.origins.every((o) => o.left >= 0 && o.top >= 0 && o.left + 32 <= 1000 && o.top + 32 <= 300));
  const m = mosaicPlan(d);
  assert.deepEqual([m.width, m.height], [128, 128]);
  assert.deepEqual(m.origins[5], { left: 32, top: 32 });
});

test('detailTilesPerSide: the detail grid of a config, checked when loaded', () => {
  const config: InspectorConfig = { labels: [...QUALITY_LABELS], inputSize: 32, mean: [0, 0, 0], std: [1, 1, 1], threshold: 0.5, severityHead: false, model: 't', topK: 2, maxTilesPerSide: 4, detailLabels: ['noise'] };
  assert.deepEqual([detailPlanOf(config, 1000, 300)!.cols, detailPlanOf(config, 1000, 300)!.rows], [4, 4], 'default: maxTilesPerSide');
  // Only images the coverage grid downscales get detail tiles, however small the detail grid:
  // 4 coverage tiles of 32 px reach 128 px at native scale, 2 would only reach 64 px.
  assert.equal(planTiles(120, 100, 32, 4).scale, 1);
  assert.equal(detailPlanOf({ ...config, detailTilesPerSide: 2 }, 120, 100), null, 'covered at native scale: no detail tiles');
  assert.equal(planDetailTiles(120, 100, 32, 2, 4), null);
  assert.deepEqual([planDetailTiles(120, 100, 32, 2, 2)!.cols, planDetailTiles(200, 100, 32, 2, 4)!.cols], [2, 2]);
  const small = detailPlanOf({ ...config, detailTilesPerSide: 2 }, 1000, 300)!;
  assert.deepEqual([small.cols, small.rows, small.origins[1]!.left + 32], [2, 2, 1000], 'two per side, touching both borders');
  assert.equal(detailPlanOf({ ...config, detailLabels: [] }, 1000, 300), null, 'no detail labels: no detail tiles');
  for (const bad of [0, 2.5, 17]) assert.throws(() => checkInspectorConfig({ ...config, detailTilesPerSide: bad }, 'x.json'), /x\.json: detailTilesPerSide must be an integer in \[1, 16\]/);
});

test('detail labels are read from the detail tiles, the others from the coverage tiles', () => {
  const K = QUALITY_LABELS.length;
  const config: InspectorConfig = { labels: [...QUALITY_LABELS], inputSize: 32, mean: [0, 0, 0], std: [1, 1, 1], threshold: 0.5, severityHead: false, model: 't', topK: 2, maxTilesPerSide: 3, detailLabels: ['noise', 'jpeg'] };
  const plan = planTiles(300, 200, 32, 3);
  const detailPlan = planDetailTiles(300, 200, 32, 3, 3)!;
  const T = plan.origins.length;
  const Td = detailPlan.origins.length;
  const logits = (n: number, f: (t: number, k: number) => number) => Float32Array.from({ length: n * K }, (_, i) => f(Math.floor(i / K), i % K));
  const out = logits(T, () => -3);
  const detailOut = logits(Td, (t) => (t === 0 ? 3 : 1));
  const r = resultFromTileOutputs(out, plan, { width: 300, height: 200 }, config, config.labels.map(() => 0.5), { out: detailOut, plan: detailPlan });
  const noise = QUALITY_LABELS.indexOf('noise');
  const blur = QUALITY_LABELS.indexOf('defocus_blur');
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  assert.ok(Math.abs(r.scores[blur]!.probability - sig(-3)) < 1e-4, 'coverage tiles for defocus');
  const want = topMean(labelTileProbabilities(r, noise), tilesAveraged(config, noise, Td)).probability;
  assert.ok(Math.abs(r.scores[noise]!.probability - want) < 1e-4 && Math.abs(want - (sig(3) + sig(1)) / 2) < 1e-3, `noise from detail tiles: ${r.scores[noise]!.probability}`);
  assert.deepEqual(r.labels.map((l) => l.label).sort(), ['jpeg', 'noise']);
  assert.equal(r.detail!.tileProbabilities.length, Td);
  assert.deepEqual(r.detail!.labels, ['noise', 'jpeg']);
  assert.equal(labelTileProbabilities(r, blur).length, T);
  // Without detail outputs (image not downscaled) every label uses the coverage tiles.
  const plain = resultFromTileOutputs(out, plan, { width: 300, height: 200 }, config, config.labels.map(() => 0.5));
  assert.equal(plain.detail, undefined);
  assert.ok(plain.clean);
  assert.throws(() => checkInspectorConfig({ ...config, detailLabels: ['grain' as never] }, 'x.json'), /x\.json: detailLabels must be a list of the config's labels/);
});

test('fine tiles: a second, less downscaled coverage of downscaled images, checked in the config', () => {
  const config: InspectorConfig = { labels: [...QUALITY_LABELS], inputSize: 32, mean: [0, 0, 0], std: [1, 1, 1], threshold: 0.5, severityHead: false, model: 't', topK: 2, maxTilesPerSide: 3, detailLabels: ['noise'], fineLabels: ['defocus_blur', 'motion_blur'], fineTilesPerSide: 5 };
  // 300 x 200 is downscaled to 96 x 64 for 3 tiles per side; the fine coverage takes 5 (160 x 107).
  const fine = finePlanOf(config, 300, 200)!;
  assert.deepEqual(fine, planTiles(300, 200, 32, 5));
  assert.deepEqual([fine.width, fine.height, fine.cols, fine.rows], [160, 107, 5, 4]);
  // Up to 160 px the fine coverage is at native scale; at most 96 px the coverage already is: none.
  assert.equal(finePlanOf(config, 150, 100)!.scale, 1);
  assert.equal(finePlanOf(config, 96, 60), null);
  assert.equal(planFineTiles(96, 60, 32, 5, 3), null);
  assert.equal(finePlanOf({ ...config, fineLabels: [] }, 300, 200), null, 'no fine labels: no fine tiles');
  // A strip so thin that one tile across sets the scale of both plans: the fine plan would repeat the coverage.
  assert.equal(planTiles(1000, 64, 32, 3).scale, planTiles(1000, 64, 32, 5).scale);
  assert.equal(finePlanOf(config, 1000, 64), null);
  assert.throws(() => planFineTiles(300, 200, 32, 3, 3), /planFineTiles: expected integer in \[4, 16\] for finePerSide but received 3/);
  const bad: [Partial<InspectorConfig>, RegExp][] = [
    [{ fineLabels: ['blur' as never] }, /x\.json: fineLabels must be a list of distinct labels of the config/],
    [{ fineLabels: ['motion_blur', 'motion_blur'] }, /fineLabels must be a list of distinct labels/],
    [{ fineLabels: ['noise'] }, /x\.json: noise cannot be both a detail label and a fine label/],
    [{ fineTilesPerSide: undefined }, /x\.json: fineTilesPerSide must be an integer in \[4, 16\] \(more tiles per side than maxTilesPerSide\) with fineLabels; got undefined/],
    [{ fineTilesPerSide: 3 }, /fineTilesPerSide must be an integer in \[4, 16\]/],
    [{ fineTilesPerSide: 17 }, /fineTilesPerSide must be an integer in \[4, 16\]/],
    [{ maxTilesPerSide: 16, fineTilesPerSide: 16 }, /x\.json: fineLabels and fineTilesPerSide need maxTilesPerSide under 16/],
  ];
  for (const [change, re] of bad) assert.throws(() => checkInspectorConfig({ ...config, ...change }, 'x.json'), re, JSON.stringify(change));
});

test('fine labels are read from the fine coverage, detail labels from the detail tiles, the rest from the coverage', () => {
  const K = QUALITY_LABELS.length;
  const config: InspectorConfig = { labels: [...QUALITY_LABELS], inputSize: 32, mean: [0, 0, 0], std: [1, 1, 1], threshold: 0.5, severityHead: false, model: 't', topK: 2, maxTilesPerSide: 3, detailLabels: ['noise'], fineLabels: ['motion_blur'], fineTilesPerSide: 5 };
  const size = { width: 300, height: 200 };
  const plan = planTiles(300, 200, 32, 3);
  const detailPlan = planDetailTiles(300, 200, 32, 3, 3)!;
  const finePlan = finePlanOf(config, 300, 200)!;
  const logits = (n: number, v: number) => new Float32Array(n * K).fill(v);
  const r = resultFromTileOutputs(logits(plan.origins.length, -3), plan, size, config, config.labels.map(() => 0.5), { out: logits(detailPlan.origins.length, 1), plan: detailPlan }, { out: logits(finePlan.origins.length, 2), plan: finePlan });
  const sig = (x: number) => Math.round((1 / (1 + Math.exp(-x))) * 1e4) / 1e4;
  const p = (label: string) => r.scores[QUALITY_LABELS.indexOf(label as never)]!.probability;
  assert.deepEqual([p('motion_blur'), p('noise'), p('defocus_blur'), p('rain')], [sig(2), sig(1), sig(-3), sig(-3)]);
  assert.deepEqual(r.labels.map((l) => l.label), ['motion_blur', 'noise']);
  assert.deepEqual([r.fine!.labels, r.fine!.rows, r.fine!.cols, r.fine!.tileProbabilities.length], [['motion_blur'], 4, 5, 20]);
  // Tile side in source pixels: 32 px tiles of the image at 160/300.
  assert.equal(r.fine!.tileSize, Math.round(32 / finePlan.scale));
  // Heatmaps draw a fine label from the fine cells, which partition the image.
  const m = labelTiles(r, QUALITY_LABELS.indexOf('motion_blur'));
  assert.equal(m.cells, r.fine!.cells);
  assert.equal(m.cells.reduce((a, c) => a + c.width * c.height, 0), 300 * 200);
  assert.equal(labelTiles(r, QUALITY_LABELS.indexOf('defocus_blur')).cells, r.tiles.cells);
  // Without fine outputs (the image is not downscaled) the fine labels use the coverage tiles.
  const plain = resultFromTileOutputs(logits(plan.origins.length, -3), plan, size, config, config.labels.map(() => 0.5));
  assert.equal(plain.fine, undefined);
  assert.equal(plain.scores[QUALITY_LABELS.indexOf('motion_blur')]!.probability, sig(-3));
});

test('Inspector: fine labels of a downscaled photo equal those of a config with that many tiles per side; the rest stay as without', async () => {
  const { dir, model } = await tinyInspectorModel();
  const cfgFile = path.join(dir, 'inspector.json');
  const cfg = JSON.parse(await readFile(cfgFile, 'utf8')) as InspectorConfig;
  const file = path.join(dir, 'big.png');
  const W = 250;
  const H = 150;
  const px = Buffer.alloc(W * H * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 53 + (i >> 5) + ((i / 750) | 0) * 17) % 256;
  await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
  const results: Record<string, InspectResult> = {};
  for (const [name, c] of Object.entries({ base: cfg, finer: { ...cfg, maxTilesPerSide: 5 }, both: { ...cfg, fineLabels: ['defocus_blur', 'motion_blur'], fineTilesPerSide: 5 } })) {
    await writeFile(cfgFile, JSON.stringify(c));
    const insp = await Inspector.load({ model });
    results[name] = await insp.inspect(file);
    if (name === 'both') {
      const prep = await insp.prepare(file);
      assert.deepEqual([prep.plan.width, prep.fine!.plan.width, prep.fine!.plan.height], [96, 160, 96], 'coverage at 3 tiles per side, fine coverage at 5');
    }
    await insp.dispose();
  }
  const { base, finer, both } = results as Record<'base' | 'finer' | 'both', InspectResult>;
  both.scores.forEach((s, k) => {
    const want = ['defocus_blur', 'motion_blur'].includes(s.label) ? finer : base;
    assert.deepEqual(s, want.scores[k], s.label);
  });
  assert.deepEqual(both.tiles, base.tiles, 'the coverage is the base config\'s');
  assert.deepEqual([both.fine!.rows, both.fine!.cols, both.fine!.cells], [finer.tiles.rows, finer.tiles.cols, finer.tiles.cells]);
  const heat = path.join(dir, 'heat-fine.png');
  await renderHeatmap(file, both, heat);
  assert.ok((await stat(heat)).size > 1000);
  // A photo the coverage takes at native scale gets no fine tiles.
  await writeFile(cfgFile, JSON.stringify({ ...cfg, fineLabels: ['defocus_blur', 'motion_blur'], fineTilesPerSide: 5 }));
  const small = path.join(dir, 'small.png');
  await sharp(px.subarray(0, 90 * 60 * 3), { raw: { width: 90, height: 60, channels: 3 } }).png().toFile(small);
  const insp = await Inspector.load({ model });
  assert.equal((await insp.inspect(small)).fine, undefined);
  await insp.dispose();
});

test('Inspector: a downscaled photo gets native-scale detail tiles cut from the full-resolution pixels', async () => {
  const { dir, model } = await tinyInspectorModel();
  const cfgFile = path.join(dir, 'inspector.json');
  const cfg = JSON.parse(await readFile(cfgFile, 'utf8')) as InspectorConfig;
  await writeFile(cfgFile, JSON.stringify({ ...cfg, detailLabels: ['noise'] }));
  const file = path.join(dir, 'big.png');
  const W = 250;
  const H = 120;
  const px = Buffer.alloc(W * H * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 53 + (i >> 5)) % 256;
  await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
  const insp = await Inspector.load({ model });
  const prep = await insp.prepare(file);
  assert.ok(prep.plan.scale < 1 && prep.detail, 'downscaled, so detail tiles');
  assert.deepEqual(prep.detail!.batch, tileBatch(px, 3, prep.detail!.plan, insp.config), 'detail tiles are the source pixels at scale 1');
  const r = await insp.inspect(file);
  assert.deepEqual([r.detail!.rows, r.detail!.cols], [3, 3]);
  const k = QUALITY_LABELS.indexOf('noise');
  assert.equal(r.scores[k]!.probability, Math.round(topMean(labelTileProbabilities(r, k), tilesAveraged(insp.config, k, 9)).probability * 1e4) / 1e4);
  // Heatmaps draw a detail label from its own tiles: cells that partition the image, one per detail tile.
  const { cells, probabilities } = labelTiles(r, k);
  assert.equal(cells.length, 9);
  assert.deepEqual(probabilities, r.detail!.tileProbabilities.map((p) => p[k]));
  assert.equal(cells.reduce((a, c) => a + c.width * c.height, 0), W * H);
  assert.equal(labelTiles(r, 0).cells, r.tiles.cells);
  const heat = path.join(dir, 'heat.png');
  await renderHeatmap(file, r, heat);
  assert.ok((await stat(heat)).size > 1000);
  await insp.dispose();
});

test('Inspector: with paletteLowpass, a GIF is low-passed at native resolution before tiling; other images are untouched', async () => {
  const { dir, model } = await tinyInspectorModel();
  const cfgFile = path.join(dir, 'inspector.json');
  const cfg = JSON.parse(await readFile(cfgFile, 'utf8')) as InspectorConfig;
  const W = 250;
  const H = 150;
  const px = Buffer.alloc(W * H * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 53 + (i >> 5) + ((i / 750) | 0) * 17) % 256;
  const png = await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  const gif = await sharp(png).gif({ colours: 64, dither: 1 }).toBuffer();
  // What the low-pass should see: the GIF's own decoded pixels at native size.
  const decoded = await sharp(gif).flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer();
  const smoothedPng = await sharp(Buffer.from(paletteLowpass(decoded, W, H, 3, 0.1)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  const prepared = async (c: InspectorConfig, input: Buffer) => {
    await writeFile(cfgFile, JSON.stringify(c));
    const insp = await Inspector.load({ model });
    const prep = await insp.prepare(input);
    await insp.dispose();
    return prep;
  };
  const views = { fineLabels: ['defocus_blur' as const], fineTilesPerSide: 5, detailLabels: ['noise' as const] };
  const withLowpass = { ...cfg, ...views, paletteLowpass: 0.1 };
  const withoutLowpass = { ...cfg, ...views };
  const gifOn = await prepared(withLowpass, gif);
  assert.ok(gifOn.plan.scale < 1 && gifOn.fine && gifOn.detail, 'downscaled, with fine and detail tiles: the low-pass comes before both resizes and the native crop');
  const want = await prepared(withLowpass, smoothedPng);
  assert.deepEqual(gifOn.batch, want.batch, 'coverage tiles = those of the low-passed native pixels');
  assert.deepEqual(gifOn.fine!.batch, want.fine!.batch, 'fine tiles too');
  assert.deepEqual(gifOn.detail!.batch, want.detail!.batch, 'and the native-scale detail tiles');
  const gifOff = await prepared(withoutLowpass, gif);
  assert.notDeepEqual(gifOff.batch, gifOn.batch, 'without the setting the GIF is tiled as it is');
  assert.deepEqual(gifOff.batch, (await prepared(withoutLowpass, await sharp(decoded, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer())).batch);
  const pngOn = await prepared(withLowpass, png);
  const pngOff = await prepared(withoutLowpass, png);
  assert.deepEqual(pngOn.batch, pngOff.batch, 'an RGB PNG is not a palette image');
  assert.deepEqual(pngOn.fine!.batch, pngOff.fine!.batch);
  assert.deepEqual(pngOn.detail!.batch, pngOff.detail!.batch);
});

test('Inspector.inspect returns the documented structure for paths and buffers', async () => {
  const { dir, model } = await tinyInspectorModel();
  const file = path.join(dir, 'a.jpg');
  await photo(file, 90, 50);
  const insp = await Inspector.load({ model });
  const r = await insp.inspect(file);
  assert.equal(r.scores.length, QUALITY_LABELS.length);
  for (const s of r.scores) {
    assert.ok(s.probability >= 0 && s.probability <= 1 && s.severity >= 0 && s.severity <= 1);
  }
  assert.equal(r.clean, r.labels.length === 0);
  assert.ok(r.labels.every((l) => l.probability >= 0.5));
  assert.deepEqual([r.tiles.rows, r.tiles.cols], [2, 3]);
  const fromBuffer = await insp.inspect(await readFile(file));
  assert.deepEqual(fromBuffer.scores, r.scores, 'a Buffer gives the same result as its path');
  await assert.rejects(insp.inspect(Buffer.from('definitely not an image'), { name: 'junk.jpg' }), /junk\.jpg: /);
  // A BMP (which libvips cannot read) named .png still works, through attnvision's own decoder.
  const rgb = new Uint8Array(40 * 30 * 3).map((_, i) => (i * 7) % 256);
  const bmp = path.join(dir, 'really_a_bmp.png');
  await writeFile(bmp, encodeBmp24(rgb, 40, 30));
  assert.equal((await insp.inspect(bmp)).scores.length, QUALITY_LABELS.length);
  await insp.dispose();
});

test('attnvision inspect --json: one object per file, per-file errors, heatmap and CSV report', async () => {
  const { dir, model } = await tinyInspectorModel();
  const good = path.join(dir, 'good.jpg');
  await photo(good, 64, 64);
  const bad = path.join(dir, 'broken.png');
  await writeFile(bad, Buffer.alloc(0));
  const heat = path.join(dir, 'heat.png');
  const csv = path.join(dir, 'report.csv');
  const r = spawnSync(process.execPath, [cli, 'inspect', good, bad, path.join(dir, 'missing.jpg'), '--json', '--model', model, '--heatmap', heat, '--report', csv], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  const rows = JSON.parse(r.stdout) as { file: string; clean?: boolean; labels?: unknown[]; error?: string }[];
  assert.equal(rows.length, 3);
  assert.equal(rows[0]!.file, good);
  assert.equal(typeof rows[0]!.clean, 'boolean');
  assert.ok(Array.isArray(rows[0]!.labels));
  assert.match(rows[1]!.error!, /empty|not a supported|corrupt/);
  assert.match(rows[2]!.error!, /no such file/);
  assert.ok((await stat(heat.replace('.png', '-good.png'))).size > 1000, 'heatmap written');
  const lines = (await readFile(csv, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^file,clean,defocus_blur_probability,defocus_blur_severity/);
  const bad2 = spawnSync(process.execPath, [cli, 'inspect', good, '--threshold', '2', '--model', model], { encoding: 'utf8' });
  assert.equal(bad2.status, 1);
  assert.match(bad2.stderr, /expected a number in \(0, 1\) for --threshold but received "2"/);
  // The CLI, the service and the library accept the same open interval (0, 1).
  const near1 = spawnSync(process.execPath, [cli, 'inspect', good, '--threshold', '0.9999999', '--json', '--model', model], { encoding: 'utf8' });
  assert.equal(near1.status, 0, near1.stderr);
  assert.equal((JSON.parse(near1.stdout) as { clean: boolean }[])[0]!.clean, true);
  const insp = await Inspector.load({ model });
  for (const t of [0, 1, 5, Number.NaN]) await assert.rejects(insp.inspect(good, { threshold: t }), /threshold must be a number in \(0, 1\); got /);
  await insp.dispose();
});

test('Inspector: transparency is composited onto white; thin strips, SVG, corrupt JPEG and a non-.onnx model are named errors', async () => {
  const { dir, model } = await tinyInspectorModel();
  const w = 64;
  const h = 48;
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([(i * 7) % 256, (i * 3) % 256, 40, i % 3 === 0 ? 0 : 90], i * 4);
  const alpha = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
  const onWhite = await sharp(alpha).flatten({ background: '#ffffff' }).png().toBuffer();
  const insp = await Inspector.load({ model });
  assert.deepEqual((await insp.inspect(alpha)).scores, (await insp.inspect(onWhite)).scores, 'as seen on white');
  const strip = path.join(dir, 'strip.png');
  await sharp({ create: { width: 1, height: 600, channels: 3, background: '#808080' } }).png().toFile(strip);
  await assert.rejects(insp.inspect(strip), /strip\.png: image is 1x600 px: too thin to inspect/);
  const svg = path.join(dir, 'local.svg');
  await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image xlink:href="secret.png" width="64" height="64"/></svg>');
  await assert.rejects(insp.inspect(svg), /local\.svg: unsupported format: SVG/);
  const jpg = Buffer.from(await sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080' } }).composite([{ input: await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer(), tile: true }]).jpeg({ quality: 95 }).toBuffer());
  jpg.fill(0xff, jpg.length >> 2, (jpg.length >> 2) + 400);
  await assert.rejects(insp.inspect(jpg, { name: 'upload.jpg' }), /upload\.jpg: truncated or corrupt data \(/);
  await insp.dispose();
  await assert.rejects(Inspector.load({ model: strip }), /strip\.png: expected an \.onnx inspector model/);
});

test('heatmap file names: one input keeps the name; several get -<name>, repeats -2, -3', () => {
  assert.deepEqual([...heatmapPaths('out/h.png', ['a/x.jpg'])], [['a/x.jpg', 'out/h.png']]);
  assert.deepEqual([...heatmapPaths('out/h.png', ['a/x.jpg', 'b/x.png', 'c/x.jpg', 'y.jpg']).values()], ['out/h-x.png', 'out/h-x-2.png', 'out/h-x-3.png', 'out/h-y.png']);
  // Panels: 320 wide, or narrower so a tall image's panel is at most 640 high.
  assert.deepEqual(panelSize(400, 300, 320), { pw: 320, ph: 240 });
  assert.deepEqual(panelSize(40, 4000, 320), { pw: 8, ph: 800 });
  assert.deepEqual(panelSize(40, 400, 320), { pw: 64, ph: 640 });
});

test('attnvision inspect: outputs checked before work, heatmaps never overwrite, folders report what they lack', async () => {
  const { dir, model } = await tinyInspectorModel();
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const empty = path.join(dir, 'empty');
  await Promise.all([mkdir(a), mkdir(b), mkdir(empty)]);
  await photo(path.join(a, 'same.jpg'), 64, 64);
  await photo(path.join(b, 'same.jpg'), 70, 60);
  const cr = path.join(b, 'cr\rname.jpg');
  await photo(cr, 64, 64);
  await symlink(path.join(a, 'same.jpg'), path.join(b, 'linked.jpg'));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'inspect', ...args, '--model', model], { encoding: 'utf8' });

  // Outputs that cannot be written are refused before any image is looked at.
  const dirCsv = path.join(dir, 'isdir.csv');
  await mkdir(dirCsv);
  const toDir = run(a, '--report', dirCsv);
  assert.equal(toDir.status, 1);
  assert.match(toDir.stderr, /--report .*isdir\.csv is a folder/);
  assert.equal(toDir.stdout, '', 'nothing inspected');
  assert.match(run(a, '--heatmap', path.join(dir, 'h.jpg')).stderr, /expected a \.png file for --heatmap/);
  const self = path.join(dir, 'self.png');
  await photo(self, 64, 64);
  assert.match(run(self, '--heatmap', self).stderr, /--heatmap .*self\.png would overwrite the input/);

  // Same-named photos get their own heatmaps; a linked photo is found; an empty folder is an error entry.
  const heat = path.join(dir, 'maps', 'h.png');
  const jsonl = path.join(dir, 'r.jsonl');
  const r = run(a, b, empty, '--json', '--heatmap', heat, '--report', jsonl);
  assert.equal(r.status, 3, r.stderr);
  const rows = JSON.parse(r.stdout) as { file: string; clean: boolean | null; labels: unknown[]; error?: string }[];
  assert.deepEqual(rows.map((x) => path.relative(dir, x.file)), ['a/same.jpg', 'b/cr\rname.jpg', 'b/linked.jpg', 'b/same.jpg', 'empty']);
  assert.deepEqual(rows[4], { file: empty, clean: null, labels: [], error: rows[4]!.error });
  assert.match(rows[4]!.error!, /no images in this folder/);
  assert.deepEqual((await readdir(path.join(dir, 'maps'))).sort(), ['h-cr\rname.png', 'h-linked.png', 'h-same-2.png', 'h-same.png']);
  const reportRows = (await readFile(jsonl, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { labels: unknown[]; scores?: unknown[] });
  assert.equal(reportRows[0]!.scores!.length, QUALITY_LABELS.length, 'JSONL rows carry every score');
  assert.deepEqual(reportRows[0]!.labels, rows[0]!.labels, 'and the labels found, as --json');

  // CSV: a file name with a carriage return is quoted, so the file parses as 1 + 4 rows.
  const csv = path.join(dir, 'r.csv');
  assert.equal(run(b, '--report', csv).status, 0);
  const text = await readFile(csv, 'utf8');
  assert.ok(text.includes(`"${cr}"`), 'quoted');
  assert.equal(text.replace(/"[^"]*"/g, '').trim().split('\n').length, 4);
});

test('Inspector.load refuses a damaged config or a config that does not fit the model, naming the file and field', async () => {
  const { dir, model } = await tinyInspectorModel();
  const cfgFile = path.join(dir, 'inspector.json');
  const good = JSON.parse(await readFile(cfgFile, 'utf8')) as Record<string, unknown>;
  const cases: [Record<string, unknown> | null, RegExp][] = [
    [null, /inspector\.json: the config must be a JSON object; got null/],
    [{ ...good, threshold: undefined }, /inspector\.json: threshold must be a number in \(0, 1\); got nothing/],
    [{ ...good, threshold: 5 }, /threshold must be a number in \(0, 1\); got 5/],
    [{ ...good, threshold: '0.5' }, /threshold must be a number in \(0, 1\); got "0\.5"/],
    [{ ...good, topK: undefined }, /topK must be an integer >= 1/],
    [{ ...good, topK: 0 }, /topK must be an integer >= 1 \(tiles averaged per label; or labelTopFraction\); got 0/],
    [{ ...good, std: [0, 0, 0] }, /std must be three positive numbers/],
    [{ ...good, mean: [0.5] }, /mean must be three numbers/],
    [{ ...good, mean: undefined }, /mean must be three numbers \(R, G, B\); got nothing/],
    [{ ...good, inputSize: '32' }, /inputSize must be an integer tile side/],
    [{ ...good, inputSize: 32.5 }, /inputSize must be an integer tile side/],
    [{ ...good, maxTilesPerSide: undefined }, /maxTilesPerSide must be an integer in \[1, 16\]/],
    [{ ...good, maxTilesPerSide: 1000 }, /maxTilesPerSide must be an integer in \[1, 16\]; got 1000/],
    [{ ...good, severityHead: 'no' }, /severityHead must be true or false/],
    [{ ...good, labels: ['a', 'a'] }, /labels must be a list of distinct label names/],
    [{ ...good, labelThresholds: [0.5, null, 0.5, 0.5, 0.5, 0.5, 0.5] }, /labelThresholds must be 7 numbers in \(0, 1\)/],
    [{ ...good, paletteLowpass: 0.5 }, /paletteLowpass must be a number in \(0, 1\/3\] \(the low-pass weight for palette images\); got 0\.5/],
    [{ ...good, paletteLowpass: 0 }, /paletteLowpass must be a number in \(0, 1\/3\]/],
    // Fits the JSON rules but not the model: 14 outputs per tile.
    [{ ...good, labels: ['noise', 'jpeg'] }, /inspector\.onnx: the model gives 14 outputs per tile, but .*inspector\.json needs 4 \(2 labels and their severities\)/],
    [{ ...good, severityHead: false }, /the model gives 14 outputs per tile, but .* needs 7 \(7 labels\)/],
    [{ ...good, inputSize: 64 }, /inspector\.onnx: the model does not take 64 x 64 tiles \(inputSize in .*inspector\.json\)/],
  ];
  for (const [cfg, want] of cases) {
    await writeFile(cfgFile, JSON.stringify(cfg));
    await assert.rejects(Inspector.load({ model }), want, JSON.stringify(cfg));
  }
  // Optional fields may be null; topK may be left out when every label has its tile share.
  for (const ok of [{ ...good, labelThresholds: null, labelTopFraction: null, detailLabels: null, paletteLowpass: null }, { ...good, topK: undefined, labelTopFraction: [1, 1, 0.5, 1, 1, 1, 0.25] }]) {
    await writeFile(cfgFile, JSON.stringify(ok));
    await (await Inspector.load(model)).dispose();
  }
  // A byte-order mark is tolerated; a path string is the model; a missing model is named as the model.
  await writeFile(cfgFile, '\uFEFF' + JSON.stringify(good));
  const insp = await Inspector.load(model);
  assert.equal(insp.modelPath, model);
  await insp.dispose();
  await assert.rejects(Inspector.load(path.join(dir, 'nope.onnx')), /nope\.onnx: cannot read inspector model \(file not found\)/);
  for (const threads of [-1, 1.5, Number.NaN, 100000]) await assert.rejects(Inspector.load({ model, threads }), /Inspector\.load: threads must be an integer in \[1, 256\]/);
});

test('inspect: paths, file: URLs, Buffers, Uint8Arrays and ArrayBuffers give the same result; other inputs and bad options are named', async () => {
  const { dir, model } = await tinyInspectorModel();
  const file = path.join(dir, 'photo.png');
  await sharp({ create: { width: 50, height: 40, channels: 3, background: '#a85' } }).png().toFile(file);
  const bytes = await readFile(file);
  const insp = await Inspector.load(model);
  const want = (await insp.inspect(file)).scores;
  const u8 = new Uint8Array(bytes);
  for (const input of [pathToFileURL(file), pathToFileURL(file).href, bytes, u8, u8.buffer]) assert.deepEqual((await insp.inspect(input)).scores, want, String(input));
  for (const bad of [42, undefined, null, { path: file }]) await assert.rejects(insp.inspect(bad as never), /inspect: expected an image path, file: URL, Buffer, Uint8Array or ArrayBuffer but received /);
  await assert.rejects(insp.inspect(''), /expected an image path but received an empty string/);
  await assert.rejects(insp.inspect(new URL('https://example.com/x.jpg')), /only file: URLs can be read/);
  for (const maxPixels of [-1, 0, 1.5, Number.NaN, -Infinity]) await assert.rejects(insp.inspect(file, { maxPixels }), /inspect: maxPixels must be a positive integer \(or Infinity\)/);
  assert.deepEqual((await insp.inspect(file, { maxPixels: Infinity })).scores, want, 'maxPixels Infinity = no limit, as in readImage');
  await assert.rejects(insp.inspect(file, { maxPixels: 1999 }), /50x40 = 2000 pixels, above the limit of 1999/);
  assert.deepEqual((await insp.inspect(file, null)).scores, want, 'null options = none');
  assert.equal((await import('../../src/index.js')).Inspector, Inspector, "the package root exports the inspector ('attnvision')");
  await insp.dispose();
  await insp.dispose(); // a second dispose does nothing
});
