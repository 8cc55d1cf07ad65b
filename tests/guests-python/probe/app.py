"""A Python test guest; ``mode`` picks what it does:

- ``sandbox``: tries what the sandbox must refuse (reading /etc/passwd,
  listing /, opening a socket, writing to the dataset) and what it must
  allow (reading the dataset, writing /tmp); records each outcome.
- ``nondet``: records everything that could differ between runs (string
  hashes and set order, random, clocks, os.urandom, the dataset's stat).
- ``fail``: raises an exception two calls deep.
"""

import os
import random
import socket
import time

import djx


def attempt(what, action):
    try:
        result = action()
    except Exception as e:
        return f"refused: {type(e).__name__}: {e}"
    return f"allowed: {result!r}"[:200]


def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(("127.0.0.1", 22))
    return "connected"


def write_dataset(path):
    with open(path, "a") as f:
        f.write("tampered")
    return "written"


def write_tmp():
    with open("/tmp/scratch.txt", "w") as f:
        f.write("ok")
    with open("/tmp/scratch.txt") as f:
        return f.read()


def sandbox():
    data = djx.dataset("data")
    outcomes = {
        "etc_passwd": attempt("read /etc/passwd", lambda: open("/etc/passwd").read()),
        "list_root": attempt("list /", lambda: sorted(os.listdir("/"))),
        "socket": attempt("connect", connect),
        "write_dataset": attempt("write the dataset", lambda: write_dataset(data)),
        "escape_dataset": attempt(
            "read beside the dataset", lambda: open(os.path.join(data, "..", "..", "etc", "passwd")).read()
        ),
        "environ": attempt("read the environment", lambda: dict(os.environ)),
        "read_dataset": attempt("read the dataset", lambda: open(data).read().splitlines()[0]),
        "write_tmp": attempt("write /tmp", write_tmp),
    }
    djx.record("sandbox", context=outcomes)


def nondet():
    words = {"alpha", "beta", "gamma", "delta", "epsilon"}
    st = os.stat(djx.dataset("data"))
    djx.record(
        "observed",
        context={
            "hash": hash("djx"),
            "set_order": list(words),
            "random": random.random(),
            "urandom": os.urandom(8).hex(),
            "time": time.time(),
            "monotonic": time.monotonic_ns(),
            "stat": [st.st_mtime, st.st_atime, st.st_ctime, st.st_nlink, st.st_size],
        },
    )


def divide(a, b):
    return a / b


def fail():
    return divide(1, 0)


def main():
    mode = djx.params()["mode"]
    {"sandbox": sandbox, "nondet": nondet, "fail": fail}[mode]()


WitWorld = djx.job(main)
