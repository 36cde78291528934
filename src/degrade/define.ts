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

/**
 * The checked parameters of one degradation of `img`: severity in [0, 1], a well-formed image of
 * finite values, the sample with the caller's overrides, and the degradation's own check.
 */
export function sampleChecked<P extends object>(def: DegradationDef<P>, img: ImageF32, severity: number, rng: Rng, params?: Partial<P>, where: string = def.name): P {
  checkSeverity(def.name, severity);
  checkImage(where, img, { finite: true });
  const p = def.sample(severity, rng, img, params);
  def.check?.(p);
  return p;
}

export function defineSync<P extends object>(def: DegradationDef<P>): DegradeFn<P> {
  return (img: ImageF32, severity: number, rng: Rng, params?: Partial<P>) => {
    const p = sampleChecked(def, img, severity, rng, params);
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
    const p = sampleChecked(def, img, severity, rng, params);
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

/**
 * Applies `overrides` over sampled values, refusing keys the degradation does not have and values
 * of another kind than the sampled one (a number must be a finite number: null, true or "5" in
 * place of a number would leave the image unchanged or NaN). Undefined overrides are ignored.
 */
export function withOverrides<P extends object>(where: string, sampled: P, overrides?: Partial<P>): P {
  if (!overrides) return sampled;
  const given: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(overrides)) {
    if (!Object.prototype.hasOwnProperty.call(sampled, k)) invalidArg(where, 'params', `keys among ${Object.keys(sampled).join(', ')}`, k);
    if (v === undefined) continue;
    const was = (sampled as Record<string, unknown>)[k];
    const objectLike = was === null || typeof was === 'object';
    if (objectLike ? v !== null && typeof v !== 'object' : typeof v !== typeof was) invalidArg(where, `params.${k}`, objectLike ? 'an object, an array or null' : `a ${typeof was}`, v);
    checkFiniteLeaves(where, `params.${k}`, v);
    given[k] = v;
  }
  return { ...sampled, ...given };
}
