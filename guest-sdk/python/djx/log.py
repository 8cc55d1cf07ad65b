"""Levelled log messages, kept in the job's log with its stdout and stderr."""

from wit_world.imports import logging as _logging


def _log(level, message):
    _logging.log(level, str(message))


def trace(message):
    """Logs very detailed tracing."""
    _log(_logging.Level.TRACE, message)


def debug(message):
    """Logs debugging detail."""
    _log(_logging.Level.DEBUG, message)


def info(message):
    """Logs normal progress."""
    _log(_logging.Level.INFO, message)


def warn(message):
    """Logs something unexpected; the job goes on."""
    _log(_logging.Level.WARN, message)


def error(message):
    """Logs something that failed."""
    _log(_logging.Level.ERROR, message)
