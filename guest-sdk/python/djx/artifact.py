"""Artifacts: content-addressed bytes a job produces (a model, a plot).

What :func:`save` returns names the artifact in :func:`djx.record`'s
``artifacts``: its blake3 digest in a component, its file's name under
the job protocol (djx stores the file, by digest, when the record is read).
"""

from . import _backend


def _bytes(data):
    return data.encode() if isinstance(data, str) else bytes(data)


def save(name, data):
    """Stores ``data`` (bytes, or str as UTF-8) as artifact ``name``; returns its reference."""
    return _backend.save(str(name), _bytes(data))


def save_file(name, path):
    """Stores a file the job wrote under ``/tmp`` as artifact ``name``; returns its reference."""
    return _backend.save_file(str(name), str(path))


class Writer:
    """Streams a large artifact in chunks::

        with djx.artifact.Writer("model") as w:
            w.write(chunk)
        ref = w.digest
    """

    def __init__(self, name):
        self._writer = _backend.Writer(str(name))
        self.digest = None

    def write(self, data):
        """Appends bytes (or str as UTF-8)."""
        self._writer.write(_bytes(data))

    def finish(self):
        """Ends the artifact; returns (and keeps in ``digest``) its reference."""
        self.digest = self._writer.finish()
        return self.digest

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self.digest is None:
            self.finish()
        self._writer.close(exc_type, exc, tb)
        return False
