# Kindling: the two entry points are `make demo` (the main job) and `make test` (every test).

CARGO ?= cargo
PREFIX ?= /usr
DESTDIR ?=

.PHONY: all deps build release demo test lint docs generated clean

all: build

deps:
	./tools/install-deps.sh

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release --workspace

# The main job. For now: build the engine and validate the example configs.
demo: deps release
	./tools/demo.sh

# Every test: formatting, lints, unit/integration/differential tests, and the docs build.
test: deps lint
	$(CARGO) test --workspace
	mdbook build docs

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

docs:
	mdbook build docs

# Regenerates docs/schema and docs/src/reference from the spec types.
generated:
	KINDLING_UPDATE_GENERATED=1 $(CARGO) test -p kindling-spec --test generated

clean:
	$(CARGO) clean
	rm -rf docs/book
