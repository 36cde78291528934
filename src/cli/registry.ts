/**
 * The list of CLI commands. Each command lives in its own module under commands/.
 */
import type { Command } from './command.js';
import { demoCommand } from './commands/demo.js';
import { modelsCommand, summaryCommand } from './commands/models.js';
import { exportCommand } from './commands/export.js';
import { benchCommand } from './commands/bench.js';
import { trainCommand, evalCommand } from './commands/train.js';
import { inspectCommand } from './commands/inspect.js';
import { packageInspectorCommand } from './commands/package_inspector.js';
import { calibrateCommand } from './commands/calibrate.js';
import { attentionCommand } from './commands/attention.js';
import { evalRealCommand } from './commands/eval_real.js';
import { synthCommand } from './commands/synth.js';
import { serveCommand } from './commands/serve.js';

export const commands: Command[] = [inspectCommand, serveCommand, demoCommand, synthCommand, modelsCommand, summaryCommand, exportCommand, benchCommand, trainCommand, evalCommand, attentionCommand, packageInspectorCommand, calibrateCommand, evalRealCommand];
