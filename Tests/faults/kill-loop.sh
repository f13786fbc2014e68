#!/usr/bin/env bash
# Kill loops (issue 12, item 4): every command that writes a file is killed with SIGKILL at
# random moments, KILLS times in a row, then run to the end; its output must then be byte for
# byte the file an uninterrupted run writes, and after every kill the output path must hold
# either nothing or that complete file (never one that looks complete but is not).
#
#   bash Tests/faults/kill-loop.sh HEADSTART [KILLS]     # default 20 kills per command
#
# The commands, on the bundled sample (Datasets/sample, 64x64, random weights so it runs
# anywhere): extract, merge (of three shards), fit-heads, finetune (3 epochs; it writes the model
# and the heads beside it) and predict (a CSV). The kill moments are uniform over 0..1.2 times the
# command's uninterrupted duration, so most land mid-run and some after it finished; a run that
# finished before its kill is checked and its output removed, so the next one starts again.
# Exit 0 when every command held, 1 with the first difference otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: $0 HEADSTART [KILLS]" >&2; exit 2; }
headstart=$(realpath "$1")
kills=${2:-20}
images=Datasets/sample/images
labels=Datasets/sample/labels.csv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
RANDOM=12  # the same kill moments on every run of the script

now() { date +%s.%N; }
fail() { echo "kill-loop: $*" >&2; exit 1; }

# outputs_of OUT: the files one run writes at OUT (finetune also writes OUT-without-.h5.heads.h5).
outputs_of() {
  local out=$1
  echo "$out"
  if [ "$command_name" = finetune ]; then echo "${out%.h5}.heads.h5"; fi
}

# check_outputs REF OUT: every output file at OUT is either absent or identical to REF's; prints
# "complete" when they are all present.
check_outputs() {
  local ref=$1 out=$2 present=0 total=0 r o
  while read -r o; do
    r=${ref%.*}${o#"${out%.*}"}
    total=$((total + 1))
    [ -e "$o" ] || continue
    present=$((present + 1))
    cmp -s "$r" "$o" || fail "$command_name: $o exists after a kill but differs from an uninterrupted run's"
  done < <(outputs_of "$out")
  # The model alone without its heads is fine mid-rename; both present means complete.
  if [ "$present" -eq "$total" ]; then echo complete; fi
}

# kill_loop NAME ARGS...: ARGS contain the literal word OUT where the output path goes.
kill_loop() {
  command_name=$1
  shift
  local ext=h5
  case "$command_name" in predict) ext=csv ;; esac
  local ref="$work/$command_name-reference.$ext" out="$work/$command_name-killed.$ext"
  local args_out=("${@//OUT/$out}")
  local start end duration o
  # The uninterrupted run writes at the same path as the killed ones (finetune's heads file
  # records its model's path), then its outputs are moved aside.
  start=$(now)
  "$headstart" "$command_name" "${args_out[@]}" --quiet >/dev/null 2>"$work/err" ||
    fail "$command_name: the uninterrupted run failed: $(cat "$work/err")"
  end=$(now)
  while read -r o; do mv "$o" "${ref%.*}${o#"${out%.*}"}"; done < <(outputs_of "$out")
  duration=$(echo "$end - $start" | bc)
  local killed=0 finished=0 draw moment pid status
  for _ in $(seq "$kills"); do
    draw=$RANDOM  # drawn here: a $RANDOM inside $(...) would not advance this shell's sequence
    moment=$(echo "scale=3; $duration * 1.2 * $draw / 32767" | bc)
    "$headstart" "$command_name" "${args_out[@]}" --quiet >/dev/null 2>"$work/err" &
    pid=$!
    sleep "$moment"
    kill -9 "$pid" 2>/dev/null || true
    status=0
    { wait "$pid"; } 2>/dev/null || status=$?
    case $status in
      137) killed=$((killed + 1)) ;;
      0) finished=$((finished + 1)) ;;
      *) fail "$command_name: a run between kills failed with exit $status: $(cat "$work/err")" ;;
    esac
    if [ "$(check_outputs "$ref" "$out")" = complete ]; then
      # Finished before its kill: start over, so the next kills land on a fresh run.
      [ "$status" -eq 137 ] && finished=$((finished + 1)) && killed=$((killed - 1))
      while read -r o; do rm -f "$o"; done < <(outputs_of "$out")
    fi
  done
  # Then the same command, to the end.
  "$headstart" "$command_name" "${args_out[@]}" --quiet >/dev/null 2>"$work/err" ||
    fail "$command_name: the run after the kills failed: $(cat "$work/err")"
  [ "$(check_outputs "$ref" "$out")" = complete ] || fail "$command_name: the run after the kills left no output"
  printf 'kill-loop: %-9s %2d killed mid-run, %2d finished first; then run to the end: identical to an uninterrupted run (%.1f s each)\n' \
    "$command_name" "$killed" "$finished" "$duration"
  # Leftovers beside the output (journals, checkpoints, temporaries) are gone once it is done.
  local leftover
  leftover=$(find "$work" -maxdepth 1 -name "$(basename "$out")*" ! -name "$(basename "$out")" | head -n 1)
  [ -z "$leftover" ] || fail "$command_name: $leftover left behind after the finished run"
}

common=(--weights random --seed 1)
kill_loop extract --images "$images" --labels "$labels" "${common[@]}" --size 64x64 --batch-size 8 --output OUT
features="$work/extract-reference.h5"
for k in 0 1 2; do
  "$headstart" extract --images "$images" --labels "$labels" "${common[@]}" --size 64x64 --batch-size 8 \
    --shard "$k/3" --output "$work/shard-$k.h5" --quiet >/dev/null 2>&1
done
kill_loop merge --output OUT "$work/shard-0.h5" "$work/shard-1.h5" "$work/shard-2.h5"
cmp -s "$features" "$work/merge-reference.h5" || echo "kill-loop: note: the merged file differs byte-wise from the single run's (merge promises equal content, checked by the scale-out tests)"
kill_loop fit-heads --features "$features" --head harmony=softmax:harmony --head balance=tanh:balance \
  --epochs 30 --output OUT
heads="$work/fit-heads-reference.h5"
kill_loop finetune --images "$images" --labels "$labels" --heads "$heads" --weights random --epochs 3 --output OUT
kill_loop predict --heads "$heads" --weights random --images "$images" --output OUT
echo "kill-loop: every command held ($kills kills each)"
