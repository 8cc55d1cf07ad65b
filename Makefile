# The two commands of the README, and their parts.
#   make iris   run the iris example on the embedded store and print its records
#   make test   run the whole test suite (it starts a throwaway PostgreSQL)

DJX := $(CURDIR)/target/release/djx

.PHONY: iris test wasm-target

wasm-target:
	rustup target add wasm32-wasip2

iris: wasm-target
	cargo build --release --locked -p djx-host
	cargo build --release --locked -p djx-example-iris --target wasm32-wasip2
	cd examples/iris && $(DJX) run iris.yml --workers 2
	cd examples/iris && $(DJX) records last

test: wasm-target
	cargo build --locked --tests
	DJX_TEST_DATABASE_URL=$$(tests/pg/server.sh start) cargo test --locked; \
		status=$$?; tests/pg/server.sh stop; exit $$status
	cargo test --locked -p djx-example-iris
