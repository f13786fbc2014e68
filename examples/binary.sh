#!/usr/bin/env bash
# Dogs versus cats, the binary workflow: two class folders, VGG16, one sigmoid head, the decision
# threshold tuned on validation and then a fixed one applied, accuracy with its 95% interval, and
# the misclassified validation images listed (CSV) and shown in the report. The bundled sample
# has no animals; its compositions are sorted into warm/ and cool/ by their `warm` tag instead.
# Usage: bash examples/binary.sh HEADSTART [OUTPUT-FOLDER]
source "$(dirname "$0")/common.sh"
weights_for vgg16
images=$out/images
rm -rf "$images"
mkdir -p "$images/cool" "$images/warm"
tail -n +2 "$sample/labels.csv" | while IFS=, read -r path _ _ _ _ _ _ tags; do
  case ";$tags;" in *";warm;"*) class=warm ;; *) class=cool ;; esac
  cp "$sample/images/$path" "$images/$class/"
done
set -x
"$headstart" extract --images "$images" --backbone vgg16 "${weights[@]}" --size 96x96 \
  --output "$out/features.h5" --overwrite --quiet
# The head's one output is the second class in sorted order (warm); the threshold is tuned on
# the validation rows (maximum F1) and stored in the heads file for predict.
"$headstart" fit-heads --features "$out/features.h5" --head warm=sigmoid:class \
  --metrics "$out/metrics.json" --misclassified "$out/misclassified.csv" \
  --report "$out/report.html" --images "$images" --output "$out/heads.h5" --quiet
# A threshold chosen beforehand (as the 0.85 on the cat score was) instead of the tuned one.
"$headstart" fit-heads --features "$out/features.h5" --head warm=sigmoid:class --threshold warm=0.85 \
  --metrics "$out/metrics-0.85.json" --misclassified "$out/misclassified-0.85.csv" \
  --output "$out/heads-0.85.h5" --quiet
