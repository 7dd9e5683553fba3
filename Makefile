# ringfence build. GNU Make.
#
#   make                 build build/ringfence and libringfence (installs missing Debian packages)
#   make run             build, then run ringfence showing live detections
#   make test            build, then all tests (unit, integration, fuzz corpora; unit tests
#                        and fuzz replays also under SANITIZE=address,undefined)
#   make bench           benchmarks against peers (auditd, bpftrace); prints figures
#   make fuzz            libFuzzer binaries in build/fuzz/fuzz/ (run them by hand)
#   make SANITIZE=address,undefined ...   build with sanitizers into build/san
#
# Layout and conventions: docs/DEVELOPING.md. Adding a file needs no change here:
#   src/<component>/*.c   -> the ringfence binary (src/cli/main.c holds main)
#   lib/*.c               -> libringfence (public API in include/ringfence/)
#   bpf/*.bpf.c           -> eBPF objects -> skeleton headers build/gen/<name>.skel.h
#   tests/unit/test_*.c   -> one cmocka program each
#   tests/fuzz/fuzz_*.c   -> libFuzzer target + corpus replayer (corpus: tests/fuzz/corpus/<name>/)
#   tests/integration/*.sh, tests/fault/*.sh -> TAP-emitting scripts

.DELETE_ON_ERROR:
.SUFFIXES:
SHELL := /bin/bash

ifneq ($(FUZZ),)
# libFuzzer builds: every object carries coverage, so the fuzzer sees inside the library
BUILD ?= build/fuzz
SANFLAGS := -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifneq ($(SANITIZE),)
BUILD ?= build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

CC       := clang
CLANG    := clang
BPFTOOL  := bpftool
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
GEN      := $(BUILD)/gen

WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -fPIC $(SANFLAGS)
CPPFLAGS += -Iinclude -Ilib -Isrc -Ibpf -I$(GEN) -I$(GEN)/ringfence
LDFLAGS  += $(SANFLAGS)
LDLIBS   := -lbpf -lelf -lz -lsodium -lseccomp -lyaml -lhs -lcurl -lsqlite3 -lpthread -lm \
	    -ltss2-esys -ltss2-tctildr -ltss2-rc -lcrypto

# fleet controller (src/fleet): HTTP server and the PostgreSQL back end of its store
CPPFLAGS += -I/usr/include/postgresql
LDLIBS   += -lmicrohttpd -lpq

DEPS_STAMP := build/.deps-build

