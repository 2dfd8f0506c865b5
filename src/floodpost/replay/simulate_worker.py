"""The build process of `floodpost simulate` (replay/simulate.py, _from_worker)."""

import sys

from floodpost.replay.simulate import worker_main

if __name__ == "__main__":
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the pickled chunks: a stray print would break them
    worker_main(sys.stdin.buffer, out)
