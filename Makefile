# The two commands of the README, and their parts.
#   make iris   run the iris example on the embedded store and print its records
#   make test   run the whole test suite

.PHONY: iris test wasm-target

wasm-target:
	rustup target add wasm32-wasip2

test: wasm-target
	cargo test --locked
