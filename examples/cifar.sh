#!/usr/bin/env bash
# CIFAR-10 style: 32x32 uint8 arrays saved as `np.savez(..., x=x_train, y=y_train)` writes them,
# VGG16 at their own size, a softmax head with two hidden Dense(100) layers, then predictions for
# held-out arrays. CIFAR-10 itself is not bundled (and a CI machine may have no numpy), so python3's
# standard library writes a small CIFAR-shaped dataset: 10 classes, each a dominant hue with
# random brightness, stripes and noise, seeded. The script fails unless the head clearly learns.
# Usage: bash examples/cifar.sh HEADSTART [OUTPUT-FOLDER]
source "$(dirname "$0")/common.sh"
weights_for vgg16
command -v python3 >/dev/null || { echo "cifar.sh needs python3 (its standard library only)"; exit 1; }
classes=airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck

# train.npz: 100 images per class, test.npz: 20 per class; x uint8 (N, 32, 32, 3), y uint8 (N, 1)
# as cifar10.load_data() returns them. A .npz is a zip of .npy files (stored, as np.savez does).
python3 - "$out" <<'PY'
import colorsys, random, struct, sys, zipfile

def npy(shape, data):
    # .npy format 1.0: magic, version, little-endian header length, a dict padded with spaces
    # and ended by a newline so that the data starts at a multiple of 64 bytes.
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': %r, }" % (tuple(shape),)
    pad = -(10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + bytes(data)

def image(rng, label):
    hue = (label + rng.uniform(-0.35, 0.35)) / 10
    r, g, b = colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.5, 1.0))
    period, vertical = rng.randint(4, 10), rng.random() < 0.5
    pixels = bytearray()
    for y in range(32):
        for x in range(32):
            shade = 0.75 if ((x if vertical else y) // period) % 2 else 1.0
            for c in (r, g, b):
                pixels.append(max(0, min(255, int(255 * c * shade + rng.gauss(0, 30)))))
    return pixels

def write(path, per_class, seed):
    rng = random.Random(seed)
    labels = [k for _ in range(per_class) for k in range(10)]
    x = bytearray()
    for label in labels:
        x += image(rng, label)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("x.npy", npy((len(labels), 32, 32, 3), x))
        z.writestr("y.npy", npy((len(labels), 1), labels))

write(sys.argv[1] + "/train.npz", 100, 0)
write(sys.argv[1] + "/test.npz", 20, 1)
PY

cat >"$out/heads.yaml" <<'YAML'
heads:
  - {name: cifar, kind: softmax, column: class, hidden: [100, 100]}
YAML
set -x
# No --size: the arrays keep their 32x32, as Keras' VGG16(input_shape=(32, 32, 3)) takes them (the
# backbone accepts 32 pixels a side and more); block5_pool is then 1x1x512, so the pooled feature
# is that one position, what Keras' Flatten gives.
"$headstart" extract --array "$out/train.npz" --class-names "$classes" --backbone vgg16 "${weights[@]}" \
  --output "$out/cifar.h5" --overwrite --quiet
"$headstart" fit-heads --features "$out/cifar.h5" --heads "$out/heads.yaml" \
  --metrics "$out/metrics.json" --output "$out/heads.h5" --quiet
if [ ${#weights[@]} -gt 0 ]; then predict_weights=(--weights random); else predict_weights=(); fi
"$headstart" predict --heads "$out/heads.h5" "${predict_weights[@]}" --array "$out/test.npz" \
  --output "$out/test.csv" --quiet
{ set +x; } 2>/dev/null

# Real learning, or a failure: chance is 0.1 with 10 classes. The validation accuracy is the one
# fit-heads reports; the test accuracy compares predict's classes with test.npz's y.
python3 - "$out" "$classes" <<'PY'
import csv, json, sys, zipfile
out, classes = sys.argv[1], sys.argv[2].split(",")
val = json.load(open(out + "/metrics.json"))["heads"]["cifar"]["val"]["accuracy"]
y = zipfile.ZipFile(out + "/test.npz").read("y.npy")
rows = list(csv.DictReader(open(out + "/test.csv")))
labels = y[len(y) - len(rows):]  # uint8 (N, 1): the last N bytes, after the header
# Row i is named x[00000i].
test = sum(classes[labels[int(row["path"][2:-1])]] == row["cifar"] for row in rows) / len(rows)
print(f"cifar: validation accuracy {val:.3f}, test accuracy {test:.3f} on {len(rows)} images (chance 0.100)")
if min(val, test) < 0.5:
    sys.exit("cifar: the head did not learn (accuracy below 0.5)")
PY
