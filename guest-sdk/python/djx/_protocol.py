"""The kit over djx's job protocol, version 1 (``wit/PROTOCOL.md``): the
backend of a script run by a WASI Python. Parameters, labels and datasets
are JSON files named by ``DJX_*`` variables; records are JSON lines
appended to ``DJX_RECORDS``; artifacts are files under ``DJX_ARTIFACTS``,
stored by djx (content-addressed) when a record names them or when the
program exits 0.
"""

import json
import math
import os
import shutil
import sys
import traceback

from ._error import DjxError

#: Which backend this is.
NAME = "protocol"


def _env(name):
    try:
        return os.environ[name]
    except KeyError:
        raise DjxError(
            f"{name} is not set: this is not a djx job (djx runs a script with "
            "`python: script.py` in an experiment file, or `djx exec`)"
        ) from None


def _read(name):
    with open(_env(name), encoding="utf-8") as f:
        return f.read()


def params_json():
    return _read("DJX_PARAMS")


def labels_json():
    return _read("DJX_LABELS")


def datasets():
    """``{name: (path, digest)}`` of the job's datasets."""
    return {d["name"]: (d["path"], d["digest"]) for d in json.loads(_read("DJX_DATASETS"))}


_bound = {}
_records = None


def _metric(value):
    # JSON has no NaN or infinity: the protocol spells them as strings.
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def record(event, context_json, metrics, artifacts):
    global _records
    context = dict(_bound)
    context.update(json.loads(context_json))
    line = {"event": event}
    if context:
        line["context"] = context
    if metrics:
        line["metrics"] = {name: _metric(value) for name, value in metrics}
    if artifacts:
        line["artifacts"] = dict(artifacts)
    if _records is None:
        _records = open(_env("DJX_RECORDS"), "a", encoding="utf-8")
    # One write and a flush a record: djx reads the file as it grows, and
    # a record must never be seen before the artifacts it names.
    _records.write(json.dumps(line, separators=(",", ":"), allow_nan=False) + "\n")
    _records.flush()


def bind(context_json):
    _bound.update(json.loads(context_json))


def unbind(keys):
    for key in keys:
        _bound.pop(key, None)


def _artifact_path(name):
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in name.split("/")):
        raise DjxError(f"artifact name {name!r}: a relative path without `.`, `..` or `//`")
    path = os.path.join(_env("DJX_ARTIFACTS"), name)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    return path


def save(name, data):
    path = _artifact_path(name)
    with open(path, "wb") as f:
        f.write(data)
    return name


def save_file(name, path):
    shutil.copyfile(path, _artifact_path(name))
    return name


class Writer:
    def __init__(self, name):
        self._name = name
        self._file = open(_artifact_path(name), "wb")

    def write(self, data):
        self._file.write(data)

    def finish(self):
        self._file.close()
        return self._name

    def close(self, exc_type, exc, tb):
        self._file.close()


def log(level, message):
    sys.stderr.write(f"[{level.upper()}] {message}\n")
    sys.stderr.flush()


def job(main):
    # The script is the program: the job runs now, and its exit status
    # says whether it finished. An exception's traceback goes to stderr,
    # whose end djx quotes as the failure's reason. Each call starts with
    # nothing bound and ends with the records file closed, so a process
    # may run several jobs one after another (the tests' native runs do).
    global _records
    _bound.clear()
    try:
        main()
    except Exception:
        sys.stderr.write(traceback.format_exc())
        sys.stderr.flush()
        sys.exit(1)
    finally:
        if _records is not None:
            _records.close()
            _records = None
    return main
