/**
 * Multi-degradation synthesis in physical order. Each requested degradation samples its parameters
 * from its own forked random stream (`rng.fork(name)`), so adding a label to a recipe never changes
 * the parameters of the others; then all phases run sorted by stage
 * (scene -> optics -> sensor -> compression) and, within a stage, by registry order.
 */
import type { ImageF32 } from '../image/tensor.js';
import { invalidArg } from '../util/errors.js';
import { sampleChecked } from './define.js';
import type { Rng } from './rng.js';
import { STAGES, type DegradationDef, type DegradationName, type Phase } from './types.js';

export interface RecipeItem {
  name: DegradationName;
  /** Severity in [0, 1]. */
  severity: number;
  /** Parameter overrides (the rest is sampled). */
  params?: Record<string, unknown>;
}

export interface AppliedDegradation {
  name: DegradationName;
  severity: number;
  /** Every parameter used. */
  params: Record<string, unknown>;
}

export async function combine(
  registry: Readonly<Record<DegradationName, DegradationDef>>,
  order: readonly DegradationName[],
  img: ImageF32,
  recipe: readonly RecipeItem[],
  rng: Rng,
): Promise<{ image: ImageF32; applied: AppliedDegradation[] }> {
  if (!Array.isArray(recipe)) invalidArg('applyDegradations', 'recipe', 'an array of { name, severity, params? }', recipe);
  if (!rng || typeof (rng as Partial<Rng>).fork !== 'function') invalidArg('applyDegradations', 'rng', 'an Rng (new Rng(seed))', rng);
  const seen = new Set<string>();
  const planned: { def: DegradationDef; params: object; item: RecipeItem; rng: Rng }[] = [];
  for (const item of recipe) {
    if (typeof item !== 'object' || item === null) invalidArg('applyDegradations', 'recipe item', '{ name, severity, params? }', item);
    const def = Object.prototype.hasOwnProperty.call(registry, item.name) ? registry[item.name as DegradationName] : undefined;
    if (!def) invalidArg('applyDegradations', 'name', `one of ${order.join(', ')}`, item.name);
    if (seen.has(item.name)) invalidArg('applyDegradations', 'recipe', 'each degradation at most once', item.name);
    seen.add(item.name);
    const r = rng.fork(item.name);
    planned.push({ def, item, rng: r, params: sampleChecked(def, img, item.severity, r, item.params as Partial<object>, 'applyDegradations') });
  }
  const steps: { phase: Phase<object>; params: object; rng: Rng; rank: number }[] = [];
  for (const p of planned) {
    for (const phase of p.def.phases) {
      steps.push({ phase, params: p.params, rng: p.rng, rank: STAGES.indexOf(phase.stage) * 100 + order.indexOf(p.def.name) });
    }
  }
  steps.sort((a, b) => a.rank - b.rank);
  let out = img;
  for (const s of steps) out = await s.phase.run(out, s.params, s.rng);
  // Applied list in physical order of each degradation's first phase.
  const applied = planned
    .map((p) => ({ name: p.item.name, severity: p.item.severity, params: p.params as Record<string, unknown>, rank: Math.min(...p.def.phases.map((ph) => STAGES.indexOf(ph.stage) * 100 + order.indexOf(p.def.name))) }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ name, severity, params }) => ({ name, severity, params }));
  return { image: out, applied };
}
