"""Starts a real memoryd for the tests: tools/sdkserver (a memoryd on a
temporary SQLite database behind a cut proxy), spawned with `go run` from
the repository root, or the command in $MEMORYD_SDKSERVER."""

import json
import os
import pathlib
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

# Only guards against a server that never starts (a cold `go run` compiles
# memoryd first); nothing asserts on time.
START_LIMIT = 600


def start_server(cut_every):
    cmd = shlex.split(os.environ.get("MEMORYD_SDKSERVER", "go run ./tools/sdkserver"))
    proc = subprocess.Popen(cmd + ["-cut-every", str(cut_every)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=START_LIMIT)
        raise RuntimeError(f"sdkserver exited with {proc.returncode} before printing its address")
    return proc, json.loads(line)


def stop_server(proc):
    proc.stdin.close()  # sdkserver stops at EOF on its stdin
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def server():
    proc, info = start_server(7)
    yield info
    stop_server(proc)
