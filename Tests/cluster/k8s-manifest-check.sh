#!/usr/bin/env bash
# Checks scripts/cluster/extract-indexed-job.yaml without a Kubernetes cluster (issue 11):
#
#   bash Tests/cluster/k8s-manifest-check.sh [HEADSTART]     # default .build/release/headstart
#
# 1. parses the manifest as YAML (python3 with PyYAML; Debian's python3-yaml is installed with
#    apt-get when no python3 has it) and checks its fields: two batch/v1 Jobs; the extract Job
#    Indexed, completions N, parallelism, backoffLimitPerIndex, maxFailedIndexes,
#    restartPolicy Never, podReplacementPolicy Failed, exit code 2 failing the index; SHARDS = N
#    in both Jobs; the same claim and OUTDIR in both, inside the volume; the labels that
#    `kubectl apply -l headstart/step=...` selects;
# 2. runs each container's command (command + args, taken from the manifest) locally with the
#    manifest's environment, a stand-in binary recording its arguments, and
#    JOB_COMPLETION_INDEX = 0..N-1: each index must give exactly `extract --images IMAGES
#    EXTRACT_ARGS --shard K/N --output OUTDIR/part-KKKKK-of-NNNNN.h5`; without the variable the
#    command must fail; the merge command must pass the N parts in K order, and only those;
# 3. when HEADSTART has `extract --shard` and `merge`: the same commands for real over
#    Datasets/sample with N=4 (64x64, --weights random), index 1 run twice (a rerun pod: exit 0,
#    its file unchanged), then the merge command, compared with a single run
#    (Tests/cluster/compare-features.sh). Without them this step is skipped, saying so.
# Exit 0 when all checks pass, 1 with a message naming the first that failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
manifest=${K8S_MANIFEST:-scripts/cluster/extract-indexed-job.yaml}
headstart=${1:-.build/release/headstart}
case "$headstart" in /*) ;; *) headstart="$repo/$headstart" ;; esac

fail() { echo "k8s-manifest-check: FAILED: $*" >&2; exit 1; }
step() { echo "== k8s-manifest-check: $*"; }

python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  echo "k8s-manifest-check: installing python3-yaml (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null
  python=/usr/bin/python3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "fields of $manifest"
# Writes, for each Job (extract, merge), its argv (command + args) and environment as
# NUL-separated files, and N.
"$python" - "$manifest" "$work" <<'PYTHON' || fail "the manifest does not have the fields above"
import sys, yaml

path, out = sys.argv[1], sys.argv[2]
problems = []

def check(condition, message):
    if not condition:
        problems.append(message)
    return condition

with open(path) as f:
    docs = [d for d in yaml.safe_load_all(f) if d is not None]
check(len(docs) == 2, f"expected 2 documents (extract Job, merge Job), found {len(docs)}")
for d in docs:
    check(d.get("apiVersion") == "batch/v1" and d.get("kind") == "Job", f"not a batch/v1 Job: {d.get('kind')}")
indexed = [d for d in docs if d.get("spec", {}).get("completionMode") == "Indexed"]
others = [d for d in docs if d.get("spec", {}).get("completionMode") != "Indexed"]
if not (check(len(indexed) == 1, "expected exactly one Job with completionMode: Indexed")
        and check(len(others) == 1, "expected one merge Job besides the Indexed one")):
    print("\n".join(problems), file=sys.stderr); sys.exit(1)
extract, merge = indexed[0], others[0]

def is_int(value, low, high=None):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)

spec = extract["spec"]
n = spec.get("completions")
check(is_int(n, 1, 100000), f"completions must be N, an integer from 1 to 100000 (5-digit part names): {n!r}")
n = n if is_int(n, 1) else 0
check(is_int(spec.get("parallelism"), 1, n), f"parallelism must be from 1 to completions: {spec.get('parallelism')!r}")
check(is_int(spec.get("backoffLimitPerIndex"), 0), f"backoffLimitPerIndex must be a non-negative integer: {spec.get('backoffLimitPerIndex')!r}")
check(is_int(spec.get("maxFailedIndexes"), 0, n), f"maxFailedIndexes must be from 0 to completions: {spec.get('maxFailedIndexes')!r}")
check(spec.get("podReplacementPolicy") == "Failed", "podReplacementPolicy must be Failed (never two pods of one index at once)")

def job_parts(job, name):
    pod = job["spec"]["template"]["spec"]
    containers = pod.get("containers", [])
    if not check(len(containers) == 1, f"{name}: expected one container, found {len(containers)}"):
        return pod, {}, [], {}
    c = containers[0]
    env = {}
    for e in c.get("env", []):
        if check("value" in e and isinstance(e["value"], str), f"{name}: env {e.get('name')} must be a plain string value"):
            env[e["name"]] = e["value"]
    argv = list(c.get("command", [])) + list(c.get("args", []))
    check(argv and all(isinstance(a, str) for a in argv), f"{name}: command + args must be strings")
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}
    mounts = {m["mountPath"]: claims.get(m["name"]) for m in c.get("volumeMounts", [])}
    return pod, env, argv, {"container": c, "mounts": mounts}

pod, env_x, argv_x, extra_x = job_parts(extract, "extract Job")
check(pod.get("restartPolicy") == "Never", "extract Job: restartPolicy must be Never (backoffLimitPerIndex needs it)")
name_x = extra_x.get("container", {}).get("name")
rules = spec.get("podFailurePolicy", {}).get("rules", [])
check(any(r.get("action") == "FailIndex" and r.get("onExitCodes", {}).get("operator") == "In"
          and 2 in r.get("onExitCodes", {}).get("values", [])
          and r.get("onExitCodes", {}).get("containerName") in (None, name_x) for r in rules),
      "podFailurePolicy must fail the index on exit code 2 (bad arguments fail again on every retry)")
check(env_x.get("SHARDS") == str(n), f"extract Job: SHARDS ({env_x.get('SHARDS')!r}) must equal completions ({n})")
script = " ".join(argv_x)
check("JOB_COMPLETION_INDEX" in script and "--shard" in script, "extract Job: the command must use JOB_COMPLETION_INDEX and --shard")
for var in ("HEADSTART", "IMAGES", "EXTRACT_ARGS", "OUTDIR"):
    check(var in env_x, f"extract Job: env {var} missing")

mpod, env_m, argv_m, extra_m = job_parts(merge, "merge Job")
mspec = merge["spec"]
check(mspec.get("completions", 1) == 1 and mspec.get("parallelism", 1) == 1, "merge Job: one pod (completions 1)")
check(env_m.get("SHARDS") == str(n), f"merge Job: SHARDS ({env_m.get('SHARDS')!r}) must equal the extract Job's completions ({n})")
check(env_m.get("OUTDIR") == env_x.get("OUTDIR"), "merge Job: OUTDIR must be the extract Job's")
check("merge" in " ".join(argv_m), "merge Job: the command must run headstart merge")
for var in ("HEADSTART", "OUTDIR", "MERGED"):
    check(var in env_m, f"merge Job: env {var} missing")

def volume_of(mounts, path):
    found = [(m, claim) for m, claim in mounts.items() if path and (path == m or path.startswith(m.rstrip("/") + "/"))]
    return found[0][1] if found else None

claim_x = volume_of(extra_x.get("mounts", {}), env_x.get("OUTDIR"))
claim_m = volume_of(extra_m.get("mounts", {}), env_m.get("OUTDIR"))
check(claim_x is not None, "extract Job: OUTDIR must be inside a mounted persistentVolumeClaim")
check(claim_x == claim_m, f"both Jobs must write to the same claim ({claim_x} / {claim_m})")
check(volume_of(extra_m.get("mounts", {}), env_m.get("MERGED")) == claim_m, "merge Job: MERGED must be on the claim")
for job, step in ((extract, "extract"), (merge, "merge")):
    check(job["metadata"].get("labels", {}).get("headstart/step") == step,
          f"{job['metadata'].get('name')}: label headstart/step={step} (kubectl apply -l selects by it)")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
for name, argv, env in (("extract", argv_x, env_x), ("merge", argv_m, env_m)):
    with open(f"{out}/{name}.argv", "w") as f:
        f.write("".join(a + "\0" for a in argv))
    with open(f"{out}/{name}.env", "w") as f:
        f.write("".join(f"{k}={v}\0" for k, v in env.items()))
with open(f"{out}/n", "w") as f:
    f.write(str(n))
print(f"{extract['metadata']['name']}: Indexed, completions {n}, parallelism {spec['parallelism']}, "
      f"backoffLimitPerIndex {spec['backoffLimitPerIndex']}, maxFailedIndexes {spec['maxFailedIndexes']}, "
      f"claim {claim_x}; {merge['metadata']['name']}: SHARDS {env_m['SHARDS']}, MERGED {env_m['MERGED']}")
PYTHON

n=$(cat "$work/n")
mapfile -d '' -t extract_argv <"$work/extract.argv"
mapfile -d '' -t extract_env <"$work/extract.env"
mapfile -d '' -t merge_argv <"$work/merge.argv"
mapfile -d '' -t merge_env <"$work/merge.env"

# run_container extract|merge [NAME=VALUE...]: that Job's container command, with the
# manifest's environment, then the overrides, in an otherwise empty environment.
run_container() {
  local job=$1
  shift
  if [ "$job" = extract ]; then
    env -i PATH="$PATH" HOME="${HOME:-/root}" "${extract_env[@]}" "$@" "${extract_argv[@]}"
  else
    env -i PATH="$PATH" HOME="${HOME:-/root}" "${merge_env[@]}" "$@" "${merge_argv[@]}"
  fi
}

step "the extract command maps JOB_COMPLETION_INDEX to --shard K/N (stand-in binary, N=$n)"
cat >"$work/stand-in" <<'EOF'
#!/usr/bin/env bash
# Records its arguments (one per line) and creates the --output file.
set -euo pipefail
printf '%s\n' "$@" >"$STAND_IN_LOG"
while [ $# -gt 0 ]; do
  if [ "$1" = --output ]; then : >"$2"; fi
  shift
done
EOF
chmod +x "$work/stand-in"
mkdir -p "$work/stub-out"
stub_images="$work/images dir"
stub_args="--labels $work/labels.csv --backbone vgg16 --size 64x64"
for ((k = 0; k < n; k++)); do
  run_container extract HEADSTART="$work/stand-in" IMAGES="$stub_images" \
    EXTRACT_ARGS="$stub_args" OUTDIR="$work/stub-out" STAND_IN_LOG="$work/call" JOB_COMPLETION_INDEX="$k" \
    >/dev/null || fail "the extract command failed for JOB_COMPLETION_INDEX=$k"
  part=$(printf 'part-%05d-of-%05d.h5' "$k" "$n")
  # shellcheck disable=SC2086 # EXTRACT_ARGS is split on spaces, as in the container
  printf '%s\n' extract --images "$stub_images" $stub_args --shard "$k/$n" --output "$work/stub-out/$part" >"$work/expected"
  cmp -s "$work/expected" "$work/call" \
    || fail "JOB_COMPLETION_INDEX=$k ran: $(tr '\n' ' ' <"$work/call"); expected: $(tr '\n' ' ' <"$work/expected")"
done
echo "indexes 0..$((n - 1)): extract --images IMAGES EXTRACT_ARGS --shard K/$n --output OUTDIR/part-KKKKK-of-$(printf '%05d' "$n").h5"
rm -f "$work/call"
if run_container extract HEADSTART="$work/stand-in" IMAGES="$stub_images" \
  EXTRACT_ARGS="$stub_args" OUTDIR="$work/stub-out" STAND_IN_LOG="$work/call" >/dev/null 2>&1; then
  fail "the extract command succeeded without JOB_COMPLETION_INDEX"
fi
[ ! -e "$work/call" ] || fail "the extract command ran headstart without JOB_COMPLETION_INDEX"
echo "without JOB_COMPLETION_INDEX: refused"

step "the merge command passes the $n parts in K order"
: >"$work/stub-out/part-00000-of-$(printf '%05d' $((n + 1))).h5" # another run's part: not merged
run_container merge HEADSTART="$work/stand-in" OUTDIR="$work/stub-out" \
  MERGED="$work/stub-out/merged.h5" STAND_IN_LOG="$work/call" >/dev/null || fail "the merge command failed"
{
  printf '%s\n' merge --output "$work/stub-out/merged.h5"
  for ((k = 0; k < n; k++)); do printf '%s/part-%05d-of-%05d.h5\n' "$work/stub-out" "$k" "$n"; done
} >"$work/expected"
cmp -s "$work/expected" "$work/call" || fail "the merge command ran: $(tr '\n' ' ' <"$work/call")"
echo "merge --output MERGED part-00000..part-$(printf '%05d' $((n - 1))) (the part of another N left out)"

step "real run (Datasets/sample, N=4) with $headstart"
if [ ! -x "$headstart" ]; then
  echo "skipped: no binary at $headstart"
elif ! "$headstart" extract --help 2>&1 | grep -q -- '--shard' || ! "$headstart" merge --help >/dev/null 2>&1; then
  echo "skipped: $headstart has no extract --shard / merge yet"
else
  real_args="--labels $repo/Datasets/sample/labels.csv --weights random --seed 0 --size 64x64 --quiet"
  real=(HEADSTART="$headstart" SHARDS=4 IMAGES="$repo/Datasets/sample/images" EXTRACT_ARGS="$real_args"
    OUTDIR="$work/real")
  for k in 0 1 2 3; do
    run_container extract "${real[@]}" JOB_COMPLETION_INDEX="$k" >"$work/log" 2>&1 \
      || { cat "$work/log" >&2; fail "shard $k/4 failed"; }
  done
  before=$(sha256sum "$work/real/part-00001-of-00004.h5" | cut -d' ' -f1)
  run_container extract "${real[@]}" JOB_COMPLETION_INDEX=1 >"$work/log" 2>&1 \
    || { cat "$work/log" >&2; fail "rerunning finished shard 1/4 (a replacement pod) did not exit 0"; }
  [ "$(sha256sum "$work/real/part-00001-of-00004.h5" | cut -d' ' -f1)" = "$before" ] \
    || fail "rerunning finished shard 1/4 changed its file"
  echo "shards 0..3 written; shard 1 rerun: exit 0, unchanged"
  run_container merge HEADSTART="$headstart" SHARDS=4 OUTDIR="$work/real" \
    MERGED="$work/real/merged.h5" >"$work/log" 2>&1 || { cat "$work/log" >&2; fail "the merge command failed"; }
  # shellcheck disable=SC2086 # the same options, split as the container splits them
  "$headstart" extract --images "$repo/Datasets/sample/images" $real_args --output "$work/single.h5" >"$work/log" 2>&1 \
    || { cat "$work/log" >&2; fail "the single run failed"; }
  bash Tests/cluster/compare-features.sh "$work/single.h5" "$work/real/merged.h5" 1e-6 \
    || fail "the merged file differs from the single run"
fi
echo "k8s-manifest-check: all checks passed"
