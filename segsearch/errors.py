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


class DiskFull(SegsearchError, OSError):
    """A write failed because the filesystem is full; the message names the path and the free space."""

    def __init__(self, path: str | object, detail: str = "", usage: tuple[int, int] | None = None) -> None:
        """``usage``: (free, total) bytes when the write failed; measured now when not given."""
        import errno
        import shutil
        from pathlib import Path

        folder = Path(str(path)).parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        try:
            free, total = usage or (shutil.disk_usage(folder).free, shutil.disk_usage(folder).total)
            space = f"{free / 2**20:.0f} MB free of {total / 2**20:.0f} MB"
        except OSError:
            space = "free space unknown"
        msg = (f"disk full writing {path} ({space}){': ' + detail if detail else ''}; free some space (old "
               "studies/, W&B runs) or set --studies-dir to another disk, then run the same command again")
        super().__init__(errno.ENOSPC, msg)
        self.path = str(path)

    def __str__(self) -> str:
        return str(self.args[1])


class WeightsUnavailable(SegsearchError, RuntimeError):
    """Pretrained encoder weights are neither cached nor downloadable."""


class ExportMismatch(SegsearchError, RuntimeError):
    """An exported model's output differs from PyTorch's by more than the tolerance."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) is a full filesystem."""
    import errno

    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, DiskFull) or (isinstance(e, OSError) and e.errno == errno.ENOSPC):
            return True
        if "database or disk is full" in str(e) or "no space left on device" in str(e).lower():
            return True
        e = e.__cause__ or e.__context__
    return False


__all__ = ["ConfigError", "DataError", "DiskFull", "is_disk_full", "ExportMismatch", "SegsearchError", "SpaceChanged", "StorageError",
           "WeightsUnavailable"]
