#!/usr/bin/env bash
# End-to-end test of the Slurm scripts on a real, single-host Slurm (issue 11):
#
#   bash Tests/cluster/slurm-e2e.sh [HEADSTART]     # default .build/release/headstart
#
# 1. starts a private Slurm with scripts/cluster/local-slurm.sh in a temporary folder (installs
#    slurm-wlm and munge when missing; free ports found here; needs root);
# 2. runs one `headstart extract` over Datasets/sample (240 images, 64x64, --weights random);
# 3. submits the same extraction with scripts/cluster/submit-slurm.sh, N=4, and its dependent
#    merge; waits for the merge (SLURM_E2E_TIMEOUT seconds, default 300); checks that every
#    array task and the merge completed with exit code 0, that the four parts are there, and
#    compares the merged file with the single run (Tests/cluster/compare-features.sh:
#    objects, attributes, /paths, /labels/*, /failed exactly, /features within 1e-6);
# 4. resubmits finished shard 2 alone (sbatch --array=2 with the same N and OFFSET, as
#    Docs/scaling-out.md says to retry a shard): it must exit 0 and leave the part unchanged;
# 5. checks that merge refuses a set with a shard missing (exit 2, nothing written);
# 6. submits N=2 shards that must fail (an image folder that does not exist) and checks that
#    their merge is cancelled by Slurm (--kill-on-invalid-dep=yes) instead of pending forever.
# It always stops the daemons it started (trap), and removes the folder unless
# KEEP_SLURM_E2E=1. Exit 0 when all passed, 1 with a message naming what failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
headstart=${1:-.build/release/headstart}
case "$headstart" in /*) ;; *) headstart="$repo/$headstart" ;; esac
timeout_s=${SLURM_E2E_TIMEOUT:-300}

fail() { echo "slurm-e2e: FAILED: $*" >&2; exit 1; }
step() { echo "== slurm-e2e: $*"; }

[ -x "$headstart" ] || fail "no headstart binary at $headstart (swift build -c release first)"
[ "$(id -u)" -eq 0 ] || fail "must run as root (the local Slurm runs slurmd as root)"

tmp=$(mktemp -d /tmp/headstart-slurm-e2e.XXXXXX)
slurm_dir="$tmp/slurm"
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -d "$tmp" ]; then
    for log in "$tmp"/out/logs/*.out "$tmp"/slurm/log/slurmctld.log "$tmp"/slurm/log/slurmd.log; do
      [ -f "$log" ] || continue
      echo "---- last lines of $log" >&2
      tail -n 8 "$log" >&2
    done
  fi
  if [ -d "$slurm_dir/pids" ]; then bash scripts/cluster/local-slurm.sh stop "$slurm_dir" || true; fi
  if [ "${KEEP_SLURM_E2E:-0}" = 1 ]; then echo "slurm-e2e: kept $tmp"; else rm -rf "$tmp"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nothing listens on, from a range Slurm's defaults (6817-6819) are not in.
free_port() {
  local port
  for port in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  fail "no free port from $1"
}

step "starting a local Slurm in $slurm_dir"
LOCAL_SLURM_CTLD_PORT=${LOCAL_SLURM_CTLD_PORT:-$(free_port 16817)}
LOCAL_SLURM_D_PORT=${LOCAL_SLURM_D_PORT:-$(free_port $((LOCAL_SLURM_CTLD_PORT + 1)))}
export LOCAL_SLURM_CTLD_PORT LOCAL_SLURM_D_PORT
bash scripts/cluster/local-slurm.sh start "$slurm_dir" || fail "the local Slurm did not start"
export SLURM_CONF="$slurm_dir/slurm.conf"

extract_args=(--images "$repo/Datasets/sample/images" --labels "$repo/Datasets/sample/labels.csv"
  --weights random --seed 0 --size 64x64)

step "single run"
"$headstart" extract "${extract_args[@]}" --output "$tmp/single.h5" --quiet >"$tmp/single.log" 2>&1 \
  || { cat "$tmp/single.log" >&2; fail "the single run failed"; }
grep -v '^warning: RANDOM WEIGHTS' "$tmp/single.log" || true
[ -f "$tmp/single.h5" ] || fail "the single run wrote no $tmp/single.h5"

# job_field ID FIELD: the values of FIELD (JobState, ExitCode, Reason) of job ID, one line per
# task of an array ('gone' when the controller no longer knows the job).
job_field() {
  local lines
  lines=$(scontrol show job -o "$1" 2>/dev/null) || { echo gone; return 0; }
  echo "$lines" | grep -oE "(^| )$2=[^ ]*" | sed -E "s/^ ?$2=//"
}

terminal() {
  case "$1" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED | BOOT_FAIL | DEADLINE | gone) return 0 ;;
    *) return 1 ;;
  esac
}

# wait_for ID: until every task of job ID reached a final state, at most timeout_s seconds.
wait_for() {
  local deadline=$((SECONDS + timeout_s)) state pending
  while :; do
    pending=0
    for state in $(job_field "$1" JobState); do
      terminal "$state" || pending=1
    done
    [ "$pending" -eq 0 ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || fail "job $1 not finished after ${timeout_s}s (states: $(job_field "$1" JobState | sort | uniq -c | tr -s ' \n' ' '); reason: $(job_field "$1" Reason | sort -u | tr '\n' ' '))"
    sleep 1
  done
}

# expect_success ID WHAT: every task of job ID COMPLETED with exit code 0:0.
expect_success() {
  local states codes
  states=$(job_field "$1" JobState | sort -u | tr '\n' ' ')
  codes=$(job_field "$1" ExitCode | sort -u | tr '\n' ' ')
  if [ "$states" != "COMPLETED " ] || [ "$codes" != "0:0 " ]; then
    fail "$2 (job $1) did not succeed: states $states exit codes $codes reason $(job_field "$1" Reason | sort -u | tr '\n' ' ')"
  fi
}

step "submit-slurm.sh 4 shards + merge"
submitted=$(HEADSTART="$headstart" bash scripts/cluster/submit-slurm.sh 4 "$tmp/out" "${extract_args[@]}" 2>"$tmp/submit.err") \
  || { cat "$tmp/submit.err" >&2; fail "submit-slurm.sh failed"; }
echo "$submitted"
array=$(echo "$submitted" | awk '$1 == "array" { print $2 }')
merge=$(echo "$submitted" | awk '$1 == "merge" { print $2 }')
if [ "$(echo "$array" | wc -w)" -ne 1 ] || [ -z "$merge" ]; then
  fail "expected one array and one merge job, got: $submitted"
fi
started=$SECONDS
wait_for "$merge"
wait_for "$array"
echo "finished in $((SECONDS - started)) s"
expect_success "$array" "an extract array task"
expect_success "$merge" "the merge"

step "parts and merged file"
parts=$(cd "$tmp/out" && for part in part-*.h5; do printf '%s ' "$part"; done)
[ "$parts" = "part-00000-of-00004.h5 part-00001-of-00004.h5 part-00002-of-00004.h5 part-00003-of-00004.h5 " ] \
  || fail "unexpected shard files: $parts"
[ -f "$tmp/out/merged.h5" ] || fail "the merge job succeeded but wrote no $tmp/out/merged.h5"
bash Tests/cluster/compare-features.sh "$tmp/single.h5" "$tmp/out/merged.h5" 1e-6 \
  || fail "the merged file differs from the single run"

step "retrying finished shard 2 (sbatch --array=2, same N and OFFSET)"
before=$(sha256sum "$tmp/out/part-00002-of-00004.h5" | cut -d' ' -f1)
timeout "$timeout_s" sbatch --wait --quiet --array=2 \
  --export="ALL,HEADSTART=$headstart,SHARDS=4,OFFSET=0,OUTDIR=$tmp/out" \
  --output="$tmp/out/logs/retry-%A_%a.out" scripts/cluster/extract-array.sbatch "${extract_args[@]}" \
  || fail "resubmitting finished shard 2 did not exit 0"
after=$(sha256sum "$tmp/out/part-00002-of-00004.h5" | cut -d' ' -f1)
[ "$before" = "$after" ] || fail "resubmitting finished shard 2 changed its file"
echo "shard 2 rerun: exit 0, file unchanged (sha256 ${after:0:16}...)"

step "merge refuses a missing shard"
set +e
"$headstart" merge --output "$tmp/refused.h5" "$tmp"/out/part-0000{0,1,3}-of-00004.h5 2>"$tmp/refused.err"
status=$?
set -e
[ "$status" -eq 2 ] || fail "merge without shard 2 exited $status, not 2 ($(head -n 3 "$tmp/refused.err"))"
[ "$(wc -l <"$tmp/refused.err")" -eq 1 ] || fail "merge without shard 2 should say one line, said: $(cat "$tmp/refused.err")"
[ ! -e "$tmp/refused.h5" ] || fail "merge without shard 2 wrote $tmp/refused.h5"
echo "refused (exit 2): $(cat "$tmp/refused.err")"

step "failed shards: the dependent merge is cancelled, not left pending"
submitted=$(HEADSTART="$headstart" bash scripts/cluster/submit-slurm.sh 2 "$tmp/bad" \
  --images "$tmp/no-such-folder" --weights random --size 64x64 2>"$tmp/submit.err") \
  || { cat "$tmp/submit.err" >&2; fail "submit-slurm.sh (failing shards) failed"; }
bad_array=$(echo "$submitted" | awk '$1 == "array" { print $2 }')
bad_merge=$(echo "$submitted" | awk '$1 == "merge" { print $2 }')
wait_for "$bad_array"
wait_for "$bad_merge"
[ "$(job_field "$bad_array" JobState | sort -u | tr '\n' ' ')" = "FAILED " ] \
  || fail "shards over a missing folder should fail, states: $(job_field "$bad_array" JobState | tr '\n' ' ')"
[ "$(job_field "$bad_merge" JobState)" = CANCELLED ] \
  || fail "the merge after failed shards should be CANCELLED, is $(job_field "$bad_merge" JobState) ($(job_field "$bad_merge" Reason))"
[ ! -e "$tmp/bad/merged.h5" ] || fail "a merged file was written although the shards failed"
echo "merge $bad_merge: CANCELLED ($(job_field "$bad_merge" Reason))"

echo "slurm-e2e: all checks passed (Slurm run = single run, retried shard unchanged, missing shard refused, merge after failed shards cancelled)"
