#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer targets of Fuzz/ (a package of their own) with AddressSanitizer
# and runs each one for SECONDS.
#
#   scripts/fuzz.sh SECONDS [TARGET...]     (default: every target, one after the other)
#
# FuzzKerasWeights goes through the open every command uses, so Debian 12's libhdf5 1.10.8
# crashing or looping on a damaged file (it does, in its global heap and object header code)
# happens in the preflight's child process and is refused, as users get it; AddressSanitizer's
# reports from such children show in the log but are not findings (Fuzz/README.md). Findings in
# Headstart's own HDF5 code are fixed and kept as tests (Tests/Fixtures/fuzz/weights).
#
# Exit 0 when nothing was found; otherwise 1, after printing the path of every reproducer (a
# crash, leak, timeout or out-of-memory input). Re-run one with `Fuzz/.build/debug/TARGET FILE`.
# Each target's corpus grows in Fuzz/.build/corpus/TARGET and is kept between runs, so long runs
# add up; it starts from the small committed seeds (Fuzz/Seeds, and the test fixtures named
# below). Logs and findings go to Fuzz/.build/logs and Fuzz/.build/findings/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
all=(FuzzImage FuzzLabelsCSV FuzzHeadsYAML FuzzHeadsJSON FuzzArrays FuzzKerasWeights)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# Seeds: tiny valid (and a few invalid) files of every kind each target reads.
seeds() {
  case "$1" in
    FuzzImage) ls Tests/Fixtures/pillow/src/* Tests/Fixtures/pillow/bad/* Tests/Fixtures/pillow/formats/src/* \
      Tests/Fixtures/pillow/formats/bad/* Tests/Fixtures/tiff_webp_gif/src/* Tests/Fixtures/tiff_webp_gif/bad/* ;;
    FuzzLabelsCSV) ls Fuzz/Seeds/labels-csv/* ;;
    FuzzHeadsYAML) ls Fuzz/Seeds/heads-yaml/* ;;
    FuzzHeadsJSON) ls Fuzz/Seeds/heads-json/* ;;
    FuzzArrays) ls Fuzz/Seeds/arrays/* Tests/Fixtures/arrays/*.npz ;;
    FuzzKerasWeights) ls Tests/Fixtures/weights/*.h5 Tests/Fixtures/fuzz/weights/*.h5 ;;
    *) echo "unknown fuzz target $1 (targets: ${all[*]})" >&2; return 1 ;;
  esac
}

# Per-target libFuzzer options. Every reader stays within libFuzzer's default 2 GB (the image
# target lowers the pixel limit to 4 Mpx so that decoding a legitimately huge image, slow in this
# unoptimised build, is not reported as a slow unit; Fuzz/README.md).
options() {
  case "$1" in
    FuzzHeadsYAML | FuzzHeadsJSON) echo "-dict=Fuzz/Dictionaries/heads.dict" ;;
    # A file on which libhdf5 loops is refused once the preflight's 30 s deadline passes (the
    # bounded time Headstart promises, Docs/reliability.md), so such a unit may take that long
    # without being a finding.
    # libhdf5 sizes some buffers from sizes stored in the file (an object header's, for one), so
    # a damaged file can make it ask for more than any machine has. malloc then returns NULL and
    # libhdf5 reports the failure, which is what users get (Fuzz/README.md). -malloc_limit_mb
    # stops libFuzzer from counting such a request as running out of memory; what a unit really
    # uses is still held to the 2 GB -rss_limit_mb.
    FuzzKerasWeights) echo "-timeout=75 -report_slow_units=70 -malloc_limit_mb=1048576" ;;
    *) echo "" ;;
  esac
}

# Per-target AddressSanitizer options, added to any the caller set. FuzzKerasWeights: asan's
# allocator returns NULL, as glibc's does, for a request it cannot serve, instead of aborting.
asan_options() {
  case "$1" in
    FuzzKerasWeights) echo "allocator_may_return_null=1" ;;
    *) echo "" ;;
  esac
}

for target in "${targets[@]}"; do seeds "$target" >/dev/null; done

echo "fuzz: building ${targets[*]} (libFuzzer + AddressSanitizer)"
mkdir -p Fuzz/.build/logs
# Swift code is instrumented by -sanitize, the C targets (CShims, Yams' libyaml) by -Xcc; the
# system libraries (libjpeg, libpng, libtiff, libwebp, giflib, libhdf5) are not, but
# AddressSanitizer checks what they copy into our buffers. The toolchain's lld links them (Debian's gold fails on libFuzzer's objects).
flags=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xcc -fsanitize=fuzzer-no-link,address)
if ! swift build --package-path Fuzz -c debug "${flags[@]}" >Fuzz/.build/logs/build.log 2>&1; then
  tail -n 40 Fuzz/.build/logs/build.log
  echo "fuzz: the build failed (log: Fuzz/.build/logs/build.log)"
  exit 2
fi
bin=Fuzz/.build/debug
# Leaks inside libhdf5 itself (its error paths for damaged files) are not findings; see the file.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

found=0
for target in "${targets[@]}"; do
  corpus=Fuzz/.build/corpus/$target
  findings=Fuzz/.build/findings/$target
  log=Fuzz/.build/logs/$target.log
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  seeds "$target" | while read -r seed; do cp -n "$seed" "$corpus/"; done
  before=$(ls "$findings" | wc -l)
  read -r -a extra <<<"$(options "$target")"
  status=0
  asan=$(asan_options "$target")
  ASAN_OPTIONS="$asan${asan:+${ASAN_OPTIONS:+:}}${ASAN_OPTIONS:-}" \
    "$bin/$target" "$corpus" -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${extra[@]}" >"$log" 2>&1 || status=$?
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  inputs=$(ls "$corpus" | wc -l)
  new=$(ls -t "$findings" | head -n $(($(ls "$findings" | wc -l) - before)))
  if [ "$status" -ne 0 ] || [ -n "$new" ]; then
    found=1
    echo "fuzz: $target: FOUND a problem after ${runs:-?} runs (libFuzzer exit $status); log $log:"
    grep -E "ERROR|SUMMARY|Fatal error|Test unit written|==[0-9]+==" "$log" | head -n 20
    for file in $new; do echo "fuzz: $target: reproducer $findings/$file"; done
  else
    echo "fuzz: $target: ${seconds} s, ${runs:-?} runs (${rate:-?}/s), corpus $inputs inputs, nothing found"
  fi
done
exit "$found"
