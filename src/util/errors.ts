/**
 * Error types and the one helper for invalid-argument messages.
 *
 * Every message has the same form: where it happened, what was expected, what was received.
 */

/** Base class for all attnvision errors, so callers can `instanceof AttnvisionError`. */
export class AttnvisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor shape or dtype does not fit an op. Message: `<scope>: <op> <shapes>: <reason>`. */
export class ShapeError extends AttnvisionError {}

/** A user-supplied argument is invalid (option value, config field). */
export class ArgumentError extends AttnvisionError {}

/** A checkpoint or state dict does not match a model. */
export class StateDictError extends AttnvisionError {}

/** A decimal number ("1e-3", "-2", ".5"); NaN for anything else (Number() would read "" as 0 and "0x10" as 16). */
export function parseDecimal(v: string): number {
  return /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : NaN;
}

/** Describes a value for an error message without dumping huge arrays. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return value.length > 16 ? `array(${value.length})` : `[${value.map(describe).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length: number }).length})`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `${(value as object).constructor?.name ?? 'object'}`;
  return String(value);
}

/**
 * Throws an ArgumentError: "<where>: expected <expected> for <name> but received <value>".
 */
export function invalidArg(where: string, name: string, expected: string, received: unknown): never {
  const prefix = where ? `${where}: ` : '';
  throw new ArgumentError(`${prefix}expected ${expected} for ${name} but received ${describe(received)}`);
}

/** Asserts an integer in [min, max]. */
export function checkInt(where: string, name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = min === -Infinity && max === Infinity ? '' : max === Infinity ? ` >= ${min}` : ` in [${min}, ${max}]`;
    invalidArg(where, name, `integer${range}`, value);
  }
  return value;
}

/** Refuses keys of an options object that `where` does not know (a typo such as "betas" is otherwise silently ignored). */
export function checkKeys(where: string, opts: object | undefined | null, known: readonly string[]): void {
  if (opts === undefined || opts === null) return;
  if (typeof opts !== 'object') invalidArg(where, 'options', `an object with keys ${known.join(', ')}`, opts);
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length) throw new ArgumentError(`${where}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${known.join(', ')})`);
}

/** Asserts a finite number in [min, max]. */
export function checkNumber(where: string, name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = min === -Infinity && max === Infinity ? '' : ` in [${min}, ${max}]`;
    invalidArg(where, name, `finite number${range}`, value);
  }
  return value;
}
