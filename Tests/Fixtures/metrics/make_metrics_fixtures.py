"""Known answers for Tests/HeadsTests/MetricsFixtureTests.swift, from scikit-learn and scipy.

Run with /work/venv-keras/bin/python (scikit-learn 1.9.1, scipy 1.17.1); writes
metrics_fixtures.json next to this file. Scores are float32 values (stored exactly as float64)
because the Swift heads produce Float. Missing labels are -1 (classes, sigmoid) or NaN
(regression, stored as null). The Wilson interval is computed from its formula (no
statsmodels); the tuned thresholds by brute force over every distinct score with sklearn's
f1_score / confusion_matrix, ties to the higher threshold, as MetricsSigmoid.swift documents.
"""

import json
import math
import os

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn.metrics import (confusion_matrix, f1_score, mean_absolute_error, mean_squared_error,
                             precision_recall_fscore_support, roc_auc_score)

Z95 = float(scipy.stats.norm.ppf(0.975))


def wilson(successes, n, z=Z95):
    if n == 0:
        return [0.0, 1.0]
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [max(0.0, centre - half), min(1.0, centre + half)]


def classification_case(rng, n, classes, missing, skew_to=None):
    scores = rng.random((n, classes)).astype(np.float32)
    if skew_to is not None:  # make one class never predicted
        scores[:, skew_to] = 0
    labels = rng.integers(0, classes, n)
    labels[rng.random(n) < missing] = -1
    keep = labels >= 0
    y = labels[keep]
    pred = np.argmax(scores, axis=1)[keep]
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=list(range(classes)), zero_division=0)
    correct = int((y == pred).sum())
    return {
        "classes": classes,
        "scores": [float(v) for v in scores.reshape(-1)],
        "labels": [int(v) for v in labels],
        "count": int(keep.sum()),
        "accuracy": correct / int(keep.sum()),
        "accuracy_ci95": wilson(correct, int(keep.sum())),
        "precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": s.tolist(),
        "confusion": confusion_matrix(y, pred, labels=list(range(classes))).tolist(),
        "macro_f1": float(f1_score(y, pred, labels=list(range(classes)), average="macro", zero_division=0)),
    }


def tuned(scores, positive, rule):
    best, best_key = None, None
    for t in sorted(set(scores.tolist()), reverse=True):
        pred = scores >= t
        if rule == "max_f1":
            key = (-f1_score(positive, pred, zero_division=0), 0.0)
        else:
            tn, fp, fn, tp = confusion_matrix(positive, pred, labels=[False, True]).ravel()
            fpr = fp / (fp + tn) if fp + tn else 0.0
            fnr = fn / (fn + tp) if fn + tp else 0.0
            key = (abs(fpr - fnr), fpr + fnr)
        if best_key is None or key < best_key:
            best, best_key = t, key
    return best


def sigmoid_case(rng, n, label_count, decimals, missing):
    scores = rng.random((n, label_count)).astype(np.float32)
    if decimals is not None:  # ties
        scores = np.round(scores, decimals).astype(np.float32)
    labels = (rng.random((n, label_count)) < 0.4).astype(np.float32)
    labels[rng.random((n, label_count)) < missing] = -1
    per_label = []
    for j in range(label_count):
        keep = labels[:, j] >= 0
        s = scores[keep, j].astype(np.float64)
        y = labels[keep, j] == 1
        entry = {"accuracy_at_half": float(np.mean((s >= 0.5) == y)), "count": int(keep.sum()),
                 "positives": int(y.sum())}
        entry["roc_auc"] = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None
        for rule in ["max_f1", "balanced_errors"]:
            t = tuned(s, y, rule)
            entry[rule] = {"threshold": t, "accuracy": float(np.mean((s >= t) == y)),
                           "f1": float(f1_score(y, s >= t, zero_division=0))}
        per_label.append(entry)
    return {"label_count": label_count, "scores": [float(v) for v in scores.reshape(-1)],
            "labels": [float(v) for v in labels.reshape(-1)], "per_label": per_label}


def regression_case(rng, n, low, high, missing):
    outputs = rng.uniform(-1, 1, n).astype(np.float32)
    predictions = (outputs.astype(np.float64) + 1) / 2 * (high - low) + low
    labels = (predictions + rng.normal(0, 0.3 * (high - low), n)).astype(np.float32)
    labels[rng.random(n) < missing] = np.nan
    keep = ~np.isnan(labels)
    p, y = predictions[keep], labels[keep].astype(np.float64)
    return {"low": low, "high": high, "outputs": [float(v) for v in outputs],
            "labels": [None if math.isnan(v) else float(v) for v in labels],
            "predictions": predictions.tolist(), "count": int(keep.sum()),
            "mae": float(mean_absolute_error(y, p)), "rmse": math.sqrt(mean_squared_error(y, p)),
            "pearson_r": float(scipy.stats.pearsonr(p, y).statistic)}


def main():
    rng = np.random.default_rng(20261123)
    fixture = {
        "versions": {"sklearn": sklearn.__version__, "scipy": scipy.__version__, "numpy": np.__version__},
        "z95": Z95,
        "classification": [classification_case(rng, 9, 3, 0.2),
                           classification_case(rng, 40, 4, 0.1, skew_to=2),
                           classification_case(rng, 60, 2, 0.0)],
        "sigmoid": [sigmoid_case(rng, 30, 3, None, 0.1), sigmoid_case(rng, 50, 2, 1, 0.2)],
        "regression": [regression_case(rng, 25, 0.0, 10.0, 0.2), regression_case(rng, 80, -3.5, 120.0, 0.1)],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics_fixtures.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
