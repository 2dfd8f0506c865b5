"""The build process of `floodpost simulate`: the log's rows built in a process of their own
while the caller's process inserts them (replay/simulate.py)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import floodpost
from floodpost.replay import simulate as sim


def worker_main(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The build process (python -m floodpost.replay.simulate_worker): reads (world, events,
    seed) pickled from stdin, writes each prepared chunk pickled to stdout, then None; on
    failure, the traceback as text."""
    try:
        world, events, seed = pickle.load(stdin)  # noqa: S301 - from our own parent
        for item in sim.prepared(world, events, seed):
            pickle.dump(item, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, stdout)
        stdout.flush()
    except BrokenPipeError:
        pass  # the parent stopped reading (its load failed) and reports why
    except BaseException:
        pickle.dump(traceback.format_exc(), stdout)
        stdout.flush()


@contextmanager
def from_worker(world: sim._World, events: int, seed: int) -> Iterator[Iterator[sim.Prepared]]:
    """simulate.prepared(...) built in a worker process. Building and preparing the rows is
    Python work that holds the GIL; in a thread beside SQLite's inserts it made every inserted
    row wait for the GIL (the end-to-end load took longer than building, then loading). In its
    own process it runs on the second core while this one inserts. A plain subprocess rather
    than multiprocessing: spawn re-runs the caller's main script, fork copies running threads."""
    package_root = str(Path(floodpost.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed module
        [sys.executable, "-m", "floodpost.replay.simulate_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None  # noqa: S101 - PIPE above
    out = proc.stdout

    def items() -> Iterator[sim.Prepared]:
        while True:
            try:
                item = pickle.load(out)  # noqa: S301 - our own child's output
            except EOFError:
                raise RuntimeError(
                    f"simulate: the build process ended early (exit {proc.wait()})"
                ) from None
            if item is None:
                return
            if isinstance(item, str):
                raise RuntimeError(f"simulate: building the log failed\n{item}")
            yield item

    try:
        pickle.dump((world, events, seed), proc.stdin)
        proc.stdin.close()
        yield items()
    finally:
        out.close()  # a worker still writing gets BrokenPipeError and stops
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the pickled chunks: a stray print would break them
    worker_main(sys.stdin.buffer, out)
