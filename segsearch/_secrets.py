"""Masking secrets (database passwords) in anything shown or written. No heavy imports.

``mask`` hides the password of ``scheme://user:pass@host`` and ``?password=...`` forms anywhere in a
text, plus every literal password seen by ``remember_url`` (so a password that shows up without its
URL, e.g. in a driver's error message, is hidden too). ``install_log_filter`` applies ``mask`` to every
log record that reaches the root logger's handlers.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import unquote

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@")
_QUERY_PW = re.compile(r"(?i)(password=)[^&\s'\"]*")
_KNOWN: set[str] = set()


def mask_url(text: str) -> str:
    """Hide the password in ``user:pass@host`` and ``?password=`` forms (anywhere in a text)."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", str(text))
    text = _QUERY_PW.sub(r"\1***", text)
    for secret in sorted(_KNOWN, key=len, reverse=True):  # longest first: overlapping secrets
        text = text.replace(secret, "***")
    return text


mask = mask_url


def remember_url(url: str) -> None:
    """Remember the password of a storage URL so that ``mask`` hides it wherever it appears."""
    found = [m["pw"] for m in _USERINFO.finditer(url)]
    found += [v.split("&")[0] for v in re.findall(r"(?i)password=([^&\s]+)", url)]
    for pw in found:
        for form in {pw, unquote(pw)}:
            if len(form) >= 4 and form != "***":  # short strings would mangle ordinary text
                _KNOWN.add(form)


class MaskFilter(logging.Filter):
    """Masks the formatted message (and exception text) of every record passing a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        masked = mask(msg)
        if masked != msg:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            if mask(str(exc)) != str(exc):  # the traceback would print the secret: keep only a masked line
                record.msg = f"{record.msg}: {type(exc).__name__}: {mask(str(exc))}"
                record.args, record.exc_info, record.exc_text = None, None, None
        return True


def install_log_filter() -> None:
    """Attach ``MaskFilter`` to the root logger's handlers (idempotent)."""
    root = logging.getLogger()
    handlers: Sequence[logging.Handler | None] = root.handlers or [logging.lastResort]
    for handler in handlers:
        if handler is not None and not any(isinstance(f, MaskFilter) for f in handler.filters):
            handler.addFilter(MaskFilter())


__all__ = ["MaskFilter", "install_log_filter", "mask", "mask_url", "remember_url"]


def mask_argv() -> list[str]:
    """Replace the process's ``sys.argv`` by its masked form (W&B and crash reporters record argv) and
    return the original arguments, for the caller that still has to parse them."""
    args = sys.argv[1:]
    for a in args:
        if "://" in a or "password=" in a.lower():
            remember_url(a)
    sys.argv[1:] = [mask(a) for a in args]
    return args


@contextmanager
def masked_argv() -> Iterator[None]:
    """``sys.argv`` masked for the duration (e.g. around ``wandb.init``, which records it)."""
    saved = sys.argv[:]
    sys.argv[:] = [mask(a) for a in saved]
    try:
        yield
    finally:
        sys.argv[:] = saved
