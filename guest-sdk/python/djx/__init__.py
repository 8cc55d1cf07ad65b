"""The djx guest kit for Python.

A djx job written in Python is a module (``app.py``) that defines a function
and hands it to :func:`job`::

    import djx

    def main():
        p = djx.params()                      # the job's parameters (a dict)
        with open(djx.dataset("iris")) as f:  # a read-only dataset
            rows = f.read().splitlines()
        djx.bind(model="knn")                 # context of every later record
        djx.record("loaded", metrics={"rows": len(rows)}, context={"set": "all"})

    WitWorld = djx.job(main)

``djx build DIR -o job.wasm`` turns the directory into a WebAssembly
component (with componentize-py). The kit wraps the bindings componentize-py
generates from djx's WIT contract, so a job never touches them. It mirrors
the Rust SDK: :func:`params`, :func:`labels`, :func:`dataset`,
:func:`record`, :func:`bind`, :func:`unbind`, :mod:`djx.artifact` and
:mod:`djx.log`.

An exception that escapes the job's function fails the job; the failure
reason is the Python traceback.
"""

import json
import traceback

import wit_world
from componentize_py_types import Err
from wit_world.imports import datasets as _datasets
from wit_world.imports import params as _params
from wit_world.imports import records as _records
from wit_world.imports import types as _types

from . import artifact, log  # noqa: F401  (re-exported submodules)
from ._host import DjxError
from ._host import call as _host

__all__ = [
    "DjxError",
    "artifact",
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


def params():
    """The job's parameters (the experiment's ``parameter`` subtree) as a dict."""
    return json.loads(_params.parameters())


def labels():
    """The job's labels (the experiment's ``labels`` subtree) as a dict."""
    return json.loads(_params.labels())


def dataset(name):
    """The path of dataset ``name`` inside the sandbox (read-only).

    For a single-file dataset this is the file; for a directory, the
    directory.
    """
    found = _datasets.get(name)
    if found is None:
        have = ", ".join(sorted(datasets())) or "none"
        raise DjxError(f"this job has no dataset {name!r} (it has: {have})")
    return found.path


def dataset_digest(name):
    """The content digest (blake3, hex) of dataset ``name``."""
    found = _datasets.get(name)
    if found is None:
        raise DjxError(f"this job has no dataset {name!r}")
    return found.digest


def datasets():
    """Every dataset of the job: a dict of name to path."""
    return {d.name: d.path for d in _datasets.all()}


def record(event, metrics=None, context=None, artifacts=None):
    """Appends a record, like the original djx's ``rec``.

    ``metrics`` maps names to numbers, ``context`` is a JSON-serialisable
    dict merged over the bound context, and ``artifacts`` maps names to
    digests returned by :func:`djx.artifact.save`.
    """
    metric_list = [_types.Metric(str(k), float(v)) for k, v in (metrics or {}).items()]
    refs = [_types.ArtifactRef(str(k), str(v)) for k, v in (artifacts or {}).items()]
    _host(_records.record, str(event), json.dumps(context or {}), metric_list, refs)


def bind(**context):
    """Binds context merged into every later record (keys replace earlier ones)."""
    _host(_records.bind, json.dumps(context))


def unbind(*keys):
    """Removes keys from the bound context; unknown keys are ignored."""
    _records.unbind([str(k) for k in keys])


def job(main):
    """Makes ``main`` (a function of no arguments) the job.

    Returns the class componentize-py looks for; bind it to ``WitWorld`` in
    the job's module. Returning from ``main`` finishes the job; an exception
    fails it, with the traceback as the reason.
    """

    class WitWorld(wit_world.WitWorld):
        def run(self) -> None:
            try:
                main()
            except Exception:
                raise Err(traceback.format_exc().rstrip()) from None

    WitWorld.__doc__ = main.__doc__
    return WitWorld
