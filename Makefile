# Kindling: the two entry points are `make demo` (the main job) and `make test` (every test).

CARGO ?= cargo
PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
DRACUTMODDIR ?= $(PREFIX)/lib/dracut/modules.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

.PHONY: all deps build release demo test qemu-test lint docs generated install clean uki

all: build

deps:
	./tools/install-deps.sh

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release --workspace

# The main job: transpile examples/demo-webserver.bu with flint, sign it, build an initramfs
# that trusts only that signature and a small Debian root, then boot a VM that verifies and
# provisions itself and serves a page.
demo: deps release
	./tools/demo.sh

# Every test: formatting, lints, unit/integration/differential tests, and the docs build.
# The QEMU scenarios put the workspace's own debug build of the engine into their initramfs.
test: deps lint
	$(CARGO) build --workspace --bins
	KINDLING_BIN=$(CURDIR)/target/debug/kindling $(CARGO) test --workspace --no-fail-fast
	mdbook build docs

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
	mdbook build docs

# Regenerates docs/schema, docs/src/reference and the parser's object-path table
# (spec/src/shape/table.rs) from the spec types.
generated:
	KINDLING_UPDATE_GENERATED=1 $(CARGO) test -p kindling-spec --test generated

# The layout distro packages use: the engine, the dracut module (scripts 0755, units 0644) and
# the real-root unit that removes the GRUB first-boot stamp (installed, not enabled).
install:
	test -x target/release/kindling || $(CARGO) build --release -p kindling --bin kindling
	install -D -m 0755 target/release/kindling $(DESTDIR)$(BINDIR)/kindling
	install -d -m 0755 $(DESTDIR)$(DRACUTMODDIR)/30kindling
	install -m 0755 dracut-module/30kindling/module-setup.sh dracut-module/30kindling/kindling-generator \
		dracut-module/30kindling/kindling-network-up.sh dracut-module/30kindling/kindling-emergency-summary.sh \
		dracut-module/30kindling/kindling-flatcar-quench.sh \
		$(DESTDIR)$(DRACUTMODDIR)/30kindling/
	install -m 0644 dracut-module/30kindling/*.service dracut-module/30kindling/*.target \
		dracut-module/30kindling/*.network dracut-module/30kindling/*.rules $(DESTDIR)$(DRACUTMODDIR)/30kindling/
	install -D -m 0644 dracut-module/systemd/kindling-firstboot-complete.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/kindling-firstboot-complete.service

clean:
	$(CARGO) clean
	rm -rf docs/book
