#!/usr/bin/env bash
# Damaged files (issue 12, item 2): every kind of file Headstart reads back is mutated MUTANTS
# times and handed to the real command that reads it. Each mutant is a truncation at a random
# point, or 1 to 4 random bytes changed in the first or last 64 KiB (where HDF5 keeps its
# superblock, object headers and heaps) or anywhere in the file.
#
#   bash Tests/faults/mutate.sh HEADSTART [MUTANTS [TYPE...]]   # default 1000 of every type
#
# With MUTATE_KEEP_GOING=1 it does not stop at the first mutant that fails: it keeps each such
# file (named in the output), counts them, and exits 1 at the end.
#
# Every run must end within a bounded time (60 s) with exit 0, 1 or 2, never a signal; a refusal
# (1 or 2) says why in at most 3 lines. One exception is counted and reported, not failed: a
# crash inside libhdf5 itself (Debian 12's 1.10.8), the known limit in Docs/reliability.md; the
# preflight and the string reads run libhdf5 in a child, so only a crash in what they do not
# read (large datasets) can still reach the command. Exit 0 is allowed where a change may be harmless (bytes
# HDF5 never reads, data no checksum covers: Keras' own weight files carry none); for the resume
# journal and the finetune checkpoint, which carry CRCs, exit 0 must also give the uninterrupted
# run's bytes (a damaged record is recomputed, never used). The file types, on a small part of
# the bundled sample at 32x32 with VGG16 random weights (so it runs anywhere):
#   weights     a Keras weight file (finetune's model.h5)      read by extract --weights
#   features    a feature file                                  read by fit-heads
#   heads       a heads file                                    read by predict
#   journal     extract's OUTPUT.partial (killed mid-run)       read by the same extract
#   checkpoint  finetune's OUTPUT.partial (after one epoch)     read by the same finetune
# Exit 0 when every mutant held, 1 at the first that did not (its file kept and named).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: $0 HEADSTART [MUTANTS]" >&2; exit 2; }
headstart=$(realpath "$1")
mutants=${2:-1000}
types=("${@:3}")
[ ${#types[@]} -gt 0 ] || types=(weights features heads journal checkpoint)
wanted() { [[ " ${types[*]} " == *" $1 "* ]]; }
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
RANDOM=21  # the same mutants on every run of the script

fail() { echo "mutate: $*" >&2; exit 1; }
random30() { echo $(((RANDOM << 15) | RANDOM)); }

# A small dataset: the first 24 images of the sample with their labels.
mkdir -p "$work/images"
head -n 25 Datasets/sample/labels.csv >"$work/labels.csv"
tail -n +2 "$work/labels.csv" | cut -d, -f1 | while read -r name; do cp "Datasets/sample/images/$name" "$work/images/"; done
q=(--quiet)
features=(--images "$work/images" --labels "$work/labels.csv" --backbone vgg16 --size 32x32 --batch-size 4)
"$headstart" extract "${features[@]}" --weights random --seed 1 --output "$work/features.h5" "${q[@]}" 2>/dev/null
"$headstart" fit-heads --features "$work/features.h5" --head harmony=softmax:harmony --head balance=tanh:balance \
  --epochs 5 --output "$work/heads.h5" "${q[@]}"
finetune=(--images "$work/images" --labels "$work/labels.csv" --heads "$work/heads.h5" --weights random --batch-size 8)
"$headstart" finetune "${finetune[@]}" --epochs 1 --output "$work/model.h5" "${q[@]}" 2>/dev/null

# mutate ORIGINAL MUTANT: writes one mutant of ORIGINAL; prints what was done.
mutate() {
  local original=$1 mutant=$2 size kind count at span i byte
  size=$(stat -c %s "$original")
  cp "$original" "$mutant"
  kind=$((RANDOM % 4))
  if [ "$kind" -eq 0 ]; then
    at=$(($(random30) % size))
    truncate -s "$at" "$mutant"
    echo "truncated to $at of $size bytes"
    return
  fi
  span=$((size < 65536 ? size : 65536))
  count=$((1 + RANDOM % 4))
  local where=()
  for i in $(seq "$count"); do
    case $kind in
      1) at=$(($(random30) % span)) ;;
      2) at=$((size - 1 - $(random30) % span)) ;;
      3) at=$(($(random30) % size)) ;;
    esac
    byte=$((1 + RANDOM % 255))
    local old
    old=$(od -A n -t u1 -j "$at" -N 1 "$mutant" | tr -d ' ')
    printf "$(printf '\\%03o' $((old ^ byte)))" | dd of="$mutant" bs=1 seek="$at" conv=notrunc status=none
    where+=("$at")
  done
  echo "bytes changed at ${where[*]} of $size"
}

# in_libhdf5 COMMAND...: whether COMMAND crashes with one of its four innermost frames in libhdf5;
# those frames are left in $work/frames.
in_libhdf5() {
  command -v gdb >/dev/null || return 1
  SWIFT_BACKTRACE=enable=no timeout -s KILL 120 gdb -q -batch -ex run -ex bt --args "$@" 2>&1 |
    grep -E '^#[0-3] ' >"$work/frames"
  grep -q 'libhdf5' "$work/frames"
}

