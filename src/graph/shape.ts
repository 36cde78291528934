/**
 * Shape arithmetic shared by op shape rules: sizes, numpy broadcasting, axis normalisation.
 */

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy broadcasting of any number of shapes; returns null when incompatible. */
export function broadcastShapes(...shapes: Shape[]): number[] | null {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) return null;
    }
  }
  return out;
}

/** Normalises a possibly negative axis; returns null when out of range. */
export function normAxis(axis: number, rank: number): number | null {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : null;
}

/** Strides (row-major) of a shape. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** A shape: an array of integers >= 0. */
export function isShape(shape: unknown): shape is Shape {
  return Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
}
