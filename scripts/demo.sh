#!/usr/bin/env bash
# Quick start, first command: set up a fresh machine, build in release mode and extract features
# of the bundled sample dataset (Datasets/sample) into demo-out/sample-features.h5 (two taps: the
# first convolution and the last block), then train the heads of Datasets/sample/heads.yaml on
# them with `headstart fit-heads`, each on its own tap, writing an HTML report of the run to
# demo-out/report.html, apply the heads to the images with predict (demo-out/predictions.csv),
# fine-tune conv5 with the heads on its output for one epoch (demo-out/finetuned.h5 + .heads.h5)
# and predict with the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product headstart 2>&1 | tail -n 1
headstart=.build/release/headstart
weights_file="${KERAS_HOME:-$HOME/.keras}/models/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
if [ -f "$weights_file" ]; then
  weights=()
else
  echo "note: no ImageNet weights at $weights_file (this machine cannot download them);"
  echo "      using --weights random: random filters still measure colour (the primary colour head"
  echo "      learns), but recognise nothing (harmony, balance and complexity stay at chance)."
  echo "      Keras downloads the ImageNet file there with keras.applications.ResNet50(weights='imagenet', include_top=False)."
  weights=(--weights random --seed 0)
fi
mkdir -p demo-out
set -x
"$headstart" extract --images Datasets/sample/images --labels Datasets/sample/labels.csv \
  --backbone resnet50 "${weights[@]}" --taps conv1_relu,conv5_block3_out \
  --output demo-out/sample-features.h5 --overwrite
"$headstart" fit-heads --features demo-out/sample-features.h5 --heads Datasets/sample/heads.yaml \
  --metrics demo-out/sample-metrics.json --output demo-out/sample-heads.h5 --quiet \
  --report demo-out/report.html --images Datasets/sample/images
# predict reads size, taps and preprocessing from the heads file; the weights must be the same.
if [ ${#weights[@]} -gt 0 ]; then predict_weights=(--weights random); else predict_weights=(); fi
"$headstart" predict --heads demo-out/sample-heads.h5 "${predict_weights[@]}" \
  --images Datasets/sample/images --output demo-out/predictions.csv
# finetune trains conv5 with the five heads of the last block, fitted on that tap alone (heads on
# earlier taps would train too, on a fixed input: examples/clothing.sh), then one epoch of
# fine-tuning, then predict with the fine-tuned pair.
"$headstart" fit-heads --features demo-out/sample-features.h5 --taps conv5_block3_out \
  --head harmony=softmax:harmony --head tags=sigmoid:tags --head balance=tanh:balance \
  --head contrast=tanh:contrast --head complexity=tanh:complexity --output demo-out/conv5-heads.h5 --quiet
"$headstart" finetune --images Datasets/sample/images --labels Datasets/sample/labels.csv \
  --heads demo-out/conv5-heads.h5 "${weights[@]}" --epochs 1 --output demo-out/finetuned.h5
"$headstart" predict --heads demo-out/finetuned.heads.h5 --weights demo-out/finetuned.h5 \
  --images Datasets/sample/images --output demo-out/finetuned-predictions.csv --quiet
{ set +x; } 2>/dev/null
echo "predictions: demo-out/predictions.csv (first lines, first columns):"
head -n 4 demo-out/predictions.csv | cut -d, -f1-6
echo "report: open demo-out/report.html in a browser (one self-contained page: curves, plots, worst rows)"
if [ ${#weights[@]} -gt 0 ]; then
  echo "note: random backbone weights — the primary colour head shows learning from early features;"
  echo "      the others show the pipeline working, not what ImageNet features reach."
fi