# check NAME MUTANT STRICT COMMAND...: runs COMMAND (which reads MUTANT) and checks the outcome;
# STRICT names a reference file that an exit 0 must reproduce at $result ("-": none).
check() {
  local name=$1 mutant=$2 strict=$3 what=$4
  shift 4
  local status=0 problem=""
  timeout -s KILL 60 "$@" >/dev/null 2>"$work/err" || status=$?
  case $status in
    0)
      if [ "$strict" != - ] && ! cmp -s "$strict" "$result"; then
        problem="exit 0 with a result that differs from the uninterrupted run's"
      fi
      ;;
    1 | 2)
      if [ "$(wc -l <"$work/err")" -gt 3 ]; then problem="more than 3 lines: $(head -n 5 "$work/err")"; fi
      [ -n "$example" ] || example=$(head -n 1 "$work/err")
      ;;
    137) problem="no answer within 60 s" ;;
    *)
      # A crash inside libhdf5 is the known limit (Docs/reliability.md): counted and reported,
      # not failed; a crash anywhere else is a failure. gdb replays the run to tell them apart.
      if in_libhdf5 "$@"; then
        outcome[libhdf5]=$((${outcome[libhdf5]:-0} + 1))
        local kept
        kept=$(dirname "$work")/mutant-$name-libhdf5-${outcome[libhdf5]}
        cp "$mutant" "$kept"
        echo "mutate: $name: crashed inside libhdf5 in $(grep -o -E 'in [A-Za-z0-9_]+ \(' "$work/frames" |
          tr -d '(' | cut -c4- | paste -sd' ' -) ($what; kept as $kept)"
        return
      fi
      problem="exit $status: $(grep -v '^$' "$work/err" | head -n 3)"
      ;;
  esac
  if [ -z "$problem" ]; then
    outcome[$status]=$((${outcome[$status]:-0} + 1))
    return
  fi
  failures=$((failures + 1))
  local kept
  kept=$(dirname "$work")/mutant-$name-$failures
  cp "$mutant" "$kept"
  local line="$name: $problem ($what; kept as $kept)"
  [ "${MUTATE_KEEP_GOING:-0}" = 1 ] || fail "$line"
  echo "mutate: FAILED $line"
  outcome[failed]=$((${outcome[failed]:-0} + 1))
}

# run_type NAME ORIGINAL MUTANT-PATH STRICT SETUP COMMAND...: MUTANTS mutants of ORIGINAL at
# MUTANT-PATH, each read by COMMAND after SETUP (a function name, or "-").
run_type() {
  local name=$1 original=$2 path=$3 strict=$4 setup=$5
  shift 5
  wanted "$name" || return 0
  local -A outcome=()
  local start what example=""
  start=$(date +%s)
  for _ in $(seq "$mutants"); do
    rm -f "$work/out" "$work/out".*
    [ "$setup" = - ] || "$setup"
    what=$(mutate "$original" "$path")
    check "$name" "$path" "$strict" "$what" "$@"
  done
  printf 'mutate: %-10s %4d mutants in %4d s: %4d read as harmless (exit 0), %4d refused with exit 1, %4d with exit 2, %d crashed inside libhdf5 (known limit), %d failed\n' \
    "$name" "$mutants" $(($(date +%s) - start)) "${outcome[0]:-0}" "${outcome[1]:-0}" "${outcome[2]:-0}" \
    "${outcome[libhdf5]:-0}" "${outcome[failed]:-0}"
  echo "mutate:   e.g. ${example:-(none refused)}" | sed "s|$work/||g"
}

result=$work/out
run_type weights "$work/model.h5" "$work/mutant.h5" - - \
  "$headstart" extract "${features[@]}" --weights "$work/mutant.h5" --output "$work/out" "${q[@]}"
run_type features "$work/features.h5" "$work/mutant.h5" - - \
  "$headstart" fit-heads --features "$work/mutant.h5" --head harmony=softmax:harmony --epochs 2 --output "$work/out" "${q[@]}"
run_type heads "$work/heads.h5" "$work/mutant.h5" - - \
  "$headstart" predict --heads "$work/mutant.h5" --weights random --images "$work/images" --output "$work/out.csv" "${q[@]}"

# The journal: an extract killed once it has written some batches.
if wanted journal; then
  "$headstart" extract "${features[@]}" --weights random --seed 1 --output "$work/out" "${q[@]}" 2>/dev/null &
  pid=$!
  while [ ! -s "$work/out.partial" ] || [ "$(stat -c %s "$work/out.partial")" -lt 4096 ]; do sleep 0.05; done
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  [ ! -e "$work/out" ] || fail "journal: extract finished before it was killed"
  mv "$work/out.partial" "$work/journal"
  run_type journal "$work/journal" "$work/out.partial" "$work/features.h5" - \
    "$headstart" extract "${features[@]}" --weights random --seed 1 --output "$work/out" "${q[@]}"
fi

# The checkpoint: finetune killed once it has written its first epoch's.
if wanted checkpoint; then
  "$headstart" finetune "${finetune[@]}" --epochs 4 --output "$work/model2.h5" "${q[@]}" 2>/dev/null
  mv "$work/model2.h5" "$work/reference-model.h5"
  rm -f "$work/model2.heads.h5"
  "$headstart" finetune "${finetune[@]}" --epochs 4 --output "$work/out.h5" "${q[@]}" 2>/dev/null &
  pid=$!
  while [ ! -e "$work/out.h5.partial" ]; do sleep 0.02; done
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  [ ! -e "$work/out.h5" ] || fail "checkpoint: finetune finished before it was killed"
  mv "$work/out.h5.partial" "$work/checkpoint"
  result=$work/out.h5
  run_type checkpoint "$work/checkpoint" "$work/out.h5.partial" "$work/reference-model.h5" - \
    "$headstart" finetune "${finetune[@]}" --epochs 4 --output "$work/out.h5" "${q[@]}"
fi
[ "$failures" -eq 0 ] || fail "$failures mutants failed (kept beside $work, named above)"
echo "mutate: every mutant held ($mutants of each type: ${types[*]})"
