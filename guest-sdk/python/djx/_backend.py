"""Which way the kit talks to djx, chosen once at import.

Built by ``djx build`` (componentize-py), a job is a component and the kit
calls djx's WIT imports (:mod:`djx._wit`). Run by a WASI Python (``python:``
in the experiment file), it is a WASI program and the kit speaks djx's job
protocol, version 1: files and environment variables (:mod:`djx._protocol`).
Both backends define the functions below, with the same meaning.
"""

try:
    import wit_world  # noqa: F401  (componentize-py's bindings of djx's WIT)
except ImportError:
    from . import _protocol as _impl
else:
    from . import _wit as _impl

#: ``"wit"`` or ``"protocol"``.
NAME = _impl.NAME
params_json = _impl.params_json
labels_json = _impl.labels_json
datasets = _impl.datasets
record = _impl.record
bind = _impl.bind
unbind = _impl.unbind
save = _impl.save
save_file = _impl.save_file
Writer = _impl.Writer
log = _impl.log
job = _impl.job
