/**
 * Turns a DegradationDef into its public pure function: sample parameters from the severity (the
 * caller's overrides win), then run every phase in order. `defineSync` is for all-synchronous
 * degradations, `defineAsync` for those with an async phase (JPEG goes through sharp).
 */
import { checkImage, type ImageF32 } from '../image/tensor.js';
import { invalidArg } from '../util/errors.js';
import type { Rng } from './rng.js';
import type { AsyncDegradeFn, DegradationDef, DegradeFn } from './types.js';

export function checkSeverity(where: string, severity: number): number {
  if (typeof severity !== 'number' || !(severity >= 0 && severity <= 1)) invalidArg(where, 'severity', 'number in [0, 1]', severity);
  return severity;
}

export function defineSync<P extends object>(def: DegradationDef<P>): DegradeFn<P> {
  return (img: ImageF32, severity: number, rng: Rng, params?: Partial<P>) => {
    checkSeverity(def.name, severity);
    checkImage(def.name, img, { finite: true });
    const p = def.sample(severity, rng, img, params);
    def.check?.(p);
    let out = img;
    for (const ph of def.phases) {
      const r = ph.run(out, p, rng);
      if (r instanceof Promise) throw new Error(`${def.name}: phase ${ph.stage} is async; use defineAsync`);
      out = r;
    }
    return { image: out, params: p };
  };
}

export function defineAsync<P extends object>(def: DegradationDef<P>): AsyncDegradeFn<P> {
  return async (img: ImageF32, severity: number, rng: Rng, params?: Partial<P>) => {
    checkSeverity(def.name, severity);
    checkImage(def.name, img, { finite: true });
    const p = def.sample(severity, rng, img, params);
    def.check?.(p);
    let out = img;
    for (const ph of def.phases) out = await ph.run(out, p, rng);
    return { image: out, params: p };
  };
}

/** Every number inside an override (nested objects and arrays too) must be finite: a NaN gives a NaN image. */
function checkFiniteLeaves(where: string, name: string, v: unknown): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) invalidArg(where, name, 'a finite number', v);
  } else if (Array.isArray(v)) v.forEach((x, i) => checkFiniteLeaves(where, `${name}[${i}]`, x));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) checkFiniteLeaves(where, `${name}.${k}`, x);
}

/** Applies `overrides` over sampled values, refusing keys the degradation does not have. */
export function withOverrides<P extends object>(where: string, sampled: P, overrides?: Partial<P>): P {
  if (!overrides) return sampled;
  for (const k of Object.keys(overrides)) {
    if (!(k in sampled)) invalidArg(where, 'params', `keys among ${Object.keys(sampled).join(', ')}`, k);
    checkFiniteLeaves(where, `params.${k}`, (overrides as Record<string, unknown>)[k]);
  }
  return { ...sampled, ...overrides };
}
