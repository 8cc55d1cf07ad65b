"""The iris job in pure Python: k-fold cross-validation of a k-nearest-
neighbours classifier, taking the original djx's ``cross_val_args``,
``model_args`` and ``dataset_args``. Records train and test accuracy per
fold (context ``set: train|test``, bound ``fold``) and their means.
"""

import csv
import math
import random
from collections import Counter

import djx


def load(path, dataset_args):
    """Reads the CSV: feature rows (floats) and target labels."""
    features = dataset_args["feature_columns"]
    target = dataset_args["target_column"]
    xs, ys = [], []
    with open(path, newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            try:
                xs.append([float(row[c]) for c in features])
            except KeyError as e:
                raise ValueError(f"{path}: no column {e} (have {sorted(row)})") from None
            except ValueError as e:
                raise ValueError(f"{path}:{line}: {e}") from None
            ys.append(row[target])
    return xs, ys


def kfold(n, n_splits, shuffle=False, random_state=0):
    """(train, test) index lists, like scikit-learn's ``KFold``: the first
    ``n % n_splits`` folds get one row more."""
    if not 2 <= n_splits <= n:
        raise ValueError(f"n_splits must be between 2 and {n}, not {n_splits}")
    indices = list(range(n))
    if shuffle:
        random.Random(random_state).shuffle(indices)
    sizes = [n // n_splits + (1 if i < n % n_splits else 0) for i in range(n_splits)]
    start = 0
    for size in sizes:
        test = indices[start : start + size]
        train = indices[:start] + indices[start + size :]
        yield train, test
        start += size


def predict(train_x, train_y, x, n_neighbors, weights):
    """The k-NN vote for one row (ties go to the label first in sort order)."""
    nearest = sorted(
        (math.dist(x, tx), ty) for tx, ty in zip(train_x, train_y)
    )[:n_neighbors]
    votes = Counter()
    for distance, label in nearest:
        votes[label] += 1.0 if weights == "uniform" else 1.0 / (distance + 1e-12)
    best = max(votes.values())
    return min(label for label, v in votes.items() if v == best)


def accuracy(train_x, train_y, xs, ys, model_args):
    k = model_args.get("n_neighbors", 5)
    weights = model_args.get("weights", "uniform")
    if weights not in ("uniform", "distance"):
        raise ValueError(f"weights must be 'uniform' or 'distance', not {weights!r}")
    hits = sum(
        predict(train_x, train_y, x, k, weights) == y for x, y in zip(xs, ys)
    )
    return hits / len(ys)


def main():
    p = djx.params()
    xs, ys = load(djx.dataset("iris"), p["dataset_args"])
    djx.log.info(f"{len(xs)} rows, classes {sorted(set(ys))}")
    scores = []
    for fold, (train, test) in enumerate(kfold(len(xs), **p["cross_val_args"])):
        train_x, train_y = [xs[i] for i in train], [ys[i] for i in train]
        test_x, test_y = [xs[i] for i in test], [ys[i] for i in test]
        djx.bind(fold=fold)
        train_acc = accuracy(train_x, train_y, train_x, train_y, p["model_args"])
        test_acc = accuracy(train_x, train_y, test_x, test_y, p["model_args"])
        djx.record("cv fit finished", metrics={"accuracy": train_acc}, context={"set": "train"})
        djx.record("cv fit finished", metrics={"accuracy": test_acc}, context={"set": "test"})
        scores.append((train_acc, test_acc))
    djx.unbind("fold")
    djx.record(
        "cv finished",
        metrics={
            "mean_test_accuracy": sum(s[1] for s in scores) / len(scores),
            "mean_train_accuracy": sum(s[0] for s in scores) / len(scores),
        },
    )


WitWorld = djx.job(main)
