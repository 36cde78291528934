/**
 * Attention capture for visualisation. Attention modules that support it have a `returnAttention`
 * switch and keep the attention tensor of their last traced call on `lastAttention`
 * (off by default, so normal graphs carry no extra outputs).
 */
import type { Tensor } from '../graph/graph.js';
import type { Module } from '../nn/module.js';
import type { WindowLayout } from './window_attention.js';

interface AttentionHolder {
  returnAttention: boolean;
  lastAttention: Tensor | null;
}

function isHolder(m: unknown): m is AttentionHolder {
  return typeof m === 'object' && m !== null && 'returnAttention' in m && 'lastAttention' in m;
}

/** Turns capture on (or off) in every attention module of `model`; returns their paths. */
export function setAttentionCapture(model: Module, on: boolean): string[] {
  const paths: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (isHolder(m)) {
      (m as { returnAttention: boolean }).returnAttention = on;
      m.lastAttention = null;
      paths.push(path);
    }
  }
  return paths;
}

/**
 * The attention tensors recorded by the last trace, by module path; window attention (Swin) also
 * gives the window layout, since its tensor holds one matrix per window, not one for the image.
 */
export function collectAttention(model: Module): { path: string; tensor: Tensor; windows?: WindowLayout }[] {
  const out: { path: string; tensor: Tensor; windows?: WindowLayout }[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!isHolder(m) || !m.lastAttention) continue;
    const windows = (m as { lastWindowLayout?: WindowLayout | null }).lastWindowLayout;
    out.push(windows ? { path, tensor: m.lastAttention, windows } : { path, tensor: m.lastAttention });
  }
  return out;
}
