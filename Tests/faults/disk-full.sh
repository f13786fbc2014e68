#!/usr/bin/env bash
# Disk full (issue 12, item 3): every command that writes a file is run on a real, nearly full
# filesystem (a small tmpfs this script mounts; it needs root) and must
#   * stop with exit 1 and one line naming the path and "no space left" (warnings aside),
#   * leave no file at --output (a fresh run) and keep its own progress (journal, checkpoint),
#   * leave a previous complete output untouched (same bytes, same inode) when it was to replace it,
#   * and, once space is freed, complete with the same command, byte for byte the file an
#     uninterrupted run writes, with nothing left beside it.
#
#   bash Tests/faults/disk-full.sh HEADSTART
#
# The commands, on the bundled sample (Datasets/sample, 64x64, random weights so it runs anywhere):
# extract, merge (of three shards), fit-heads, finetune (3 epochs; it writes the model and the
# heads beside it) and predict (a CSV). Each is run with the free space set to 0 bytes and to a
# quarter, a half and three quarters of what its uninterrupted run leaves, so it fails at the
# start, mid-run and while finishing. Exit 0 when every command held, 1 with the first
# difference, 2 when it cannot run (not root, no tmpfs).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: $0 HEADSTART" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "disk-full: needs root to mount a tmpfs" >&2; exit 2; }
headstart=$(realpath "$1")
images=Datasets/sample/images
labels=Datasets/sample/labels.csv
work=$(mktemp -d)
fs="$work/fs"
mkdir "$fs"
mount -t tmpfs -o size=64m headstart-disk-full "$fs" || { echo "disk-full: cannot mount a tmpfs" >&2; exit 2; }
trap 'umount "$fs" 2>/dev/null || true; rm -rf "$work"' EXIT

fail() { echo "disk-full: $*" >&2; exit 1; }

# outputs_of OUT: the files one run writes at OUT (finetune also writes OUT-without-.h5.heads.h5).
outputs_of() {
  echo "$1"
  if [ "$command_name" = finetune ]; then echo "${1%.h5}.heads.h5"; fi
}

# fill FREE: leaves FREE bytes free on the filesystem.
fill() {
  local avail
  avail=$(df -B1 --output=avail "$fs" | tail -n 1 | tr -d ' ')
  if [ "$avail" -gt "$1" ]; then fallocate -l $((avail - $1)) "$fs/.filler"; fi
}

# run_full OUT: runs the command on the full filesystem; prints "failed" or "finished" and checks
# a failure's exit code and message.
run_full() {
  local status=0 message
  "$headstart" "$command_name" "${args_fs[@]}" "$@" --quiet >/dev/null 2>"$work/err" || status=$?
  grep -q -E "Signal|crashed|Fatal error" "$work/err" && fail "$command_name: crashed: $(head -n 3 "$work/err")"
  if [ "$status" -eq 0 ]; then echo finished; return; fi
  [ "$status" -eq 1 ] || fail "$command_name: exit $status on a full disk (expected 1): $(cat "$work/err")"
  message=$(grep -v '^warning:' "$work/err" || true)
  [ "$(echo "$message" | wc -l)" -eq 1 ] || fail "$command_name: more than one line on a full disk: $message"
  echo "$message" | grep -q -i "no space left" || fail "$command_name: the message does not say 'no space left': $message"
  case $message in
    *"$fs/"*) ;;
    *) fail "$command_name: the message does not name the path: $message" ;;
  esac
  echo failed
}

# same_as_reference: every output equals the uninterrupted run's, and nothing is left beside them.
same_as_reference() {
  local o
  while read -r o; do
    [ -e "$o" ] || fail "$command_name: $o missing after the run completed"
    cmp -s "$work/reference${o#"$fs"/out}" "$o" || fail "$command_name: $o differs from an uninterrupted run's"
  done < <(outputs_of "$fs/out.$ext")
  local extra
  extra=$(find "$fs" -mindepth 1 | grep -v -x -F -f <(outputs_of "$fs/out.$ext") | head -n 1 || true)
  [ -z "$extra" ] || fail "$command_name: $extra left behind after the completed run"
}

