"""An exclusive lock on an open file that works on Linux, macOS and Windows.

``flock`` where ``fcntl`` exists (POSIX), ``msvcrt.locking`` on Windows, and otherwise a lock
file created with ``O_CREAT | O_EXCL`` next to the locked file (stale ones, left by a process
that died, are taken over). Nothing is imported at module level that a platform may lack.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

__all__ = ["NOFOLLOW", "exclusive", "lock_backend", "open_nofollow", "pread"]

#: ``O_NOFOLLOW`` where the platform has it (0 on Windows, where :func:`open_nofollow` checks instead).
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_STALE_SECONDS = 30.0


def _module(name: str) -> ModuleType | None:
    try:
        return __import__(name)
    except ImportError:
        return None


def lock_backend() -> str:
    """Which lock this interpreter uses: ``flock``, ``msvcrt`` or ``lockfile``."""
    if _module("fcntl") is not None:
        return "flock"
    if _module("msvcrt") is not None:
        return "msvcrt"
    return "lockfile"


def open_nofollow(path: Path, flags: int, mode: int = 0o640) -> int:
    """``os.open`` that never follows a symbolic link at ``path`` (raises OSError instead)."""
    if not NOFOLLOW and path.is_symlink():
        raise OSError(40, "refusing to open a symbolic link", str(path))
    return os.open(path, flags | NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), mode)


@contextlib.contextmanager
def exclusive(fd: int, path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the open file ``fd`` (at ``path``) for the ``with`` block."""
    fcntl = _module("fcntl")
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        return
    msvcrt = _module("msvcrt")
    if msvcrt is not None:  # pragma: no cover - Windows only
        with _msvcrt_lock(msvcrt, path.with_name(path.name + ".lock")):
            yield
        return
    with _lock_file(path.with_name(path.name + ".lock")):
        yield


@contextlib.contextmanager
def _msvcrt_lock(msvcrt: ModuleType, lock: Path) -> Iterator[None]:  # pragma: no cover - Windows only
    # Windows locks are mandatory: lock a byte of a side file nobody reads, not the audit file.
    fd = open_nofollow(lock, os.O_RDWR | os.O_CREAT)
    try:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for ~10 s, then raises
                break
            except OSError:
                continue
        try:
            yield
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    finally:
        os.close(fd)


def pread(fd: int, size: int, offset: int) -> bytes:
    """``os.pread`` where it exists; seek and read elsewhere (Windows)."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows only
    return os.read(fd, size)  # pragma: no cover


def _alive(owner: str) -> bool:
    """Whether the process named in a lock file (``host pid``) may still hold it."""
    try:
        host, pid = owner.split()
        number = int(pid)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another host's process: only age can tell
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def _lock_file(lock: Path) -> Iterator[None]:
    """A lock held by creating ``lock`` exclusively; a stale one (dead owner) is removed."""
    delay = 0.0005
    me = f"{socket.gethostname()} {os.getpid()}".encode()
    while True:
        try:
            fd = open_nofollow(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        except FileExistsError:
            try:
                owner = lock.read_text(encoding="utf-8", errors="replace")
                age = time.time() - lock.stat().st_mtime
            except OSError:
                continue
            if (owner and not _alive(owner)) or age > _STALE_SECONDS:
                with contextlib.suppress(OSError):
                    lock.unlink()
                continue
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
            continue
        try:
            os.write(fd, me)
        finally:
            os.close(fd)
        break
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
