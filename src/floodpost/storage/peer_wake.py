"""SQLite's cross-process wake-up without waiting for the next `PRAGMA data_version` check.

Every process that watches a SQLite store for changes (storage/signals.py, `SQLiteWatcher`)
binds a Unix datagram socket in the store's wake folder; every process that writes to it sends
one byte to each socket there after each commit (`Peers.notify`, a commit listener of the
store's writer). The watcher wakes on that byte at once instead of at its next check (every
10 ms: on average 5 ms, at worst 10 ms added to every event for the screens held by the other
`--workers` process). The periodic check stays, for writers that do not notify (the sqlite3
shell, an older floodpost) and for a lost datagram: a byte is only a hint to look now.

The folder is in the temporary directory (a socket's path is limited to 108 bytes, a store's
path is not), named after the store file's real path, made 0700 and used only if this user owns
it. A socket left by a process that died is removed by the next sender (connection refused).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import socket
import stat
import tempfile
import time
from pathlib import Path

# How long a sender keeps its list of the folder's sockets: a listing per commit would cost a
# directory read per commit; a watcher that appears meanwhile checks data_version as it starts
# and its periodic check covers the rest of that second.
LIST_TTL_S = 1.0
_names = itertools.count()
_NAME = re.compile(r"^[0-9]+-[0-9]+$")  # <pid>-<n>, as Listener names its socket


def wake_folder(db_path: str) -> Path:
    digest = hashlib.sha256(os.path.realpath(db_path).encode()).hexdigest()[:20]
    return Path(tempfile.gettempdir()) / f"floodpost-wake-{digest}"


def _usable(folder: Path) -> bool:
    """Our own real folder, closed to others. Not a symlink (lstat): the name is predictable, and
    a link planted in /tmp must not lead the sender to remove things elsewhere."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except OSError:
        return False


class Listener:
    """A watcher's socket: `wait(timeout)` returns True when a writer nudged it."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, exist_ok=True)
        if not _usable(folder):
            raise PermissionError(f"{folder} belongs to another user")
        self.folder = folder
        self.path = folder / f"{os.getpid()}-{next(_names)}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))

    @classmethod
    def open(cls, db_path: str) -> Listener | None:
        """The listener for a store, or None where it cannot be had (then: polling alone)."""
        if not hasattr(socket, "AF_UNIX"):
            return None
        try:
            return cls(wake_folder(db_path))
        except OSError:
            return None

    def wait(self, timeout_s: float) -> bool:
        self.sock.settimeout(timeout_s)
        try:
            self.sock.recv(64)
        except TimeoutError:
            return False
        self.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:  # one look at the store answers every nudge queued so far
                self.sock.recv(64)
        return True

    def interrupt(self) -> None:
        """End a `wait` now (from another thread: the watcher is stopping)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s, contextlib.suppress(OSError):
            s.sendto(b"!", str(self.path))

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):  # the last one out (not empty: others listen)
            self.folder.rmdir()


class Peers:
    """A writer's side: one datagram to every listener of the store after each commit."""

    def __init__(self, db_path: str) -> None:
        self.folder = wake_folder(db_path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self._own = f"{os.getpid()}-"  # this process's watchers: its commits wake them directly
        self._targets: list[str] = []
        self._listed = -LIST_TTL_S

    def notify(self) -> None:
        now = time.monotonic()
        if now - self._listed >= LIST_TTL_S:
            self._targets = []
            if _usable(self.folder):
                with contextlib.suppress(OSError):
                    self._targets = [
                        str(p)
                        for p in self.folder.iterdir()
                        if _NAME.match(p.name)
                        and not p.name.startswith(self._own)
                        and _is_socket(str(p))
                    ]
            self._listed = now
        for target in self._targets:
            try:
                self.sock.sendto(b"!", target)
            except (ConnectionRefusedError, FileNotFoundError):
                if _is_socket(target):  # its process is gone (and it is a socket still)
                    with contextlib.suppress(OSError):
                        os.unlink(target)
                self._listed = -LIST_TTL_S
            except OSError:  # its buffer is full: it has a wake-up pending anyway
                pass

    def close(self) -> None:
        self.sock.close()
