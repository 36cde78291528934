/**
 * The CLI command contract and a tiny argument parser shared by all commands.
 */
import { ArgumentError, parseDecimal } from '../util/errors.js';

export { parseDecimal };

export interface Command {
  /** Subcommand name, e.g. `synth`. */
  name: string;
  /** One line for `attnvision --help`. */
  summary: string;
  /** Full usage text for `attnvision <name> --help`. */
  usage: string;
  /** Runs the command; returns the process exit code. */
  run(argv: string[]): Promise<number>;
  /** What to do after Ctrl-C / SIGTERM (printed with "interrupted"), e.g. how to resume. */
  interruptHint?: string;
  /** The command handles SIGINT/SIGTERM itself (serve: finish requests in flight). */
  handlesSignals?: boolean;
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/**
 * Parses `--flag value`, `--flag=value` and boolean `--flag` (for names listed in `booleans`).
 * Unknown flags are an error naming the flag, so typos never pass silently; so are more than
 * `positional` plain arguments (default: any number).
 */
export function parseArgs(argv: string[], spec: { values?: string[]; booleans?: string[]; positional?: number }, where: string): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const booleans = new Set([...(spec.booleans ?? []), 'help']);
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') {
      flags.set('help', true);
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (booleans.has(name)) {
        if (eq >= 0) throw new ArgumentError(`${where}: flag --${name} takes no value`);
        flags.set(name, true);
      } else if (values.has(name)) {
        const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new ArgumentError(`${where}: flag --${name} needs a value`);
        flags.set(name, v);
      } else {
        throw new ArgumentError(`${where}: unknown flag --${name} (see attnvision ${where} --help)`);
      }
    } else {
      positional.push(a);
    }
  }
  if (spec.positional !== undefined && positional.length > spec.positional) {
    throw new ArgumentError(`${where}: unexpected argument "${positional[spec.positional]}" (see attnvision ${where} --help)`);
  }
  return { positional, flags };
}

export function flagString(p: ParsedArgs, name: string, dflt?: string): string | undefined {
  const v = p.flags.get(name);
  return v === undefined || v === true ? dflt : v;
}

/** A comma-list flag: its trimmed, non-empty items (undefined when the flag is absent). */
export function flagList(p: ParsedArgs, name: string): string[] | undefined {
  return flagString(p, name)?.split(',').map((x) => x.trim()).filter(Boolean);
}

/** A number flag; `open` makes both bounds exclusive ("in (0, 1)"). */
export function flagNumber(p: ParsedArgs, name: string, dflt: number, where: string, opts: { int?: boolean; min?: number; max?: number; open?: boolean } = {}): number {
  const v = p.flags.get(name);
  if (v === undefined || v === true) return dflt;
  const n = parseDecimal(v);
  const below = opts.min !== undefined && (opts.open ? n <= opts.min : n < opts.min);
  const above = opts.max !== undefined && (opts.open ? n >= opts.max : n > opts.max);
  if (!Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || below || above) {
    const [lo, hi] = opts.open ? ['(', ')'] : ['[', ']'];
    const range = opts.min !== undefined || opts.max !== undefined ? ` in ${lo}${opts.min ?? '-inf'}, ${opts.max ?? 'inf'}${hi}` : '';
    throw new ArgumentError(`${where}: expected ${opts.int ? 'an integer' : 'a number'}${range} for --${name} but received "${v}"`);
  }
  return n;
}
