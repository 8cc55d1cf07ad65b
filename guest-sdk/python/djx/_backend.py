"""Which way the kit talks to djx, chosen once at import.

Built by ``djx build`` (componentize-py), a job is a component and the kit
calls djx's WIT imports (:mod:`djx._wit`). Run by a WASI Python (``python:``
in the experiment file), it is a WASI program and the kit speaks djx's job
protocol, version 1: files and environment variables (:mod:`djx._protocol`).
The functions are the same either way.
"""

try:
    import wit_world  # noqa: F401  (componentize-py's bindings of djx's WIT)
except ImportError:
    from ._protocol import *  # noqa: F401,F403
    from ._protocol import NAME  # noqa: F401
else:
    from ._wit import *  # noqa: F401,F403
    from ._wit import NAME  # noqa: F401
