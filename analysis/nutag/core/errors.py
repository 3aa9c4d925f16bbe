"""Exception types a physicist can act on.

Every configuration problem is reported against the YAML file, line and key that caused it,
with a concrete fix, because the YAML *is* the analysis: the person reading the message is
editing that file, not the Python.
"""

from __future__ import annotations


class NutagError(Exception):
    """Base class of every error raised on purpose by nutag."""


class ConfigError(NutagError):
    """A problem in a YAML configuration (or in what it points to), found before the event loop.

    ``str(err)`` reads ``"file:line: key: message. Fix: hint"`` so editors and terminals can
    jump to the location. ``line`` is 1-based; 0 means "the whole file".
    """

    def __init__(self, file: str, line: int, key: str, message: str, hint: str) -> None:
        self.file = str(file)
        self.line = int(line)
        self.key = key
        self.message = message.rstrip().rstrip(".")
        self.hint = hint.rstrip().rstrip(".")
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}: {self.message}. Fix: {self.hint}"

    def __reduce__(self):  # keep picklable (dask / multiprocessing ship exceptions)
        return (type(self), (self.file, self.line, self.key, self.message, self.hint))
