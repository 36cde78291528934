#!/usr/bin/env node
/**
 * attnvision command-line entry point: dispatches to the commands in registry.ts.
 */
import { commands } from './registry.js';
import { AttnvisionError } from '../util/errors.js';
import { removeTempsInFlight } from '../util/fs.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'attnvision: attention-based computer vision on ONNX Runtime',
    '',
    'Usage: attnvision <command> [options]   (attnvision <command> --help for details)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Environment: ATTNVISION_THREADS sets the ONNX Runtime thread count (default: all cores).',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 1;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`attnvision: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  if (!cmd.handlesSignals) {
    // Ctrl-C / SIGTERM: end the progress line, say what happened and how to go on, remove the
    // temporary files of writes in progress, and exit 130 / 143 as a shell does.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        removeTempsInFlight();
        process.stderr.write(`\nattnvision ${name}: interrupted (${sig})${cmd.interruptHint ? `; ${cmd.interruptHint}` : ''}\n`);
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
    }
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const sys = err as NodeJS.ErrnoException & { dest?: string };
    if (err instanceof AttnvisionError) console.error(`attnvision: ${err.message}`);
    // File-system failures (a path that is a folder, a read-only or full disk, ...) are the user's to
    // fix: one line naming the operation and the path, no stack trace.
    else if (typeof sys?.code === 'string' && typeof sys.syscall === 'string') console.error(`attnvision: ${sys.syscall} ${sys.path ?? ''}${sys.dest ? ` -> ${sys.dest}` : ''}: ${sys.code} (${sys.message.replace(/^\w+: /, '').split(',')[0]})`);
    else console.error(err);
    process.exitCode = 1;
  },
);
