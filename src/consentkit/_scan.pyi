"""Type stub of the C extension built from csrc/ (its Python twin: consentkit._pyscan)."""

from collections.abc import Iterable
from typing import Final

END: Final[int]
TAG: Final[int]
DECL: Final[int]
NONE: Final[int]
DATA_CONSENT: Final[int]
NAMES: Final[int]
NAMES_FILTERED: Final[int]

class Candidates:
    def __init__(self, starts: Iterable[bytes], ends: Iterable[bytes], any_tag: bool = False) -> None: ...

class TagFilter:
    def __init__(self, needles: Iterable[bytes], stop_bytes: bytes = b"") -> None: ...
    def hits(self, value: bytes) -> bool: ...

def advance(
    buf: bytes, lbuf: bytes, i: int, cands: Candidates, attention: int, tag_filter: TagFilter | None
) -> tuple[int, int]: ...
