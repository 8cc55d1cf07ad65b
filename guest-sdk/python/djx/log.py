"""Levelled log messages, kept in the job's log with its stdout and stderr."""

from . import _backend


def trace(message):
    """Logs very detailed tracing."""
    _backend.log("trace", str(message))


def debug(message):
    """Logs debugging detail."""
    _backend.log("debug", str(message))


def info(message):
    """Logs normal progress."""
    _backend.log("info", str(message))


def warn(message):
    """Logs something unexpected; the job goes on."""
    _backend.log("warn", str(message))


def error(message):
    """Logs something that failed."""
    _backend.log("error", str(message))