LIB_SRCS  := $(wildcard lib/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/schema_table.o
CORE_SRCS := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/obj/%.o)
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
SKELS     := $(BPF_SRCS:bpf/%.bpf.c=$(GEN)/%.skel.h)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
TEST_HELPERS := $(wildcard tests/helpers/*.c)
TEST_HELPER_BINS := $(TEST_HELPERS:tests/helpers/%.c=$(BUILD)/tests/helpers/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%-replay)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
GENERATED := $(GEN)/ringfence/events_gen.h

.PHONY: all deps run test unit-tests fuzz-replay fuzz bench clean corpus
all: $(BUILD)/ringfence $(BUILD)/libringfence.so $(BUILD)/libringfence.a $(TEST_HELPER_BINS)

# --- Debian packages -------------------------------------------------------
deps:
	@scripts/deps.sh build
$(DEPS_STAMP): scripts/deps.sh
	@scripts/deps.sh build
	@mkdir -p $(@D) && touch $@

# --- schema ----------------------------------------------------------------
build/schemagen: tools/schemagen.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O1 -g -Wall -Wextra -o $@ $< -lyaml

$(GEN)/ringfence/events_gen.h $(GEN)/schema_table.c &: schema/events.yaml build/schemagen
	@mkdir -p $(GEN)/ringfence
	build/schemagen schema/events.yaml $(GEN)/ringfence/events_gen.h $(GEN)/schema_table.c $(GEN)/events.md
	@cmp -s $(GEN)/events.md docs/events.md || cp $(GEN)/events.md docs/events.md

# --- eBPF ------------------------------------------------------------------
$(GEN)/vmlinux.h: | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@test -r /sys/kernel/btf/vmlinux || { echo "ringfence: /sys/kernel/btf/vmlinux missing: building needs a kernel with BTF (CONFIG_DEBUG_INFO_BTF=y)" >&2; exit 1; }
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(GENERATED) $(GEN)/vmlinux.h include/ringfence/limits.h include/ringfence/event.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
		-Iinclude -I$(GEN) -Ibpf -c $< -o $@

# keep the skeletons and objects (make would delete them as intermediates): the
# attestation tests measure them as the daemon's BPF objects
.SECONDARY: $(SKELS) $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
$(GEN)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name rf_$(subst -,_,$*)_bpf > $@

# --- user space ------------------------------------------------------------
$(BUILD)/obj/%.o: %.c $(GENERATED) $(SKELS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/gen/schema_table.o: $(GEN)/schema_table.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libringfence.a: $(LIB_OBJS)
	ar rcs $@ $^
$(BUILD)/libringfence.so: $(LIB_OBJS)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,libringfence.so.1 -o $@ $^ -lpthread
$(BUILD)/librf-core.a: $(CORE_OBJS)
	ar rcs $@ $^

$(BUILD)/ringfence: $(BUILD)/obj/src/cli/main.o $(BUILD)/librf-core.a $(BUILD)/libringfence.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(BUILD)/librf-core.a $(BUILD)/libringfence.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# --- clients: rf-detect (its engine in src/detect, captures until the client API lands)
RF_DETECT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard clients/rf-detect/*.c) \
	$(filter-out src/detect/cmd_rules.c,$(wildcard src/detect/*.c)) src/capture/capture.c)
$(BUILD)/rf-detect: $(RF_DETECT_OBJS) $(BUILD)/libringfence.a
	$(CC) $(LDFLAGS) -o $@ $^ -lyaml -lhs -lz -lm
all: $(BUILD)/rf-detect

# --- examples: clients that use only the public API (include/ + libringfence.a) ---
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)
.PHONY: examples
all: $(EXAMPLE_BINS)
examples: $(EXAMPLE_BINS)
$(BUILD)/examples/%: examples/%.c $(BUILD)/libringfence.a $(GENERATED)
	@mkdir -p $(@D)
	$(CC) -Iinclude -I$(GEN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libringfence.a -lpthread

# --- tests -----------------------------------------------------------------
$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/librf-core.a $(BUILD)/libringfence.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/fuzz/%-replay: tests/fuzz/%.c tests/fuzz/replay_main.c $(BUILD)/librf-core.a $(BUILD)/libringfence.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/librf-core.a $(BUILD)/libringfence.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit-tests: $(UNIT_BINS)
fuzz-replay: $(FUZZ_REPLAY)
fuzz:
	$(MAKE) FUZZ=1 $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/fuzz/%)
	@echo "run e.g.: build/fuzz/fuzz/fuzz_capture -max_total_time=60 tests/fuzz/corpus/capture"

test: $(DEPS_STAMP)
	@scripts/deps.sh test
	$(MAKE) all unit-tests fuzz-replay
	$(MAKE) SANITIZE=address,undefined all unit-tests fuzz-replay
	@tests/run.sh build build/san

run: all
	$(BUILD)/ringfence run

bench: all
	@scripts/deps.sh bench
	@bench/run.sh $(BUILD)

# Regenerate the capture fuzz corpus after a schema change (captures carry the
# schema's layout hash; stale ones only exercise the header check).
corpus: $(BUILD)/tests/helpers/make_capture
	$(BUILD)/tests/helpers/make_capture tests/fuzz/corpus/capture/synthetic.rfcap 24
	f=tests/fuzz/corpus/capture/synthetic.rfcap; head -c 64 $$f > tests/fuzz/corpus/capture/header-only.rfcap; \
	head -c 100 $$f > tests/fuzz/corpus/capture/truncated-record.rfcap; \
	cp $$f tests/fuzz/corpus/capture/corrupt-crc.rfcap; printf '\x55' | dd of=tests/fuzz/corpus/capture/corrupt-crc.rfcap bs=1 seek=200 conv=notrunc 2>/dev/null; \
	cp $$f tests/fuzz/corpus/capture/bad-length.rfcap; printf '\xff\xff\x00\x00' | dd of=tests/fuzz/corpus/capture/bad-length.rfcap bs=1 seek=64 conv=notrunc 2>/dev/null

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
