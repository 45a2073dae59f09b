"""Masking secrets (database passwords) in anything shown or written. No heavy imports."""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@]*):(?P<pw>[^@/]*)@")
_QUERY_PW = re.compile(r"(?i)(password=)[^&\s]*")


def mask_url(text: str) -> str:
    """Hide the password in ``user:pass@host`` and ``?password=`` forms (anywhere in a text)."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _QUERY_PW.sub(r"\1***", text)


mask = mask_url

__all__ = ["mask", "mask_url"]
