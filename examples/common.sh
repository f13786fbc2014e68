# Sourced by every example: the headstart binary, the output folder, and the backbone weights
# (Keras' ImageNet file when ~/.keras/models has it, deterministic random weights otherwise).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
headstart=$(realpath "${1:?usage: $0 HEADSTART [OUTPUT-FOLDER]}")
out=${2:-$repo/examples-out/$(basename "$0" .sh)}
mkdir -p "$out"
sample=$repo/Datasets/sample

# weights_for BACKBONE: sets `weights` to the arguments that choose the backbone's weights.
weights_for() {
  local file
  case $1 in
    resnet50) file=resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 ;;
    vgg16) file=vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 ;;
    vgg19) file=vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 ;;
  esac
  if [ -f "${KERAS_HOME:-$HOME/.keras}/models/$file" ]; then
    weights=()
  else
    echo "note: no $file in ~/.keras/models: random $1 weights (colour is learnable, objects are not)"
    weights=(--weights random --seed 0)
  fi
}
