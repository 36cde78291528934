/**
 * `attnvision demo`: placeholder main job until the inspector ships (filled in by the trainer work).
 */
import type { Command } from '../command.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'train a tiny model on synthetic data and print its accuracy',
  usage: 'Usage: attnvision demo',
  async run() {
    console.log('demo: not yet implemented');
    return 0;
  },
};
