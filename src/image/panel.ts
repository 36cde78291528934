/**
 * Panel sizes for the image grids attnvision renders (inspector heatmaps, attention maps): the
 * image's aspect kept, with tall images narrowed instead of squashed.
 */
import { checkInt } from '../util/errors.js';

/**
 * Panel size of a width x height image: `panelWidth` wide, or narrower for tall images so a panel
 * is at most twice as tall as `panelWidth` (at least 8 px on each side).
 */
export function panelSize(width: number, height: number, panelWidth: number): { pw: number; ph: number } {
  checkInt('panelSize', 'width', width, 1);
  checkInt('panelSize', 'height', height, 1);
  checkInt('panelSize', 'panelWidth', panelWidth, 1);
  const maxH = 2 * panelWidth;
  const pw = height / width > maxH / panelWidth ? Math.max(8, Math.round((width / height) * maxH)) : panelWidth;
  return { pw, ph: Math.max(8, Math.round((height / width) * pw)) };
}
