/**
 * JSON Lines reading: files of one JSON value per line (synthesizer manifests, per-image score
 * dumps, training logs). Blank lines are skipped and `\r\n` endings accepted. A line that is not
 * JSON is an error naming the file and its 1-based line number, or, with `skipBadLines`, left out
 * (the torn last line of a writer that was interrupted).
 */
import { promises as fs } from 'node:fs';
import { AttnvisionError } from '../util/errors.js';

/** A JSONL file cannot be read or holds a line that is not JSON. */
export class JsonlError extends AttnvisionError {}

/** One parsed line and where it came from (1-based, counting blank lines). */
export interface JsonlLine<T = unknown> {
  line: number;
  value: T;
}

export interface JsonlOptions {
  /** Leave out lines that are not JSON instead of throwing. */
  skipBadLines?: boolean;
  /** Error class thrown instead of JsonlError, so that a caller's own error type is kept. */
  error?: new (message: string) => Error;
}

/** Parses JSONL `text`; `source` names it in errors (a file name). */
export function parseJsonl<T = unknown>(text: string, source: string, opts: JsonlOptions = {}): JsonlLine<T>[] {
  const ErrorClass = opts.error ?? JsonlError;
  const out: JsonlLine<T>[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let value: T;
    try {
      value = JSON.parse(line) as T;
    } catch (e) {
      if (opts.skipBadLines) continue;
      throw new ErrorClass(`${source}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    out.push({ line: i + 1, value });
  }
  return out;
}

/** Reads a JSONL file: its lines with their line numbers. */
export async function readJsonlLines<T = unknown>(file: string, opts: JsonlOptions = {}): Promise<JsonlLine<T>[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const ErrorClass = opts.error ?? JsonlError;
    throw new ErrorClass(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseJsonl<T>(text, file, opts);
}

/** Reads a JSONL file: its values, in order. */
export async function readJsonl<T = unknown>(file: string, opts: JsonlOptions = {}): Promise<T[]> {
  return (await readJsonlLines<T>(file, opts)).map((l) => l.value);
}
