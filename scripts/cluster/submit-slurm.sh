#!/usr/bin/env bash
# Submits a sharded `headstart extract` to Slurm: N shards as job arrays (extract-array.sbatch),
# then the merge (merge.sbatch) as a job that runs only when every array task succeeded.
#
#   bash scripts/cluster/submit-slurm.sh N OUTDIR [extract options...]
#   HEADSTART=/shared/bin/headstart bash scripts/cluster/submit-slurm.sh 400 /shared/run1 \
#     --images /shared/photos --labels /shared/photos.csv --weights /shared/resnet50_notop.h5
#
# N shards K = 0..N-1 write OUTDIR/part-KKKKK-of-NNNNN.h5; the merge writes OUTDIR/merged.h5
# (MERGED to change it). Logs go to OUTDIR/logs. OUTDIR and the paths in the extract options
# must be visible from every node (a shared file system): they are passed to the jobs as given,
# so prefer absolute paths.
#
# Arrays are split when N exceeds MaxArraySize (read from `scontrol show config`, 1001 if it
# cannot be read): array indices run 0..MaxArraySize-1, so array j covers K = j*MaxArraySize ..
# and is submitted with OFFSET=j*MaxArraySize. N and OFFSET are passed explicitly
# (SLURM_ARRAY_TASK_COUNT is wrong when indices are resubmitted). The merge is submitted with
# --dependency=afterok:<every array job> and --kill-on-invalid-dep=yes: without it a merge whose
# dependency can never be met (a task failed) stays pending forever.
#
# Environment:
#   HEADSTART           the binary the jobs run (default: `headstart` from the PATH, made absolute)
#   MAX_RUNNING         at most this many tasks of each array at once (sbatch --array=...%M)
#   EXTRACT_SBATCH_ARGS extra sbatch options for the arrays, split on spaces
#                       (e.g. "--partition=cpu --cpus-per-task=8 --time=12:00:00")
#   MERGE_SBATCH_ARGS   extra sbatch options for the merge job, split on spaces
#   MAX_ARRAY_SIZE      override the MaxArraySize read from the cluster
#   OVERWRITE=1         let the merge replace an existing merged file (it refuses otherwise)
#   sbatch's own input variables (SBATCH_PARTITION, SBATCH_ACCOUNT, ...) apply to every job.
#
# Prints one line per job on stdout, then what to do while they run:
#   array <jobid> shards <first>-<last> OFFSET=<offset>
#   merge <jobid> <merged file>
# Exit codes: 0 submitted, 2 bad arguments (one line on stderr), 1 a submission failed (the
# arrays already submitted are cancelled).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "submit-slurm.sh: $*" >&2; exit 2; }
is_positive() { [[ "$1" =~ ^[0-9]{1,9}$ ]] && ((10#$1 >= 1)); }

[ $# -ge 2 ] || die "usage: submit-slurm.sh N OUTDIR [extract options...]"
shards=$1
outdir=$2
shift 2
is_positive "$shards" || die "N must be a positive integer, not '$shards'"
shards=$((10#$shards))
for arg in "$@"; do
  case "$arg" in
    --output | --output=* | --shard | --shard=*) die "$arg is set per shard by extract-array.sbatch; do not pass it" ;;
  esac
done
command -v sbatch >/dev/null 2>&1 || die "sbatch not found: run this on a Slurm submission host"

mkdir -p "$outdir/logs"
outdir=$(cd "$outdir" && pwd)
headstart=${HEADSTART:-$(command -v headstart || true)}
[ -n "$headstart" ] || die "headstart is not on the PATH; set HEADSTART to the binary the nodes run"
case "$headstart" in /*) ;; */*) headstart="$(pwd)/$headstart" ;; esac
merged=${MERGED:-$outdir/merged.h5}
for value in "$outdir" "$headstart" "$merged"; do
  # sbatch --export separates its NAME=VALUE pairs with commas.
  case "$value" in *,*) die "a comma in '$value' cannot be passed through sbatch --export" ;; esac
done

max_array_size=${MAX_ARRAY_SIZE:-$(scontrol show config 2>/dev/null | awk '$1 == "MaxArraySize" { print $3 }' || true)}
is_positive "$max_array_size" || max_array_size=1001
max_array_size=$((10#$max_array_size))
throttle=""
if [ -n "${MAX_RUNNING:-}" ]; then
  is_positive "$MAX_RUNNING" || die "MAX_RUNNING must be a positive integer"
  throttle="%$MAX_RUNNING"
fi
read -ra extract_sbatch <<<"${EXTRACT_SBATCH_ARGS:-}"
read -ra merge_sbatch <<<"${MERGE_SBATCH_ARGS:-}"

arrays=()
cancel_submitted() {
  if [ ${#arrays[@]} -gt 0 ]; then
    scancel "${arrays[@]}" 2>/dev/null || true
    echo "submit-slurm.sh: cancelled the arrays already submitted: ${arrays[*]}" >&2
  fi
}

# sbatch --parsable prints "jobid" or "jobid;cluster".
submit() {
  local out
  if ! out=$(sbatch --parsable "$@"); then
    cancel_submitted
    echo "submit-slurm.sh: sbatch failed: sbatch $*" >&2
    exit 1
  fi
  echo "${out%%;*}"
}

for ((offset = 0; offset < shards; offset += max_array_size)); do
  count=$((shards - offset < max_array_size ? shards - offset : max_array_size))
  job=$(submit --array="0-$((count - 1))$throttle" \
    --export="ALL,HEADSTART=$headstart,SHARDS=$shards,OFFSET=$offset,OUTDIR=$outdir" \
    --output="$outdir/logs/extract-%A_%a.out" ${extract_sbatch[@]+"${extract_sbatch[@]}"} \
    "$here/extract-array.sbatch" "$@")
  arrays+=("$job")
  echo "array $job shards $offset-$((offset + count - 1)) OFFSET=$offset"
done

dependency="afterok$(printf ':%s' "${arrays[@]}")"
merge_job=$(submit --dependency="$dependency" --kill-on-invalid-dep=yes \
  --export="ALL,HEADSTART=$headstart,SHARDS=$shards,OUTDIR=$outdir,MERGED=$merged" \
  --output="$outdir/logs/merge-%j.out" ${merge_sbatch[@]+"${merge_sbatch[@]}"} \
  "$here/merge.sbatch")
echo "merge $merge_job $merged"
jobs=$(IFS=,; echo "${arrays[*]},$merge_job")
quoted=""
[ $# -eq 0 ] || printf -v quoted ' %q' "$@"
cat >&2 <<EOF
watch: squeue -j $jobs    logs: $outdir/logs
a failed shard K (the merge is then cancelled, reason DependencyNeverSatisfied): fix the cause, then
  sbatch --parsable --array=\$((K % $max_array_size)) --export=ALL,HEADSTART=$headstart,SHARDS=$shards,OFFSET=\$((K / $max_array_size * $max_array_size)),OUTDIR=$outdir --output=$outdir/logs/extract-%A_%a.out $here/extract-array.sbatch$quoted
and submit the merge again, depending on that job:
  sbatch --dependency=afterok:JOBID --kill-on-invalid-dep=yes --export=ALL,HEADSTART=$headstart,SHARDS=$shards,OUTDIR=$outdir,MERGED=$merged --output=$outdir/logs/merge-%j.out $here/merge.sbatch
EOF
