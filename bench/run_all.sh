#!/usr/bin/env bash
# Runs the benchmark set and prints one JSON object per line (see docs/benchmarks.md).
# Usage: bash bench/run_all.sh > bench-results.jsonl    (needs /usr/bin/python3 with torch for the peer)
set -euo pipefail
cd "$(dirname "$0")/.."
av() { node dist/src/cli/main.js bench "$@" --json --vs-torch; }
av gemm --size 1024 --iters 20
av gemm --size 2048 --iters 5
for m in resnet50 swin_tiny_patch4_window7_224; do
  av train-step --model "$m" --batch 8 --iters 3 --warmup 1
  av infer --model "$m" --batch 8 --iters 5 --warmup 1
  av infer --model "$m" --batch 1 --iters 10 --warmup 2
done
# The shipped inspector (no PyTorch peer): a 224 px image and a 1024 x 576 photo.
node dist/src/cli/main.js bench inspect --size 224 --iters 20 --warmup 3 --json
node dist/src/cli/main.js bench inspect --size 1024 --height 576 --iters 10 --warmup 2 --json
