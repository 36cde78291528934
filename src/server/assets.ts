/**
 * Static files behind the web page's in-browser mode: the inspector model and config, the browser
 * inspector's modules (dist/src/quality/browser.js and what it imports at run time) and
 * onnxruntime-web's ES module and WebAssembly files when that package is installed (it is an
 * optional peer: without it the page offers server-side inspection only). Files are looked up by
 * exact name in fixed folders, never by a path taken from the request.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Browser inspector modules, the run-time import closure of quality/browser.js, as paths under
 * dist/src and served under /lib/ with the same layout, so their relative imports resolve
 * (the server test follows every import).
 */
const LIB_FILES = ['quality/browser.js', 'quality/core.js', 'quality/aggregate.js', 'quality/tiling.js', 'image/palette.js', 'util/errors.js'] as const;
/** onnxruntime-web files the page loads: the WebAssembly-only ES module and its threaded-SIMD backend. */
const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'] as const;

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream' };

export interface Asset {
  body: Buffer;
  type: string;
}

/** onnxruntime-web's dist folder, or null when the package is not installed. */
export function ortWebDir(): string | null {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-web');
    return path.dirname(main);
  } catch {
    return null;
  }
}

export class StaticAssets {
  private readonly cache = new Map<string, Promise<Asset | null>>();
  private readonly libDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  readonly ortDir: string | null;

  constructor(private readonly modelPath: string) {
    this.ortDir = ortWebDir();
  }

  /** Whether the page can offer in-browser inspection. */
  get browserMode(): boolean {
    return this.ortDir !== null;
  }

  /** The asset for a request path, or null when the path is not one of ours. */
  get(pathname: string): Promise<Asset | null> {
    let hit = this.cache.get(pathname);
    if (!hit) {
      hit = this.load(pathname);
      this.cache.set(pathname, hit);
      // A failed read (file removed) is not remembered.
      hit.then((a) => a ?? this.cache.delete(pathname), () => this.cache.delete(pathname));
    }
    return hit;
  }

  private async load(pathname: string): Promise<Asset | null> {
    const file = this.resolve(pathname);
    if (!file) return null;
    try {
      return { body: await fs.readFile(file), type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
    } catch {
      return null;
    }
  }

  private resolve(pathname: string): string | null {
    if (pathname === '/model.onnx') return this.modelPath;
    const lib = pathname.match(/^\/lib\/([\w.-]+\/[\w.-]+)$/);
    if (lib && (LIB_FILES as readonly string[]).includes(lib[1]!)) return path.join(this.libDir, lib[1]!);
    const ort = pathname.match(/^\/ort\/([\w.-]+)$/);
    if (ort && this.ortDir && (ORT_FILES as readonly string[]).includes(ort[1]!)) return path.join(this.ortDir, ort[1]!);
    return null;
  }
}
