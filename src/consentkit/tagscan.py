"""Where an incomplete tag ends, found incrementally as its bytes arrive.

A tag cut across many chunks (an ``<img src="data:...">`` of several megabytes) must not be
re-scanned from its start at every chunk: this scanner keeps the HTML tokenizer's state
inside a tag (attribute name, before a value, quoted or unquoted value) and reads each new
byte once, so finding the end of a tag costs time linear in its size.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["TagScanner"]

_NAME: Final = re.compile(rb"[^\t\n\f\r />]*+")  # tag name
_ATTR_NAME: Final = re.compile(rb"[^\t\n\f\r /=>]*+")
_SPACE_SLASH: Final = re.compile(rb"[\t\n\f\r /]*+")
_SPACE: Final = re.compile(rb"[\t\n\f\r ]*+")
_UNQUOTED: Final = re.compile(rb"[^\t\n\f\r >]*+")
_START: Final = re.compile(rb"</?[A-Za-z]")

# tokenizer states inside a tag
_TAG_NAME, _BEFORE, _ATTR, _AFTER_ATTR, _BEFORE_VALUE, _DQ, _SQ, _UNQ = range(8)


class TagScanner:
    """Feed the bytes of a tag (from its ``<``) piece by piece; learn where its ``>`` is."""

    def __init__(self) -> None:
        self._state = _TAG_NAME
        self._offset = 0  # bytes of the tag seen so far
        self._started = False

    @staticmethod
    def starts_tag(data: bytes) -> bool:
        """Whether ``data`` begins with a start or end tag (``<`` or ``</`` and a letter)."""
        return _START.match(data) is not None

    def feed(self, data: bytes) -> int:
        """Scan the next piece; the offset just past the tag's ``>`` (counted from the tag's
        first byte), or -1 while the tag is still incomplete."""
        pos = 0
        if not self._started:
            self._started = True
            pos = 2 if data.startswith(b"</") else 1
        n = len(data)
        state = self._state
        while pos < n:
            if state in (_TAG_NAME, _ATTR, _UNQ):
                pattern = _NAME if state == _TAG_NAME else _ATTR_NAME if state == _ATTR else _UNQUOTED
                pos = pattern.match(data, pos).end()  # type: ignore[union-attr]
                if pos >= n:
                    break
                c = data[pos]
                if c == 0x3E:
                    return self._done(pos)
                pos += 1
                if state == _ATTR and c == 0x3D:  # "="
                    state = _BEFORE_VALUE
                elif state == _ATTR and c != 0x2F:
                    state = _AFTER_ATTR
                else:
                    state = _BEFORE
            elif state == _BEFORE:
                pos = _SPACE_SLASH.match(data, pos).end()  # type: ignore[union-attr]
                if pos >= n:
                    break
                if data[pos] == 0x3E:
                    return self._done(pos)
                pos += 1  # the first character of a name may be "="
                state = _ATTR
            elif state == _AFTER_ATTR:
                pos = _SPACE.match(data, pos).end()  # type: ignore[union-attr]
                if pos >= n:
                    break
                c = data[pos]
                if c == 0x3E:
                    return self._done(pos)
                if c == 0x3D:
                    pos += 1
                    state = _BEFORE_VALUE
                elif c == 0x2F:
                    pos += 1
                    state = _BEFORE
                else:
                    state = _ATTR
            elif state == _BEFORE_VALUE:
                pos = _SPACE.match(data, pos).end()  # type: ignore[union-attr]
                if pos >= n:
                    break
                c = data[pos]
                if c == 0x3E:
                    return self._done(pos)
                if c == 0x22:
                    pos += 1
                    state = _DQ
                elif c == 0x27:
                    pos += 1
                    state = _SQ
                else:
                    state = _UNQ
            else:  # quoted value
                k = data.find(b'"' if state == _DQ else b"'", pos)
                if k < 0:
                    pos = n
                    break
                pos = k + 1
                state = _BEFORE
        self._state = state
        self._offset += n
        return -1

    def _done(self, pos: int) -> int:
        return self._offset + pos + 1
