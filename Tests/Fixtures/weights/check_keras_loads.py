"""Developer check: Keras itself loads weight files written by Headstart's writer.

    swift test --filter KerasWeightFileTests   # leaves tiny-keras{1,2,3Legacy}.h5 in /tmp/kerasweights-<pid>/
    /work/venv-keras/bin/python Tests/Fixtures/weights/check_keras_loads.py /tmp/kerasweights-*/tiny-keras*.h5
"""
import os, sys, json
os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"
import numpy as np, keras
inputs = keras.Input((6, 6, 3), name="input_layer")
x = keras.layers.Conv2D(4, 3, name="conv1_conv")(inputs)
x = keras.layers.BatchNormalization(name="conv1_bn")(x)
x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
outputs = keras.layers.Dense(2, name="predictions")(x)
model = keras.Model(inputs, outputs)
known = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_values.json")))
for p in sys.argv[1:]:
    model.load_weights(p)
    ok = True
    for layer, roles in known.items():
        ws = model.get_layer(layer).weights
        for w in ws:
            role = w.path.split("/")[-1]
            ok &= np.array_equal(w.numpy().ravel(), np.array(roles[role]["values"], dtype=np.float32))
    print(p, "loaded by Keras", keras.__version__, "equal:", ok)
