#!/usr/bin/env bash
# The exact commands that produce the shipped inspector (models/inspector.onnx + .json).
# Data and runs go outside the repository (DATA, RUNS). On 2 cores: synth 7 min, the shipped
# training run about 70 min (so synth + training stay within 90 min), comparison 25 min, evaluation 10 min.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../data/quality}
RUNS=${RUNS:-../runs}
LABELS=defocus_blur,motion_blur,noise,rain,haze,low_light,jpeg
av() { node dist/src/cli/main.js "$@"; }
COMMON="--data $DATA/manifest.jsonl --labels $LABELS --severity-head --size 112 --batch 32 --opt adamw --wd 0.05 --clip 5 --seed 1"

# 1. Synthesize the dataset from the shared clean photos (splits by source photo).
av synth --out "$DATA" --per-class 1200 --size 256 --seed 1 --photos ../shared/photos --mix 0.25 --preview

if [ "${COMPARE:-1}" = 1 ]; then
  # 2. Architecture comparison on the same data (models/MODEL_CARD.md), then the loader-overhead
  #    measurement: the same run with every epoch replayed from memory (--cache-batches).
  for spec in swin_nano_convstem_224:2 swin_nano_patch4_window7_224:2 resnet26:1 swin_mini_convstem_224:2; do
    m=${spec%%:*}; e=${spec##*:}
    av train $COMMON --model "$m" --epochs "$e" --lr 1e-3 --warmup 0.3 --out "$RUNS/cmp-$m"
  done
  av train $COMMON --model swin_nano_convstem_224 --epochs 2 --lr 1e-3 --warmup 0.3 --cache-batches --out "$RUNS/cmp-cached"
fi

# 3. The shipped model.
av train $COMMON --model swin_mini_convstem_224 --epochs ${EPOCHS:-28} --lr 1e-3 --warmup 1 --out "$RUNS/inspector"
av package-inspector --checkpoint "$RUNS/inspector/best.safetensors" --out "$RUNS/inspector/inspector.onnx" --threshold 0.5 --top-k 16 --max-tiles 4

# 4. Threshold on the validation split (whole images through the inspector), then test once.
av eval --inspector "$RUNS/inspector/inspector.onnx" --data "$DATA/manifest.jsonl" --split val --scan | tee "$RUNS/inspector/val-scan.txt"
THRESHOLD=${THRESHOLD:-$(sed -n 's/^best threshold \([0-9.]*\):.*/\1/p' "$RUNS/inspector/val-scan.txt")}
av package-inspector --checkpoint "$RUNS/inspector/best.safetensors" --out models/inspector.onnx --threshold "$THRESHOLD" --top-k 16 --max-tiles 4
av eval --inspector models/inspector.onnx --data "$DATA/manifest.jsonl" --split test --report "$RUNS/inspector/test.html" | tee "$RUNS/inspector/test.txt"

# 5. Real photos (evaluation only) against the classic baselines calibrated on synthetic val data.
av eval-real ../shared/realdev --calibrate "$DATA/manifest.jsonl" --json "$RUNS/inspector/realdev.json"
