import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  widenHeldOut, photoKind, readPhotoSplitFile, writePhotoSplitFile, PhotoSplitError, mergeManifests, ManifestMergeError, synthesize, deadLeaves,
  type PhotoInfo, type Split, type ManifestEntry,
} from '../../src/data/synth/index.js';
import { encodeJpeg } from '../../src/image/io.js';

async function tmpDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'av-split-'));
}

/** 40 photos: t00-t29 train, v00-v04 val, s00-s04 test; sizes and notes vary by index. */
function fixture(): { base: Map<string, Split>; photos: PhotoInfo[]; notes: Map<string, string> } {
  const base = new Map<string, Split>();
  const photos: PhotoInfo[] = [];
  const notes = new Map<string, string>();
  for (let i = 0; i < 40; i++) {
    const name = i < 30 ? `t${String(i).padStart(2, '0')}.jpg` : i < 35 ? `v${i - 30}.jpg` : `s${i - 35}.jpg`;
    base.set(name, i < 30 ? 'train' : i < 35 ? 'val' : 'test');
    // Every fifth training photo small; t01, t11, t21 bokeh; t02, t12 grainy; t03..t09 odd: texture; t04, t14: sky.
    photos.push({ name, width: 1000, height: i < 30 && i % 5 === 0 ? 400 : 700 });
    const n = i % 10;
    notes.set(name, n === 1 ? 'intentional shallow depth of field' : n === 2 ? 'old scan: visible grain' : n === 3 || n === 7 ? 'texture (stone)' : n === 4 ? 'sky/clouds only' : '');
  }
  return { base, photos, notes };
}

test('photoKind: own problems first, then texture, sky or low detail, dark grading, else scene', () => {
  assert.equal(photoKind('texture with grain', true), 'own-problem');
  assert.equal(photoKind('texture (stone wall)', false), 'texture');
  assert.equal(photoKind('sky/clouds only', false), 'sky');
  assert.equal(photoKind('very low detail lake', false), 'sky');
  assert.equal(photoKind('dark low-key grading', false), 'dark');
  assert.equal(photoKind('', false), 'scene');
});

test('widenHeldOut: held-out photos stay, only large sharp training photos move, quotas met, kinds in proportion, seeded', () => {
  const { base, photos, notes } = fixture();
  const out = widenHeldOut(base, photos, notes, { toVal: 6, toTest: 3, minSide: 600, seed: 1 });
  assert.equal(out.kind, 'photo-split');
  for (const [p, s] of base) if (s !== 'train') assert.equal(out.splits[p], s, `${p} stays ${s}`);
  assert.equal(out.moved.length, 9);
  assert.equal(out.moved.filter((m) => m.split === 'val').length, 6);
  assert.equal(out.moved.filter((m) => m.split === 'test').length, 3);
  const small = new Set(photos.filter((p) => Math.min(p.width, p.height) < 600).map((p) => p.name));
  for (const m of out.moved) {
    assert.equal(base.get(m.photo), 'train');
    assert.equal(out.splits[m.photo], m.split);
    assert.ok(!small.has(m.photo), `${m.photo} is too small to move`);
    assert.ok(!/shallow/.test(notes.get(m.photo)!), `${m.photo} is partly blurred`);
  }
  const counts = (s: Split) => Object.values(out.splits).filter((x) => x === s).length;
  assert.deepEqual([counts('train'), counts('val'), counts('test')], [21, 11, 8]);
  // Candidates: t03,t07,t13,t17,t23,t27 texture (6); t02,t12,t22 own (3); t04,t14,t24 sky (3);
  // t06,t08,t09,t16,t18,t19,t26,t28,t29 scene (9): 21 in all. 9 drawn in proportion: scene
  // 9/21 -> 4, texture 6/21 -> 2 or 3, own and sky 1 or 2 each.
  const byKind = (k: string) => out.moved.filter((m) => m.kind === k).length;
  assert.equal(byKind('scene'), 4);
  assert.ok(byKind('texture') >= 2 && byKind('texture') <= 3, String(byKind('texture')));
  assert.ok(byKind('own-problem') >= 1 && byKind('sky') >= 1);
  assert.deepEqual(widenHeldOut(base, photos, notes, { toVal: 6, toTest: 3, minSide: 600, seed: 1 }), out, 'same seed, same split');
  assert.notDeepEqual(widenHeldOut(base, photos, notes, { toVal: 6, toTest: 3, minSide: 600, seed: 2 }).moved, out.moved);
  assert.equal(widenHeldOut(base, photos, notes, { toVal: 2, toTest: 0, minSide: 600, seed: 1 }).moved.every((m) => m.split === 'val'), true);
});

test('widenHeldOut: too few candidates, a photo without a split or a bad count are errors that say so', () => {
  const { base, photos, notes } = fixture();
  assert.throws(() => widenHeldOut(base, photos, notes, { toVal: 20, toTest: 2, minSide: 600, seed: 1 }), (e: Error) => e instanceof PhotoSplitError && /22 training photos to move but only 21 have a short side >= 600 px/.test(e.message));
  assert.throws(() => widenHeldOut(base, [...photos, { name: 'new.jpg', width: 900, height: 900 }], notes, { toVal: 1, toTest: 1, minSide: 600, seed: 1 }), /no split for 1 photo\(s\) of the folder: new\.jpg/);
  assert.throws(() => widenHeldOut(base, photos, notes, { toVal: -1, toTest: 1, minSide: 600, seed: 1 }), /expected toVal to be a whole number >= 0 but received -1/);
});

