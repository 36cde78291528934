/**
 * `attnvision models` and `attnvision summary`: the zoo with parameter and FLOP counts.
 */
import type { Command } from '../command.js';
import { parseArgs, flagNumber, flagString, parseDecimal } from '../command.js';
import { createModel, listModels, modelInfo, summarize } from '../../models/index.js';
import { ArgumentError } from '../../util/errors.js';

function parseInputSize(s: string | undefined, where: string): number[] | undefined {
  if (s === undefined) return undefined;
  const parts = s.split('x').map(parseDecimal);
  if (parts.length !== 3 || parts.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ArgumentError(`${where}: expected CxHxW (e.g. 3x224x224) for --input but received "${s}"`);
  }
  return parts;
}

const fmtM = (n: number) => `${(n / 1e6).toFixed(2)}M`;

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list every model with parameters and GFLOPs at its default input',
  usage: `Usage: attnvision models [--json] [--filter SUBSTRING]

Lists registered models with parameters, GFLOPs (one multiply-add = one FLOP) at the default input,
and the paper's numbers where the paper states them.
  --json             print an array of {name, params, gflops, inputSize}
  --filter S         only models whose name contains S`,
  async run(argv) {
    const args = parseArgs(argv, { values: ['filter'], booleans: ['json'], positional: 0 }, 'models');
    const filter = flagString(args, 'filter');
    const names = listModels().filter((n) => !filter || n.includes(filter));
    if (!names.length) throw new ArgumentError(`models: no model name contains "${filter}" (attnvision models lists them all)`);
    const rows = [];
    for (const name of names) {
      const h = await createModel(name, { init: false }); // shapes only: counts and FLOPs
      const s = summarize(h);
      rows.push({ name, params: s.params, gflops: Number(s.gflops.toFixed(4)), inputSize: s.inputSize, paper: h.info.paper });
    }
    if (args.flags.has('json')) {
      console.log(JSON.stringify(rows.map(({ name, params, gflops, inputSize }) => ({ name, params, gflops, inputSize }))));
      return 0;
    }
    const w = Math.max(4, ...rows.map((r) => r.name.length));
    console.log(`${'name'.padEnd(w)}  ${'input'.padEnd(11)}  ${'params'.padStart(9)}  ${'GFLOPs'.padStart(8)}  paper`);
    for (const r of rows) {
      const paper = r.paper ? `${r.paper.params ? fmtM(r.paper.params) : '-'} / ${r.paper.gflops ?? '-'} G (${r.paper.source})` : '';
      console.log(`${r.name.padEnd(w)}  ${r.inputSize.join('x').padEnd(11)}  ${fmtM(r.params).padStart(9)}  ${r.gflops.toFixed(3).padStart(8)}  ${paper}`);
    }
    return 0;
  },
};

export const summaryCommand: Command = {
  name: 'summary',
  summary: 'per-layer table of a model: output shape, parameters, FLOPs',
  usage: `Usage: attnvision summary <model> [--input CxHxW] [--classes N] [--json]

  --input CxHxW   input size (default: the model's default, e.g. 3x224x224)
  --classes N     number of classes (default: the model's default)
  --json          print {name, params, gflops, inputSize, layers: [{path, type, outputShape, params, flops}]}`,
  async run(argv) {
    const args = parseArgs(argv, { values: ['input', 'classes'], booleans: ['json'], positional: 1 }, 'summary');
    const name = args.positional[0];
    if (!name) throw new ArgumentError('summary: expected a model name (see attnvision models)');
    modelInfo(name);
    const inputSize = parseInputSize(flagString(args, 'input'), 'summary');
    const classes = args.flags.has('classes') ? flagNumber(args, 'classes', 0, 'summary', { int: true, min: 1 }) : undefined;
    const h = await createModel(name, { inputSize, numClasses: classes, init: false }); // shapes only
    const s = summarize(h);
    if (args.flags.has('json')) {
      console.log(JSON.stringify(s));
      return 0;
    }
    const w = Math.max(5, ...s.layers.map((l) => l.path.length + 2 + l.type.length + 3));
    console.log(`${'layer'.padEnd(w)}  ${'output'.padEnd(22)}  ${'params'.padStart(11)}  ${'MFLOPs'.padStart(10)}`);
    for (const l of s.layers) {
      const depth = l.path.split('.').length - 1;
      const label = `${'  '.repeat(depth)}${l.path.split('.').pop()} (${l.type})`;
      console.log(`${label.padEnd(w)}  ${l.outputShape.map((o) => `[${o.join(',')}]`).join(' ').padEnd(22)}  ${l.params.toLocaleString('en-US').padStart(11)}  ${(l.flops / 1e6).toFixed(2).padStart(10)}`);
    }
    console.log(`total: ${s.params.toLocaleString('en-US')} parameters, ${s.gflops.toFixed(3)} GFLOPs at ${s.inputSize.join('x')}`);
    return 0;
  },
};

export { parseInputSize };
