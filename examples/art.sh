#!/usr/bin/env bash
# Art attributes: scores, a harmony class and a colour-wheel embedding on ResNet50 block outputs,
# labels from a CSV, and the HTML report. The bundled sample (240 compositions) is the dataset.
# Usage: bash examples/art.sh HEADSTART [OUTPUT-FOLDER]
source "$(dirname "$0")/common.sh"
weights_for resnet50
set -x
"$headstart" extract --images "$sample/images" --labels "$sample/labels.csv" --backbone resnet50 \
  "${weights[@]}" --taps blocks --size 112x112 --output "$out/art.h5" --overwrite --quiet
"$headstart" fit-heads --features "$out/art.h5" \
  --head balance=tanh:balance --head contrast=tanh:contrast --head complexity=tanh:complexity \
  --head harmony=softmax:harmony --head primary=embedding:primary_color \
  --metrics "$out/metrics.json" --report "$out/report.html" --images "$sample/images" \
  --output "$out/heads.h5" --quiet
