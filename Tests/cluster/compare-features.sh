#!/usr/bin/env bash
# Compares two feature files (Docs/file-format.md) the way the scale-out tests need: a merge of
# shards against a single run over the same images.
#
#   bash Tests/cluster/compare-features.sh EXPECTED.h5 ACTUAL.h5 [TOLERANCE]   # default 1e-6
#
# Exit 0 when they hold the same content, 1 with the first difference otherwise, 2 when a file
# cannot be read. Checks, all with h5dump from Debian's hdf5-tools (installed with apt-get when
# missing; no Python or h5py needed):
#   1. the same objects: every group, dataset and attribute name (`h5dump -n 1`);
#   2. the same attributes with the same values, and every dataset's type and current shape
#      (`h5dump -A`: the root attributes - backbone, weights, size, taps, complete, ... - and
#      each label column's `classes`); the maximum shape is ignored, since how far a dataset
#      could grow (unlimited /features in a single run) is storage, not content;
#   3. exactly the same values in /paths, every /labels/<column> (floats printed with 9
#      significant digits, which is exact for float32; NaN = NaN) and /failed/paths, /failed/reasons;
#   4. /features equal within TOLERANCE (absolute, per value); prints the largest difference.
# The comparison is text, so it suits test-sized files (the sample: 240 x 2048 values), not
# million-row ones.
set -euo pipefail

[ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: $0 EXPECTED.h5 ACTUAL.h5 [TOLERANCE]" >&2; exit 2; }
expected=$1
actual=$2
tolerance=${3:-1e-6}

if ! command -v h5dump >/dev/null 2>&1; then
  echo "compare-features: installing hdf5-tools (h5dump)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hdf5-tools >/dev/null
fi
for file in "$expected" "$actual"; do
  h5dump -H "$file" >/dev/null 2>&1 || { echo "compare-features: cannot read $file as HDF5" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

different() {
  echo "compare-features: $1 differs between $expected (<) and $actual (>):"
  diff "$work/expected" "$work/actual" >"$work/diff" || true
  head -n 20 "$work/diff"
  exit 1
}

# The dump without its first line (it names the file) and without maximum shapes.
normalised() {
  h5dump "$@" | tail -n +2 | sed -E 's#(DATASPACE +SIMPLE \{ \( [^)]* \)) / \( [^)]* \)#\1#'
}

normalised -n 1 "$expected" >"$work/expected"
normalised -n 1 "$actual" >"$work/actual"
cmp -s "$work/expected" "$work/actual" || different "the list of groups, datasets and attributes"
for object in /features /paths /failed/paths /failed/reasons; do
  grep -qE "^ *dataset +$object\$" "$work/expected" || { echo "compare-features: $expected has no $object" >&2; exit 1; }
done
objects=$(awk '$1 == "dataset" { print $2 }' "$work/expected")
echo "same objects: $(echo "$objects" | wc -l) datasets ($(echo "$objects" | tr '\n' ' '))"

normalised -A -w 0 "$expected" >"$work/expected"
normalised -A -w 0 "$actual" >"$work/actual"
cmp -s "$work/expected" "$work/actual" || different "an attribute, a data type or a shape"
complete=$(awk '/ATTRIBUTE "complete"/ { found = 1 } found && /\(0\):/ { print $2; exit }' "$work/expected")
[ "$complete" = 1 ] || { echo "compare-features: the files are not complete (attribute complete: '${complete:-absent}')" >&2; exit 1; }
echo "same attributes, data types and shapes"

for object in $objects; do
  [ "$object" = /features ] && continue
  normalised -d "$object" -w 0 -m %.9g "$expected" >"$work/expected"
  normalised -d "$object" -w 0 -m %.9g "$actual" >"$work/actual"
  cmp -s "$work/expected" "$work/actual" || different "$object"
done
echo "same values: $(echo "$objects" | grep -vc '^/features$') datasets besides /features"

values() { h5dump -d /features -y -w 0 -m %.9g "$1" | awk '/DATA \{/ { inside = 1; next } inside && /^ *\}/ { inside = 0 } inside { gsub(/[ ,]/, ""); if ($0 != "") print }'; }
values "$expected" >"$work/expected"
values "$actual" >"$work/actual"
paste "$work/expected" "$work/actual" | awk -v tolerance="$tolerance" '
  NF != 2 { print "compare-features: /features: value counts differ at value " NR; bad = 1; exit }
  {
    if ($1 == "nan" || $2 == "nan" || $1 == "-nan" || $2 == "-nan") {
      if ($1 != $2) { over++; if (!first) first = NR }
      next
    }
    d = $1 - $2; if (d < 0) d = -d
    if (d > worst) { worst = d; at = NR }
    if (d > tolerance) { over++; if (!first) first = NR }
  }
  END {
    if (bad) exit 1
    printf "/features: %d values, largest |difference| %.3g (value %d), tolerance %s\n", NR, worst, at, tolerance
    if (NR == 0) exit 0
    if (over) { printf "compare-features: %d values of /features differ by more than %s, the first at value %d\n", over, tolerance, first; exit 1 }
  }'
echo "compare-features: same content"
