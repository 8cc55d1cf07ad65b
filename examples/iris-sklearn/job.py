"""The original djx's iris job, in Python with pandas and scikit-learn.

Cross-validates ``RandomForestClassifier(**model_args)`` with
``KFold(**cross_val_args)`` on the ``iris`` dataset, and records train and
test accuracy per fold (context ``set: train|test``, bound ``fold``) and
their means. It draws the confusion matrix of the out-of-fold predictions
with matplotlib (``confusion.png``) and, with ``save: true``, stores the
forest fitted on every row (``model.pickle``).

djx runs it with a WASI Python (``python: job.py``); run natively, with the
``DJX_*`` variables of djx's job protocol set, it computes the same figures.
"""

import io
import pickle

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, confusion_matrix
from sklearn.model_selection import KFold

import djx


def confusion_png(y, predicted, classes, title):
    """The confusion matrix as PNG bytes."""
    matrix = confusion_matrix(y, predicted, labels=classes)
    fig, ax = plt.subplots(figsize=(4.5, 4), dpi=100)
    ConfusionMatrixDisplay(matrix, display_labels=classes).plot(ax=ax, colorbar=False)
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    out = io.BytesIO()
    # No metadata: the bytes depend on the figure alone.
    fig.savefig(out, format="png", metadata={"Software": None})
    plt.close(fig)
    return out.getvalue()


def main():
    p = djx.params()
    dataset_args = p["dataset_args"]
    df = pd.read_csv(djx.dataset("iris"))
    x = df[dataset_args["feature_columns"]].to_numpy()
    y = df[dataset_args["target_column"]].to_numpy()
    classes = sorted(set(y))
    djx.log.info(f"{len(df)} rows, classes {classes}")

    predicted = np.empty_like(y)
    train_scores, test_scores = [], []
    for fold, (train, test) in enumerate(KFold(**p["cross_val_args"]).split(x)):
        model = RandomForestClassifier(**p["model_args"]).fit(x[train], y[train])
        train_acc = accuracy_score(y[train], model.predict(x[train]))
        predicted[test] = model.predict(x[test])
        test_acc = accuracy_score(y[test], predicted[test])
        djx.bind(fold=fold)
        djx.record("cv fit finished", metrics={"accuracy": train_acc}, context={"set": "train"})
        djx.record("cv fit finished", metrics={"accuracy": test_acc}, context={"set": "test"})
        train_scores.append(train_acc)
        test_scores.append(test_acc)
    djx.unbind("fold")

    title = ", ".join(f"{k}={v}" for k, v in sorted(p["model_args"].items()))
    plot = djx.artifact.save("confusion.png", confusion_png(y, predicted, classes, title))
    djx.record(
        "cv finished",
        metrics={
            "mean_test_accuracy": float(np.mean(test_scores)),
            "mean_train_accuracy": float(np.mean(train_scores)),
        },
        artifacts={"confusion": plot},
    )

    if p.get("save"):
        model = RandomForestClassifier(**p["model_args"]).fit(x, y)
        ref = djx.artifact.save("model.pickle", pickle.dumps(model, protocol=5))
        djx.record("model saved", artifacts={"model": ref})


matplotlib.use("Agg")
WitWorld = djx.job(main)
