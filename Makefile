# Kindling: the two entry points are `make demo` (the main job) and `make test` (every test).

CARGO ?= cargo
PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
DRACUTMODDIR ?= $(PREFIX)/lib/dracut/modules.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# mdBook from the virtual environment tools/install-deps.sh makes, else one on PATH.
MDBOOK ?= $(if $(wildcard target/venv/bin/mdbook),target/venv/bin/mdbook,mdbook)
# How long `make test` (and so CI) and `make fuzz` run each fuzz target, in seconds.
FUZZ_SECONDS ?= 60

.PHONY: all deps build release demo test fuzz qemu-test lint docs generated install deb clean uki

all: build

deps:
	./tools/install-deps.sh

build:
	$(CARGO) build --workspace

# Not the man page generator: it is a build tool, and its release link (LTO over the engine's
# library) would only cost time.
release:
	$(CARGO) build --release --workspace --exclude kindling-docgen

# The main job: transpile examples/demo-webserver.bu with flint, sign it, build an initramfs
# that trusts only that signature and a small Debian root, then boot a VM that verifies and
# provisions itself and serves a page.
demo: deps release
	./tools/demo.sh

# Every test: formatting, lints, unit/integration/differential tests, the docs build, and
# every fuzz target for FUZZ_SECONDS.
# The QEMU scenarios put the workspace's own debug build of the engine into their initramfs.
test: deps lint
	$(CARGO) build --workspace --bins
	KINDLING_BIN=$(CURDIR)/target/debug/kindling $(CARGO) test --workspace --no-fail-fast
	$(MDBOOK) build docs
	tools/fuzz.sh $(FUZZ_SECONDS)

# Every fuzz target (all but the canary), FUZZ_SECONDS each; a crash fails it (tools/fuzz.sh).
fuzz:
	tools/fuzz.sh $(FUZZ_SECONDS)

# A signed Unified Kernel Image (see docs/src/secure-boot.md):
#   make uki KERNEL=/boot/vmlinuz-… INITRD=initrd.img CMDLINE="root=… kindling.firstboot" \
#            [PIN=config.ign] KEY=db.key CERT=db.crt OUT=kindling.efi
uki:
	tools/build-uki.sh --kernel "$(KERNEL)" --initrd "$(INITRD)" --cmdline "$(CMDLINE)" \
		$(if $(PIN),--pin "$(PIN)") $(if $(KEY),--key "$(KEY)" --cert "$(CERT)") "$(OUT)"

# Only the QEMU boot scenarios (they also run as part of `make test`).
qemu-test:
	$(CARGO) test -p kindling-qemu-tests -- --nocapture

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

docs:
	$(MDBOOK) build docs

# Regenerates docs/schema, docs/src/reference and the parser's object-path table
# (spec/src/shape/table.rs) from the spec types.
generated:
	KINDLING_UPDATE_GENERATED=1 $(CARGO) test -p kindling-spec --test generated

# The layout distro packages use: the engine and flint, the dracut module (scripts 0755, units
# 0644), the real-root unit that removes the GRUB first-boot stamp (installed, not enabled),
# and both programs' man pages and bash, zsh and fish completions.
install:
	test -x target/release/kindling || $(CARGO) build --release -p kindling --bin kindling
	test -x target/release/flint || $(CARGO) build --release -p flint --bin flint
	$(CARGO) build -p kindling-docgen
	rm -rf target/docgen && target/debug/kindling-docgen target/docgen
	install -D -m 0755 target/release/kindling $(DESTDIR)$(BINDIR)/kindling
	install -D -m 0755 target/release/flint $(DESTDIR)$(BINDIR)/flint
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0644 target/docgen/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 target/docgen/bash/kindling target/docgen/bash/flint $(DESTDIR)$(BASHCOMPDIR)/
	install -m 0644 target/docgen/zsh/_kindling target/docgen/zsh/_flint $(DESTDIR)$(ZSHCOMPDIR)/
	install -m 0644 target/docgen/fish/kindling.fish target/docgen/fish/flint.fish $(DESTDIR)$(FISHCOMPDIR)/
	install -d -m 0755 $(DESTDIR)$(DRACUTMODDIR)/30kindling
	install -m 0755 dracut-module/30kindling/module-setup.sh dracut-module/30kindling/kindling-generator \
		dracut-module/30kindling/kindling-network-up.sh dracut-module/30kindling/kindling-emergency-summary.sh \
		dracut-module/30kindling/kindling-flatcar-quench.sh \
		$(DESTDIR)$(DRACUTMODDIR)/30kindling/
	install -m 0644 dracut-module/30kindling/*.service dracut-module/30kindling/*.target \
		dracut-module/30kindling/*.network dracut-module/30kindling/*.rules $(DESTDIR)$(DRACUTMODDIR)/30kindling/
	install -D -m 0644 dracut-module/systemd/kindling-firstboot-complete.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/kindling-firstboot-complete.service

# Debian packages kindling and flint in target/deb (tools/build-deb.sh; packaging/debian/).
deb: release
	$(CARGO) build -p kindling-docgen
	DOCGEN=target/debug/kindling-docgen tools/build-deb.sh --out target/deb

clean:
	$(CARGO) clean
	rm -rf docs/book
