"""Text from outside (a program's id or name, a file name) made safe to show on a terminal.

A name read from a file can hold terminal escape sequences (`ESC ] 0 ; ... BEL` sets the window
title, `ESC [ 2 J` clears the screen) or newlines that fake status lines. Everything that reaches
a log line, an error message or CLI output goes through `printable` first. It imports nothing
from synthgen, so any module can use it.
"""

from __future__ import annotations

import unicodedata

# Bidirectional overrides and isolates reorder what a terminal shows ("Trojan Source"): shown
# escaped too, though they are printable in Unicode's sense.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """`text` with control characters escaped as Python writes them (`\\x1b`, `\\n`, `\\x9b`, `\\u202e`).

    Escaped: C0 controls (newline and tab included), DEL, C1 controls, bidirectional controls,
    and lone surrogates (a file name that is not UTF-8, as Python decodes it), which would make
    printing fail. A backslash is left alone, so the escaped form reads like the original.
    """
    if text.isprintable() and not _BIDI_CONTROLS.intersection(text):
        return text  # the common case, kept cheap
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
        code = ord(char)
        if char in "\n\t\r":
            return repr(char)[1:-1]
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 shard`, `3 shards`: a count with its noun in the number it needs (`plural` where
    adding an s is wrong)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
