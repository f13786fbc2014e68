#!/usr/bin/env bash
# Clothing: folders named colour_type (black_jeans/), VGG16, a colour head on early taps and a type
# head on block5 in one run, then block5 fine-tuned with loss_weights. The dataset is the bundled
# sample arranged as colour_type folders: its primary colour is the colour, its harmony the type.
# Usage: bash examples/clothing.sh HEADSTART [OUTPUT-FOLDER]
source "$(dirname "$0")/common.sh"
weights_for vgg16
images=$out/images
rm -rf "$images"
# One `_` separates colour and type, so split_complementary becomes split-complementary.
tail -n +2 "$sample/labels.csv" | while IFS=, read -r path _ _ _ harmony color _; do
  folder="$images/${color}_${harmony//_/-}"
  mkdir -p "$folder"
  cp "$sample/images/$path" "$folder/"
done
set -x
"$headstart" extract --images "$images" --dir-labels color,type --backbone vgg16 "${weights[@]}" \
  --taps block1_pool,block2_pool,block5_pool --size 96x96 --output "$out/clothes.h5" --overwrite --quiet
# Colour from the early taps, the type from block5: VGG16's deep features lose colour.
"$headstart" fit-heads --features "$out/clothes.h5" \
  --head color=softmax:color@block1_pool+block2_pool --head type=softmax:type@block5_pool \
  --metrics "$out/metrics.json" --output "$out/heads.h5" --quiet
# Fine-tuning trains block5 with heads on its output alone; the colour head weighs less
# (Keras' loss_weights={"color": 0.3, "type": 1.0}).
cat >"$out/finetune-heads.yaml" <<'YAML'
heads:
  - {name: color, kind: softmax, column: color, loss_weight: 0.3}
  - {name: type, kind: softmax, column: type, loss_weight: 1.0}
YAML
"$headstart" fit-heads --features "$out/clothes.h5" --taps block5_pool --heads "$out/finetune-heads.yaml" \
  --output "$out/block5-heads.h5" --quiet
"$headstart" finetune --images "$images" --dir-labels color,type --heads "$out/block5-heads.h5" \
  "${weights[@]}" --epochs 1 --output "$out/finetuned.h5" --quiet
