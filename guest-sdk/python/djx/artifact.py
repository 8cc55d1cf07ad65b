"""Artifacts: content-addressed bytes a job produces (a model, a plot)."""

from wit_world.imports import artifacts as _artifacts

from ._host import call as _host


def save(name, data):
    """Stores ``data`` (bytes, or str as UTF-8) as artifact ``name``; returns its digest."""
    if isinstance(data, str):
        data = data.encode()
    return _host(_artifacts.save, str(name), bytes(data))


def save_file(name, path):
    """Stores a file the job wrote under ``/tmp`` as artifact ``name``; returns its digest."""
    return _host(_artifacts.save_file, str(name), str(path))


class Writer:
    """Streams a large artifact in chunks::

        with djx.artifact.Writer("model") as w:
            w.write(chunk)
        digest = w.digest
    """

    def __init__(self, name):
        self._writer = _host(_artifacts.Writer, str(name))
        self.digest = None

    def write(self, data):
        """Appends bytes (or str as UTF-8)."""
        if isinstance(data, str):
            data = data.encode()
        _host(self._writer.write, bytes(data))

    def finish(self):
        """Ends the artifact; returns (and keeps in ``digest``) its digest."""
        self.digest = _host(self._writer.finish)
        return self.digest

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self.digest is None:
            self.finish()
        self._writer.__exit__(exc_type, exc, tb)
        return False
