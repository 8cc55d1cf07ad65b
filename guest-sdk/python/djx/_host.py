"""Calling the host: its ``err`` results become :class:`DjxError`."""

from componentize_py_types import Err


class DjxError(Exception):
    """The host refused a call (the message says why)."""


def call(function, *args):
    """Calls a host function, turning its ``err`` into :class:`DjxError`."""
    try:
        return function(*args)
    except Err as e:
        raise DjxError(e.value) from None
