/**
 * Model state in flat Float32 buffers: all parameters in one buffer and all buffers (running
 * statistics...) in another, laid out in state-dict order. A training step is then one ORT run with
 * a handful of inputs and outputs; the graph slices each parameter out of the flat buffer.
 */
import type { Module, Parameter, Buffer } from './module.js';
import { InitRng, hashString } from './init.js';
import { AttnvisionError, StateDictError } from '../util/errors.js';
import { fmtShape } from '../graph/shape.js';

export interface SlotLayout<T> {
  name: string;
  offset: number;
  shape: readonly number[];
  size: number;
  item: T;
}

export interface LoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  shapeMismatch: { name: string; expected: readonly number[]; got: readonly number[] }[];
}

export interface NamedArray {
  data: Float32Array;
  shape: readonly number[];
}

function layout<T extends { shape: readonly number[]; size: number }>(items: [string, T][]): { slots: SlotLayout<T>[]; total: number } {
  let offset = 0;
  const slots = items.map(([name, item]) => {
    const s = { name, offset, shape: item.shape, size: item.size, item };
    offset += item.size;
    return s;
  });
  return { slots, total: offset };
}

export class ModelState {
  readonly paramSlots: SlotLayout<Parameter>[];
  readonly bufferSlots: SlotLayout<Buffer>[];
  readonly params: Float32Array;
  readonly buffers: Float32Array;
  private readonly paramIndex: Map<Parameter, SlotLayout<Parameter>>;
  private readonly bufferIndex: Map<Buffer, SlotLayout<Buffer>>;

  constructor(readonly model: Module) {
    const p = layout(model.namedParameters());
    const b = layout(model.namedBuffers());
    this.paramSlots = p.slots;
    this.bufferSlots = b.slots;
    this.params = new Float32Array(p.total);
    this.buffers = new Float32Array(b.total);
    this.paramIndex = new Map(p.slots.map((s) => [s.item, s]));
    this.bufferIndex = new Map(b.slots.map((s) => [s.item, s]));
  }

  /** A state with every parameter and buffer initialised from `seed`. */
  static init(model: Module, seed = 0): ModelState {
    const st = new ModelState(model);
    st.reinit(seed);
    return st;
  }

  /** (Re)initialises all parameters and buffers, or only those whose name matches `filter`. */
  reinit(seed: number, filter?: (name: string) => boolean): void {
    for (const s of this.paramSlots) {
      if (filter && !filter(s.name)) continue;
      this.params.set(initValues(s, s.item.init(s.shape, new InitRng(hashString(s.name) ^ Math.imul(seed + 1, 0x9e3779b1)))), s.offset);
    }
    for (const s of this.bufferSlots) {
      if (filter && !filter(s.name)) continue;
      this.buffers.set(initValues(s, s.item.init(s.shape, new InitRng(hashString(s.name) ^ seed))), s.offset);
    }
  }

  get numParams(): number {
    return this.params.length;
  }

  paramSlot(p: Parameter): SlotLayout<Parameter> | undefined {
    return this.paramIndex.get(p);
  }

  bufferSlot(b: Buffer): SlotLayout<Buffer> | undefined {
    return this.bufferIndex.get(b);
  }

  /** A view (no copy) of one parameter's values. */
  paramView(name: string): Float32Array {
    const s = this.paramSlots.find((x) => x.name === name);
    if (!s) throw new StateDictError(`no parameter named "${name}"`);
    return this.params.subarray(s.offset, s.offset + s.size);
  }

  /** Parameters then buffers, by state-dict name (views, no copy). */
  stateDict(): Map<string, NamedArray> {
    const out = new Map<string, NamedArray>();
    for (const s of this.paramSlots) out.set(s.name, { data: this.params.subarray(s.offset, s.offset + s.size), shape: s.shape });
    for (const s of this.bufferSlots) out.set(s.name, { data: this.buffers.subarray(s.offset, s.offset + s.size), shape: s.shape });
    return out;
  }

  /**
   * Copies matching entries in. With `strict` (default), any missing, unexpected or mis-shaped
   * entry throws a StateDictError listing every mismatch; otherwise the report says what was skipped.
   */
  loadStateDict(entries: ReadonlyMap<string, NamedArray>, opts: { strict?: boolean; source?: string } = {}): LoadReport {
    const report: LoadReport = { loaded: [], missing: [], unexpected: [], shapeMismatch: [] };
    const slots = new Map<string, { target: Float32Array; offset: number; shape: readonly number[]; size: number }>();
    for (const s of this.paramSlots) slots.set(s.name, { target: this.params, offset: s.offset, shape: s.shape, size: s.size });
    for (const s of this.bufferSlots) slots.set(s.name, { target: this.buffers, offset: s.offset, shape: s.shape, size: s.size });
    for (const [name, v] of entries) {
      const slot = slots.get(name);
      if (!slot) {
        report.unexpected.push(name);
        continue;
      }
      if (v.shape.length !== slot.shape.length || v.shape.some((d, i) => d !== slot.shape[i]) || v.data.length !== slot.size) {
        report.shapeMismatch.push({ name, expected: slot.shape, got: v.shape });
        continue;
      }
      report.loaded.push(name);
    }
    for (const name of slots.keys()) if (!entries.has(name)) report.missing.push(name);
    const bad = report.missing.length + report.unexpected.length + report.shapeMismatch.length;
    if (bad && (opts.strict ?? true)) throw new StateDictError(formatLoadReport(report, opts.source));
    for (const name of report.loaded) {
      const slot = slots.get(name)!;
      slot.target.set(entries.get(name)!.data, slot.offset);
    }
    return report;
  }
}

/** Human-readable list of every mismatch. */
export function formatLoadReport(r: LoadReport, source = 'state dict'): string {
  const lines = [`${source} does not match the model:`];
  if (r.missing.length) lines.push(`  missing (${r.missing.length}): ${r.missing.join(', ')}`);
  if (r.unexpected.length) lines.push(`  unexpected (${r.unexpected.length}): ${r.unexpected.join(', ')}`);
  for (const m of r.shapeMismatch) lines.push(`  shape mismatch: ${m.name}: model ${fmtShape(m.expected)}, file ${fmtShape(m.got)}`);
  return lines.join('\n');
}

/** An initializer's values for a slot: exactly one per element (too few would leave zeros, too many overwrite the next slot). */
function initValues(slot: { name: string; shape: readonly number[]; size: number }, values: ArrayLike<number>): ArrayLike<number> {
  if (values?.length !== slot.size) throw new AttnvisionError(`${slot.name}: its initializer gave ${values?.length ?? 'no'} values for shape ${JSON.stringify(slot.shape)} (${slot.size} values)`);
  return values;
}
