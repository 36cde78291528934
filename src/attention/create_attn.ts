/**
 * One factory for the CNN attention modules (timm's create_attn): every module takes `channels`
 * first and an options object sharing the same vocabulary (`rdRatio`, `rdChannels`,
 * `returnAttention`), so `createAttn('gc', 256)` works for any type.
 *
 * Example:
 *   const se = createAttn('se', 256, { rdRatio: 16 });
 *   const nl = createAttn('nl', 512, { mode: 'dot_product', subSample: true });
 */
import type { Module } from '../nn/module.js';
import { invalidArg } from '../util/errors.js';
import { SqueezeExcite, type SqueezeExciteOptions } from './squeeze_excite.js';
import { GlobalContext, type GlobalContextOptions } from './global_context.js';
import { NonLocal, type NonLocalOptions } from './non_local.js';
import { SelfAttention2d, type SelfAttention2dOptions } from './sagan.js';
import { Lesa, type LesaOptions } from './lesa.js';

/** Options per attention type. */
export interface AttnOptionsByType {
  se: SqueezeExciteOptions;
  gc: GlobalContextOptions;
  /** GCNet's simplified non-local block (GlobalContext with variant 'snl'). */
  snl: Omit<GlobalContextOptions, 'variant'>;
  nl: NonLocalOptions;
  sagan: SelfAttention2dOptions;
  lesa: LesaOptions;
}
export type AttnType = keyof AttnOptionsByType;

const FACTORIES: { [K in AttnType]: (channels: number, opts: AttnOptionsByType[K]) => Module } = {
  se: (c, o) => new SqueezeExcite(c, o),
  gc: (c, o) => new GlobalContext(c, o),
  snl: (c, o) => new GlobalContext(c, { ...o, variant: 'snl' }),
  nl: (c, o) => new NonLocal(c, o),
  sagan: (c, o) => new SelfAttention2d(c, o),
  lesa: (c, o) => new Lesa(c, o),
};

export const ATTN_TYPES = Object.keys(FACTORIES) as AttnType[];

/** Creates an attention module of `type` over `channels` channels. */
export function createAttn<K extends AttnType>(type: K, channels: number, ...opts: K extends 'lesa' ? [AttnOptionsByType[K]] : [AttnOptionsByType[K]?]): Module {
  const make = FACTORIES[type] as ((c: number, o: AttnOptionsByType[K]) => Module) | undefined;
  if (!make) invalidArg('createAttn', 'type', ATTN_TYPES.map((t) => `'${t}'`).join(' | '), type);
  return make(channels, (opts[0] ?? {}) as AttnOptionsByType[K]);
}
