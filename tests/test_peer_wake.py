"""SQLite's cross-process nudge (storage/peer_wake.py): a floodpost writer in another process
wakes a store's watcher at once, not at its next data_version check; dead listeners' sockets are
cleaned up; a wake folder this user does not own alone is not used."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading

from floodpost.storage import peer_wake, signals
from floodpost.storage.sqlite import SQLiteStore

_WRITE = """
import sys
from floodpost.storage import open_store
store = open_store(sys.argv[1])
store.transact(lambda tx: tx.log("note", "n1", "create", {"i": 1}, actor="other"))
store.close()
"""


def _watch(path: str) -> tuple[signals.SQLiteWatcher, threading.Event]:
    woken = threading.Event()
    watcher = signals.SQLiteWatcher(path, woken.set)
    watcher.start()
    assert woken.wait(10)  # the first check at start
    woken.clear()
    return watcher, woken


def test_a_commit_in_another_process_wakes_the_watcher_without_polling(tmp_path, monkeypatch):
    monkeypatch.setattr(signals, "SQLITE_CHECK_S", 60.0)  # the periodic check never comes
    db = tmp_path / "nudge.db"
    SQLiteStore(f"sqlite:///{db}").close()  # the schema
    watcher, woken = _watch(str(db))
    try:
        # A plain sqlite3 writer does not nudge: only the (60 s) check would see it.
        plain = sqlite3.connect(db, isolation_level=None)
        plain.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        plain.close()
        assert not woken.wait(1.0)
        # A floodpost writer in another process does.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = subprocess.run(
            [sys.executable, "-c", _WRITE, f"sqlite:///{db}"],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert woken.wait(10)
    finally:
        watcher.stop()
    assert not peer_wake.wake_folder(str(db)).exists()  # the last listener out removed it


def test_a_dead_listeners_socket_is_removed_and_own_watchers_are_skipped(tmp_path):
    db = str(tmp_path / "dead.db")
    own = peer_wake.Listener.open(db)  # this process's: its commits wake it directly
    assert own is not None
    dead = own.folder / "999999999-0"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(dead))
    s.close()  # its process died without cleaning up
    live = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    live.bind(str(own.folder / "999999998-0"))  # another process's watcher
    live.settimeout(5)
    peers = peer_wake.Peers(db)
    try:
        peers.notify()
        assert not dead.exists()
        assert live.recv(8) == b"!"
        assert not own.wait(0.2)
    finally:
        peers.close()
        live.close()
        (own.folder / "999999998-0").unlink()
        own.close()
    assert not peer_wake.wake_folder(db).exists()


def test_a_folder_others_can_write_is_not_used(tmp_path):
    db = str(tmp_path / "shared.db")
    folder = peer_wake.wake_folder(db)
    folder.mkdir(mode=0o700)
    try:
        folder.chmod(0o777)
        assert peer_wake.Listener.open(db) is None
        stranger = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        stranger.bind(str(folder / "1-0"))
        peers = peer_wake.Peers(db)
        peers.notify()  # sends nothing there
        stranger.setblocking(False)
        try:
            stranger.recv(8)
            raise AssertionError("a nudge went to a folder others can write")
        except BlockingIOError:
            pass
        finally:
            stranger.close()
            peers.close()
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


def test_a_planted_symlink_is_not_followed(tmp_path):
    """The folder's name is predictable: a link another user plants in /tmp must not make a
    sender touch (or remove) anything where it points."""
    db = str(tmp_path / "linked.db")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    keep = elsewhere / "1-0"
    keep.write_text("precious")
    folder = peer_wake.wake_folder(db)
    folder.symlink_to(elsewhere)
    try:
        assert peer_wake.Listener.open(db) is None
        peers = peer_wake.Peers(db)
        peers.notify()
        peers.close()
        assert keep.read_text() == "precious"
    finally:
        folder.unlink()
