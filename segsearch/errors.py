"""The errors segsearch raises on purpose, under one base.

Each is a user's mistake or an unreachable resource, with a message that names the file, field or
value (and the valid choices). The CLI turns any ``SegsearchError`` into that message and exit code 2,
without a traceback. No imports: every layer may raise these.
"""

from __future__ import annotations


class SegsearchError(Exception):
    """Base of every error segsearch raises on purpose; ``str(exc)`` is the whole message for the user."""


class ConfigError(SegsearchError, ValueError):
    """A search-space file or an option is invalid; the message says where and why."""


class SpaceChanged(SegsearchError, ValueError):
    """The YAML no longer matches the study it names."""


class DataError(SegsearchError, ValueError):
    """A data file is missing, unreadable or inconsistent; the message names it.

    ``kind`` says what is wrong: ``unreadable``, ``out_of_range`` (mask values or colours outside
    the classes), ``mismatch`` (sizes, channel counts) or ``invalid``.
    """

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


class StorageError(SegsearchError, RuntimeError):
    """The storage could not be reached or opened (the message has no password)."""


class WeightsUnavailable(SegsearchError, RuntimeError):
    """Pretrained encoder weights are neither cached nor downloadable."""


class ExportMismatch(SegsearchError, RuntimeError):
    """An exported model's output differs from PyTorch's by more than the tolerance."""


__all__ = ["ConfigError", "DataError", "ExportMismatch", "SegsearchError", "SpaceChanged", "StorageError",
           "WeightsUnavailable"]
