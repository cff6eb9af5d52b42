# Moat: two entry points for a newcomer (make demo, make test); the rest are their parts.
SHELL := /bin/bash
DOTNET ?= dotnet
BUILD_DIR := .build
BUNDLE := $(BUILD_DIR)/demo-bundle

.PHONY: all build demo test unit-test integration-test deps bundle bench clean cgroup-v2-lane hot-methods

all: build

## deps: install what building and testing need (Debian packages; run as root)
deps:
	./scripts/install-deps.sh

## build: the NativeAOT executables: bin/moat-runtime (the OCI runtime engines call; the container
## tier), bin/moat-runtime-tiers (the same command line with the sandbox and vm tiers, which
## moat-runtime hands their containers' commands to), bin/moat (the command people use) and
## bin/moat-monitor (one per running container, started by moat); bin/moat-runtime-sandbox and -vm
## are links to moat-runtime-tiers that select a tier by name.
build:
	$(DOTNET) publish src/Moat.Runtime.Cli -c Release -o $(BUILD_DIR)/publish-runtime --nologo -v quiet -p:TreatWarningsAsErrors=true
	$(DOTNET) publish src/Moat.Runtime.TiersCli -c Release -o $(BUILD_DIR)/publish-tiers --nologo -v quiet -p:TreatWarningsAsErrors=true
	$(DOTNET) publish src/Moat.Cli -c Release -o $(BUILD_DIR)/publish-moat --nologo -v quiet -p:TreatWarningsAsErrors=true
	$(DOTNET) publish src/Moat.Monitor -c Release -o $(BUILD_DIR)/publish-monitor --nologo -v quiet -p:TreatWarningsAsErrors=true
	mkdir -p bin && cp $(BUILD_DIR)/publish-runtime/moat-runtime bin/moat-runtime && cp --remove-destination $(BUILD_DIR)/publish-moat/moat bin/moat
	cp $(BUILD_DIR)/publish-tiers/moat-runtime-tiers bin/moat-runtime-tiers
	cp $(BUILD_DIR)/publish-monitor/moat-monitor bin/moat-monitor
	$(MAKE) --no-print-directory bin/moat-init
	ln -sf moat-runtime-tiers bin/moat-runtime-sandbox && ln -sf moat-runtime-tiers bin/moat-runtime-vm

## bin/moat-init: the reaper `moat run --init` makes pid 1 (native/moat-init.c), static so any image can run it
bin/moat-init: native/moat-init.c
	mkdir -p bin && cc -static -Os -s -Wall -Wextra -Werror -o $@ $<

## bundle: the built-in busybox-static OCI bundle
bundle:
	./scripts/make-bundle.sh $(BUNDLE)

## demo: install, build, make a busybox image, and `moat run --rm` a container that shows what it sees
demo: deps build
	./scripts/demo.sh

## test: every test (unit without root, integration as root); prints "N passed, N failed"
test: deps build
	./scripts/run-tests.sh

## cgroup-v2-lane: the cgroup tests in a VM with a pure cgroup v2 hierarchy (docs/cgroup-v2-lane.md)
cgroup-v2-lane: deps build
	./scripts/lanes/cgroup-v2-vm.sh

## hot-methods: profile the hot verbs and rebuild with their methods laid out first (root)
hot-methods: build
	./scripts/profile-order.sh
	$(MAKE) build

bench: deps build
	./bench/run.sh
	./bench/podman.sh

clean:
	rm -rf $(BUILD_DIR) bin src/*/bin src/*/obj tests/*/bin tests/*/obj