# disk_full NAME [--overwrite|-] ARGS...: ARGS contain the literal word OUT where the output path
# goes; the second argument is the flag that lets NAME replace an existing output ("-": none needed).
disk_full() {
  command_name=$1
  local replace=$2
  shift 2
  ext=h5
  case "$command_name" in predict) ext=csv ;; esac
  local reference="$work/reference.$ext"
  rm -f "$work"/reference*
  rm -rf "${fs:?}"/* "$fs"/.[!.]*
  mount -o remount,size=2g "$fs"
  # The uninterrupted run writes at the same path as the others (finetune's heads file records
  # its model's path), then its outputs are moved aside.
  args_fs=("${@//OUT/$fs/out.$ext}")
  "$headstart" "$command_name" "${args_fs[@]}" --quiet >/dev/null 2>"$work/err" ||
    fail "$command_name: the uninterrupted run failed: $(cat "$work/err")"
  local size=0 o
  while read -r o; do
    size=$((size + $(stat -c %s "$o")))
    mv "$o" "$work/reference${o#"$fs"/out}"
  done < <(outputs_of "$fs/out.$ext")
  # Room for a previous output, the new one, and the progress kept beside it (finetune's
  # checkpoint holds the block's weights and optimiser state, and is replaced atomically: twice
  # the model's size and more, written beside the old one).
  mount -o remount,size=$((10 * size + (64 << 20))) "$fs"
  local failed=0 finished=0 kept=0 free result
  for free in 0 $((size / 4)) $((size / 2)) $((size * 3 / 4)); do
    # A fresh run: no output, its progress kept, then completed once there is space.
    rm -rf "${fs:?}"/* "$fs"/.[!.]*
    fill "$free"
    result=$(run_full)
    if [ "$result" = failed ]; then
      failed=$((failed + 1))
      while read -r o; do
        [ ! -e "$o" ] || fail "$command_name: $o exists after a failed run (free $free bytes)"
      done < <(outputs_of "$fs/out.$ext")
    else
      finished=$((finished + 1))
    fi
    rm -f "$fs/.filler"
    "$headstart" "$command_name" "${args_fs[@]}" --quiet >/dev/null 2>"$work/err" ||
      fail "$command_name: the run after space was freed failed: $(cat "$work/err")"
    same_as_reference
    # Replacing a previous complete output: it stays as it was when the disk fills.
    local before after
    before=$(outputs_of "$fs/out.$ext" | xargs stat -c '%i %s %Y' | sha256sum)
    fill "$free"
    local flag=()
    [ "$replace" = - ] || flag=("$replace")
    result=$(run_full "${flag[@]}")
    after=$(outputs_of "$fs/out.$ext" | xargs stat -c '%i %s %Y' | sha256sum)
    if [ "$result" = failed ]; then
      [ "$before" = "$after" ] || fail "$command_name: the previous output was touched by a failed run (free $free bytes)"
      kept=$((kept + 1))
      rm -f "$fs/.filler"
      "$headstart" "$command_name" "${args_fs[@]}" "${flag[@]}" --quiet >/dev/null 2>"$work/err" ||
        fail "$command_name: the replacing run after space was freed failed: $(cat "$work/err")"
    fi
    rm -f "$fs/.filler"
    same_as_reference
  done
  printf 'disk-full: %-9s %d of 4 fresh runs stopped cleanly and completed after space was freed; %d replacements left the previous output as it was\n' \
    "$command_name" "$failed" "$kept"
  [ "$failed" -ge 2 ] || fail "$command_name: too few runs met a full disk ($failed of 4): the sizes need adjusting"
}

common=(--weights random --seed 1)
disk_full extract --overwrite --images "$images" --labels "$labels" "${common[@]}" --size 64x64 --batch-size 8 --output OUT
cp "$work/reference.h5" "$work/features.h5"
for k in 0 1 2; do
  "$headstart" extract --images "$images" --labels "$labels" "${common[@]}" --size 64x64 --batch-size 8 \
    --shard "$k/3" --output "$work/shard-$k.h5" --quiet >/dev/null 2>&1
done
disk_full merge --overwrite --output OUT "$work/shard-0.h5" "$work/shard-1.h5" "$work/shard-2.h5"
disk_full fit-heads - --features "$work/features.h5" --head harmony=softmax:harmony --head balance=tanh:balance \
  --epochs 30 --output OUT
cp "$work/reference.h5" "$work/heads.h5"
disk_full finetune - --images "$images" --labels "$labels" --heads "$work/heads.h5" --weights random --epochs 3 --output OUT
disk_full predict - --heads "$work/heads.h5" --weights random --images "$images" --output OUT
echo "disk-full: every command held"
