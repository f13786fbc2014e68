#!/usr/bin/env bash
# Clothing: folders named colour_type (black_jeans/), VGG16, a colour head on early taps and a type
# head on block5 in one run, then block5 fine-tuned with both heads and loss_weights. The dataset is the bundled
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
# Colour from the early taps, the type from block5 (VGG16's deep features lose colour), in one
# heads file; the colour head weighs less (Keras' loss_weights={"color": 0.3, "type": 1.0}).
cat >"$out/heads.yaml" <<'YAML'
heads:
  - {name: color, kind: softmax, column: color, taps: [block1_pool, block2_pool], loss_weight: 0.3}
  - {name: type, kind: softmax, column: type, taps: [block5_pool], loss_weight: 1.0}
YAML
"$headstart" fit-heads --features "$out/clothes.h5" --heads "$out/heads.yaml" \
  --metrics "$out/metrics.json" --output "$out/heads.h5" --quiet
# Fine-tuning trains block5 with both heads: the type head reads block5_pool, computed by the
# block it trains; the colour head's taps come before block5, so its input stays fixed (the
# frozen prefix's features, as extract stores them) and only its own weights train.
"$headstart" finetune --images "$images" --dir-labels color,type --heads "$out/heads.h5" \
  "${weights[@]}" --epochs 1 --output "$out/finetuned.h5"
# predict feeds each head its own taps from the fine-tuned backbone.
"$headstart" predict --images "$images" --heads "$out/finetuned.heads.h5" --weights "$out/finetuned.h5" \
  --output "$out/predictions.csv" --quiet
