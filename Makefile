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

# The PostgreSQL restart test restarts the shared server, so it runs alone.
test: wasm-target
	url=$$(tests/pg/server.sh start) && \
	DJX_TEST_DATABASE_URL=$$url cargo test --locked && \
	DJX_TEST_DATABASE_URL=$$url cargo test --locked -p djx-host --test all -- --ignored postgres_restart; \
	status=$$?; tests/pg/server.sh stop; exit $$status
	cargo test --locked -p djx-example-iris
