#!/usr/bin/env bash
# The exact commands that produce the shipped inspector (models/inspector.onnx + .json).
# Data and runs go outside the repository (DATA, RUNS). Takes about 50 minutes on 2 cores (synth 7 min, comparison 9 min, training 27 min, evaluation).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../data/quality}
RUNS=${RUNS:-../runs}
LABELS=defocus_blur,motion_blur,noise,rain,haze,low_light,jpeg
av() { node dist/src/cli/main.js "$@"; }

# 1. Synthesize the dataset from the shared clean photos (splits by source photo).
av synth --out "$DATA" --per-class 700 --size 256 --seed 1 --photos ../shared/photos --mix 0.2 --preview

# 2. Architecture comparison: one epoch each, same data (see models/MODEL_CARD.md).
for spec in swin_nano_patch4_window7_224:128 swin_micro_patch2_window4_96:96 resnet26:128; do
  m=${spec%%:*}; s=${spec##*:}
  av train --data "$DATA/manifest.jsonl" --labels $LABELS --severity-head --model "$m" --size "$s" \
    --epochs 1 --batch 32 --opt adamw --lr 1e-3 --wd 0.05 --warmup 0.2 --clip 5 --seed 1 --out "$RUNS/compare-$m"
done

# 3. The shipped model: resnet26 won the comparison at equal compute (models/MODEL_CARD.md).
av train --data "$DATA/manifest.jsonl" --labels $LABELS --severity-head --model resnet26 --size 112 \
  --epochs ${EPOCHS:-6} --batch 32 --opt adamw --lr 1e-3 --wd 0.05 --warmup 0.5 --clip 5 --seed 1 --out "$RUNS/inspector"
av eval --checkpoint "$RUNS/inspector/best.safetensors" --data "$DATA/manifest.jsonl" --split test --report "$RUNS/inspector/test.html" --json > "$RUNS/inspector/test.json"
av package-inspector --checkpoint "$RUNS/inspector/best.safetensors" --out models/inspector.onnx --threshold 0.5 --top-k 2 --max-tiles 4

# 4. Real photos (evaluation only) against the classic baselines calibrated on synthetic val data.
av eval-real ../shared/realdev --calibrate "$DATA/manifest.jsonl" --json "$RUNS/inspector/realdev.json"
