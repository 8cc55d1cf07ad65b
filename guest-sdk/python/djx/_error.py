"""The one exception the kit raises."""


class DjxError(Exception):
    """djx refused a call (the message says why)."""