test('photo split files: written atomically, read back; bad files named', async () => {
  const dir = await tmpDir();
  const { base, photos, notes } = fixture();
  const split = widenHeldOut(base, photos, notes, { toVal: 2, toTest: 1, minSide: 600, seed: 3 });
  const file = path.join(dir, 'split.json');
  await writePhotoSplitFile(file, split);
  assert.deepEqual(Object.fromEntries(await readPhotoSplitFile(file)), split.splits);
  assert.deepEqual(await fs.readdir(dir), ['split.json']);
  await fs.writeFile(file, JSON.stringify({ ...split, splits: { ...split.splits, 't00.jpg': 'dev' } }));
  await assert.rejects(readPhotoSplitFile(file), (e: Error) => e instanceof PhotoSplitError && e.message.includes(`${file}: photo t00.jpg: expected one of train, val, test but found "dev"`));
  await fs.writeFile(file, JSON.stringify({ version: 1, seed: 1, photos: [] }));
  await assert.rejects(readPhotoSplitFile(file), /not a photo split file \(no "kind": "photo-split"\)/);
  await assert.rejects(readPhotoSplitFile(path.join(dir, 'none.json')), /cannot read the photo split file \(ENOENT\)/);
});

test('a photo split file drives synth --splits-from, and merge --splits drops the lines of photos that moved', async () => {
  const photos = await tmpDir();
  for (let i = 0; i < 10; i++) await fs.writeFile(path.join(photos, `p${i}.jpg`), await encodeJpeg(deadLeaves(70 + i, { size: 160 }), { quality: 95 }));
  const names = Array.from({ length: 10 }, (_, i) => `p${i}.jpg`);
  const splitOf = (i: number): Split => (i < 6 ? 'train' : i < 8 ? 'val' : 'test');
  const base = new Map(names.map((n, i) => [n, splitOf(i)] as const));
  const infos = names.map((name) => ({ name, width: 160, height: 160 }));
  const widened = widenHeldOut(base, infos, new Map(), { toVal: 1, toTest: 1, minSide: 100, seed: 5 });
  const splitFile = path.join(await tmpDir(), 'split.json');
  await writePhotoSplitFile(splitFile, widened);
  // Samples made on the base split (as an old training sample was) ...
  const old = await tmpDir();
  const baseFile = path.join(await tmpDir(), 'base.json');
  await writePhotoSplitFile(baseFile, { ...widened, splits: Object.fromEntries(base), moved: [] });
  await synthesize({ out: old, perClass: 10, size: 64, seed: 2, photos, quiet: true, workers: 0, splitsFrom: baseFile });
  const oldLines = (await fs.readFile(path.join(old, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ManifestEntry);
  for (const l of oldLines) if (l.source.kind === 'photo') assert.equal(base.get(l.source.photo!), l.split);
  const movedNames = new Set(widened.moved.map((m) => m.photo));
  const onMoved = oldLines.filter((l) => l.source.kind === 'photo' && movedNames.has(l.source.photo!));
  assert.ok(onMoved.length > 0, 'some training samples used the photos that move');
  // ... filtered to the widened split: the moved photos' training lines go, the rest stay.
  const out = path.join(old, 'filtered.jsonl');
  const { kept, dropped } = await mergeManifests(out, [path.join(old, 'manifest.jsonl')], { splits: new Map(Object.entries(widened.splits)) });
  assert.equal(dropped, onMoved.length);
  assert.equal(kept, oldLines.length - onMoved.length);
  const rows = (await fs.readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ManifestEntry);
  assert.ok(rows.every((r) => r.source.kind !== 'photo' || widened.splits[r.source.photo!] === r.split));
  assert.ok(rows.some((r) => r.source.kind !== 'photo'), 'dead-leaves lines are kept');
  await assert.rejects(mergeManifests(out, [path.join(old, 'manifest.jsonl')], { splits: new Map([['p0.jpg', 'train']]) }), (e: Error) => e instanceof ManifestMergeError && /photo p\d\.jpg has no split in the photo split/.test(e.message));
  // A new dataset made on the widened split keeps its photos in their new splits.
  const fresh = await tmpDir();
  await synthesize({ out: fresh, perClass: 10, size: 64, seed: 3, photos, quiet: true, workers: 0, splitsFrom: splitFile, onlySplits: ['val', 'test'] });
  const freshLines = (await fs.readFile(path.join(fresh, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ManifestEntry);
  const photoLines = freshLines.filter((l) => l.source.kind === 'photo');
  assert.ok(photoLines.some((l) => movedNames.has(l.source.photo!)), 'the moved photos serve the held-out splits');
  for (const l of photoLines) assert.equal(widened.splits[l.source.photo!], l.split);
});
