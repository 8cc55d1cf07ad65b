"""The kit over djx's WIT imports: the backend of a component built by
``djx build`` with componentize-py."""

import traceback

import wit_world
from componentize_py_types import Err
from wit_world.imports import artifacts as _artifacts
from wit_world.imports import datasets as _datasets
from wit_world.imports import logging as _logging
from wit_world.imports import params as _params
from wit_world.imports import records as _records
from wit_world.imports import types as _types

from ._error import DjxError

#: Which backend this is.
NAME = "wit"


def _call(function, *args):
    """Calls a host function, turning its ``err`` into :class:`DjxError`."""
    try:
        return function(*args)
    except Err as e:
        raise DjxError(e.value) from None


def params_json():
    return _params.parameters()


def labels_json():
    return _params.labels()


def datasets():
    """``{name: (path, digest)}`` of the job's datasets."""
    return {d.name: (d.path, d.digest) for d in _datasets.all()}


def record(event, context_json, metrics, artifacts):
    metric_list = [_types.Metric(name, value) for name, value in metrics]
    refs = [_types.ArtifactRef(name, ref) for name, ref in artifacts]
    _call(_records.record, event, context_json, metric_list, refs)


def bind(context_json):
    _call(_records.bind, context_json)


def unbind(keys):
    _records.unbind(keys)


def save(name, data):
    return _call(_artifacts.save, name, data)


def save_file(name, path):
    return _call(_artifacts.save_file, name, path)


class Writer:
    def __init__(self, name):
        self._writer = _call(_artifacts.Writer, name)

    def write(self, data):
        _call(self._writer.write, data)

    def finish(self):
        return _call(self._writer.finish)

    def close(self, exc_type, exc, tb):
        self._writer.__exit__(exc_type, exc, tb)


_LEVELS = {
    "trace": _logging.Level.TRACE,
    "debug": _logging.Level.DEBUG,
    "info": _logging.Level.INFO,
    "warn": _logging.Level.WARN,
    "error": _logging.Level.ERROR,
}


def log(level, message):
    _logging.log(_LEVELS[level], message)


def job(main):
    class WitWorld(wit_world.WitWorld):
        def run(self) -> None:
            try:
                main()
            except Exception:
                raise Err(traceback.format_exc().rstrip()) from None

    WitWorld.__doc__ = main.__doc__
    return WitWorld
