"""Compressed HTML from the app: decoded as a stream, rewritten, encoded again the same way.

A compressor inside the app (Django's ``GZipMiddleware`` where users put it, a framework's
own gzip) hands consentkit bodies it cannot read as they are. ``gzip`` and ``deflate`` are
always decoded; ``br`` when the ``brotli`` package (>= 1.2) is installed, ``zstd`` with
Python 3.14's ``compression.zstd`` or the ``backports.zstd`` package. Several codings
(``Content-Encoding: gzip, br``) are undone in reverse order.

Memory stays bounded: every stage hands on at most :data:`CHUNK` bytes at a time. A
*decompression bomb* is an output out of all proportion to its input: more than
:data:`BOMB_RATIO` times the compressed bytes read once past :data:`BOMB_FLOOR`, or more than
:data:`MAX_OUTPUT` in all. It raises :class:`DecompressionBomb`; the middleware then answers
502 if nothing was sent yet, else ends the body there (see docs/threat-model.md).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, Final, Protocol

__all__ = [
    "BOMB_FLOOR",
    "BOMB_RATIO",
    "CHUNK",
    "MAX_OUTPUT",
    "CorruptBody",
    "DecompressionBomb",
    "Decompressor",
    "Recompressor",
    "parse_codings",
    "supported_codings",
]

CHUNK: Final = 64 * 1024
BOMB_FLOOR: Final = 4 * 1024 * 1024
BOMB_RATIO: Final = 250
MAX_OUTPUT: Final = 1024 * 1024 * 1024

try:  # pragma: no cover - depends on what is installed
    import brotli as _brotli  # type: ignore[import-untyped,import-not-found,unused-ignore]

    if not hasattr(_brotli.Decompressor(), "can_accept_more_data"):  # brotli < 1.2: no output limit
        _brotli = None
except ImportError:  # pragma: no cover
    _brotli = None

try:  # pragma: no cover - depends on the Python version and what is installed
    from compression import zstd as _zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    try:
        from backports import zstd as _zstd  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        _zstd = None

_ALIASES: Final = {"x-gzip": "gzip"}


class CorruptBody(Exception):
    """The body is not valid data in its declared ``Content-Encoding``."""


class DecompressionBomb(CorruptBody):
    """The body decompresses to far more than any page: refused."""


_SUPPORTED: Final = frozenset(
    {"gzip", "deflate"}
    | ({"br"} if _brotli is not None else set())
    | ({"zstd"} if _zstd is not None else set())
)


def supported_codings() -> frozenset[str]:
    """The content codings consentkit can undo here (``gzip`` and ``deflate`` always)."""
    return _SUPPORTED


def parse_codings(values: list[bytes]) -> list[str]:
    """The codings of the ``Content-Encoding`` header(s), in the order they were applied."""
    codings = []
    for value in values:
        for part in value.decode("latin-1").split(","):
            name = part.strip().lower()
            if name and name != "identity":
                codings.append(_ALIASES.get(name, name))
    return codings


class _Stage(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def finish(self) -> Iterator[bytes]: ...


class _Zlib:
    """gzip (members may follow one another) or deflate (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.obj: Any = None
        self.raw = False
        self.pending = b""

    def _new(self, first: bytes) -> Any:
        if self.coding == "gzip":
            return zlib.decompressobj(wbits=31)
        # RFC 9110 "deflate" is the zlib format; a raw deflate stream has no valid zlib header.
        self.raw = len(first) >= 2 and (first[0] & 0x0F != 8 or (first[0] << 8 | first[1]) % 31 != 0)
        return zlib.decompressobj(wbits=-15 if self.raw else 15)

    def feed(self, data: bytes) -> Iterator[bytes]:
        data = self.pending + data
        self.pending = b""
        while data:
            if self.obj is None:
                if self.coding == "deflate" and len(data) < 2:
                    self.pending = data
                    return
                self.obj = self._new(data)
            try:
                out = self.obj.decompress(data, CHUNK)
            except zlib.error as exc:
                raise CorruptBody(f"invalid {self.coding} data: {exc}") from None
            if out:
                yield out
            data = self.obj.unconsumed_tail
            if self.obj.eof:
                data = self.obj.unused_data
                if self.coding == "gzip" and data.strip(b"\x00"):
                    self.obj = None  # another gzip member
                    continue
                return

    def finish(self) -> Iterator[bytes]:
        if self.pending:
            raise CorruptBody(f"truncated {self.coding} data")
        if self.obj is not None and not self.obj.eof:
            out = self.obj.flush()  # a truncated stream: what it holds, as a browser shows it
            if out:
                yield out


class _Brotli:
    def __init__(self) -> None:
        assert _brotli is not None
        self.obj = _brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self.obj.process(data, output_buffer_limit=CHUNK)
            stalled = 0
            while True:
                if out:
                    yield out
                    stalled = 0
                elif self.obj.can_accept_more_data() or stalled > 2:
                    return  # everything given has been decoded: wait for more input
                else:
                    stalled += 1
                if self.obj.is_finished():
                    return
                out = self.obj.process(b"", output_buffer_limit=CHUNK)
        except _brotli.error as exc:
            raise CorruptBody(f"invalid br data: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zstd:
    def __init__(self) -> None:
        assert _zstd is not None
        self.obj = _zstd.ZstdDecompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            while True:
                if self.obj.eof:
                    data = self.obj.unused_data + data
                    if not data:
                        return
                    self.obj = _zstd.ZstdDecompressor()  # another frame
                out = self.obj.decompress(data, CHUNK)
                data = b""
                if out:
                    yield out
                if self.obj.needs_input and not self.obj.eof:
                    return
        except _zstd.ZstdError as exc:
            raise CorruptBody(f"invalid zstd data: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        return iter(())


def _stage(coding: str) -> _Stage:
    if coding in ("gzip", "deflate"):
        return _Zlib(coding)
    if coding == "br" and _brotli is not None:
        return _Brotli()
    if coding == "zstd" and _zstd is not None:
        return _Zstd()
    raise ValueError(f"unsupported content coding {coding!r}")


class Decompressor:
    """Undoes a list of content codings as a stream, counting what goes in and comes out."""

    def __init__(self, codings: list[str]) -> None:
        self.codings = codings
        self.stages = [_stage(c) for c in reversed(codings)]
        self.read = 0
        self.produced = 0

    def _run(self, index: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        if index == len(self.stages):
            for piece in pieces:
                self.produced += len(piece)
                if self.produced > MAX_OUTPUT or (
                    self.produced > BOMB_FLOOR and self.produced > BOMB_RATIO * max(self.read, 1)
                ):
                    raise DecompressionBomb(
                        f"{self.read} compressed bytes decompressed to more than {self.produced}"
                    )
                yield piece
            return
        stage = self.stages[index]
        for piece in pieces:
            yield from self._run(index + 1, stage.feed(piece))

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decompressed pieces (each at most CHUNK bytes) for the next compressed bytes."""
        self.read += len(data)
        return self._run(0, iter((data,)))

    def check(self, body: bytes) -> None:
        """Decompress a whole body only to measure it: raises as :meth:`feed` would, keeps nothing."""
        for _ in self.feed(body):
            pass
        for _ in self.finish():
            pass

    def finish(self) -> Iterator[bytes]:
        """What the decoders still hold at the end of the body."""
        for index, stage in enumerate(self.stages):
            yield from self._run(index + 1, stage.finish())


class Recompressor:
    """Applies the same codings again, flushing at each body message so the page still streams."""

    def __init__(self, codings: list[str]) -> None:
        self.codings = codings
        self.objs: list[Any] = []
        for coding in codings:
            if coding == "gzip":
                self.objs.append(zlib.compressobj(6, zlib.DEFLATED, 31))
            elif coding == "deflate":
                self.objs.append(zlib.compressobj(6, zlib.DEFLATED, 15))
            elif coding == "br" and _brotli is not None:
                self.objs.append(_brotli.Compressor(quality=5))
            elif coding == "zstd" and _zstd is not None:
                self.objs.append(_zstd.ZstdCompressor())
            else:
                raise ValueError(f"unsupported content coding {coding!r}")

    def compress(self, data: bytes, final: bool) -> bytes:
        for coding, obj in zip(self.codings, self.objs, strict=True):
            if coding in ("gzip", "deflate"):
                data = obj.compress(data) + obj.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)
            elif coding == "br":
                data = obj.process(data) + (obj.finish() if final else obj.flush())
            else:
                mode = obj.FLUSH_FRAME if final else obj.FLUSH_BLOCK
                data = obj.compress(data, mode)
        return data
