"""A Python test guest; ``mode`` picks what it does:

- ``sandbox``: tries what the sandbox must refuse (reading /etc/passwd,
  listing /, opening a socket, writing to the dataset) and what it must
  allow (reading the dataset, writing /tmp); records each outcome.
- ``nondet``: records everything that could differ between runs (string
  hashes and set order, random, clocks, os.urandom, the dataset's stat).
- ``fail``: raises an exception two calls deep.
- ``types``: records the Python type and repr of every parameter and label.
- ``listing``: records the ``data`` dataset's tree as ``os.listdir`` lists
  it, unsorted, with each entry's ``st_ino`` and size.
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


def describe(path, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            describe(f"{path}.{k}", v, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            describe(f"{path}[{i}]", v, out)
    else:
        text = value if isinstance(value, str) else repr(value)
        out[path] = f"{type(value).__name__} {text}"


def types():
    seen = {}
    describe("parameter", djx.params(), seen)
    describe("labels", djx.labels(), seen)
    djx.record("types", context={"seen": seen})


def walk(directory, out):
    for name in os.listdir(directory):  # deliberately unsorted
        path = os.path.join(directory, name)
        st = os.stat(path)
        out.append(f"{path} {st.st_ino} {st.st_size}")
        if os.path.isdir(path):
            walk(path, out)


def listing():
    entries = []
    walk(djx.dataset("data"), entries)
    djx.record("listing", context={"entries": entries})


def main():
    mode = djx.params()["mode"]
    modes = {"sandbox": sandbox, "nondet": nondet, "fail": fail, "types": types, "listing": listing}
    modes[mode]()


WitWorld = djx.job(main)
