# SPDX-License-Identifier: MIT
# ovup: one plain Makefile.  `make` builds build/ovup; `make demo` and
# `make check` install what is missing first (tools/deps).

ARCH      ?= x86_64
CC        ?= gcc
BUILD     := build
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
CFLAGS    ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -MMD -MP -Iinclude
LIBS      := -lelf -ldw -ldebuginfod -lcapstone -llzma

CORE_SRC := $(wildcard src/util/*.c src/elf/*.c src/model/*.c src/core/*.c src/arch/$(ARCH)/*.c \
	    src/target/*.c src/target/process/*.c src/target/kernel/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
VICTIM_SRC := $(wildcard tests/victims/*.c)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

# sanitizer build of the same sources, used by the unit tests
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_OBJ  := $(CORE_SRC:%.c=$(BUILD)/san/%.o) $(CLI_SRC:%.c=$(BUILD)/san/%.o)

.PHONY: all demo check deps kmod clean unit victims test-bins bench lint

all: $(BUILD)/ovup

$(BUILD)/ovup: $(CORE_OBJ) $(CLI_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

# The sanitizer objects are prerequisites of a pattern rule only, which makes
# them intermediate: make would delete them after every build and recompile
# them at the next `make unit`.
.SECONDARY: $(SAN_OBJ)

# unit tests link the sanitized core (and the cli parser, without main); the
# files they read are found through absolute paths, from any directory
SAN_LIB_OBJ := $(filter-out $(BUILD)/san/src/cli/main.o,$(SAN_OBJ))
UNIT_DEFS := -DOVUP_TEST_VICTIMS='"$(abspath $(BUILD))/tests/victims/"'
$(BUILD)/tests/unit/%: tests/unit/%.c tests/lib/tap.h $(SAN_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Isrc -Itests/lib $(UNIT_DEFS) -o $@ $< $(SAN_LIB_OBJ) $(LIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread

# the unit tests and what they read at run time (test_symtab: the victims)
unit: $(UNIT_BIN) victims

victims:
	@$(MAKE) --no-print-directory -C tests/victims BUILD=$(abspath $(BUILD))/tests/victims

test-bins: $(BUILD)/ovup unit $(HELPER_BIN)

deps:
	@tools/deps check

# Manual pages: docs/man/NAME.scd -> build/man/NAME (what install copies).
# Not part of `all`, so building ovup needs no scdoc; `check` builds them
# for tests/proc/12-man.t.
MAN_OUT := $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(wildcard docs/man/*.scd))
.PHONY: man
man:
	@tools/deps man
	@$(MAKE) --no-print-directory $(MAN_OUT)

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@.tmp && mv $@.tmp $@

kmod:
	$(MAKE) -C kmod

demo:
	@tools/deps demo
	@tools/deps kernel
	@$(MAKE) --no-print-directory all kmod
	@$(MAKE) --no-print-directory -C examples BUILD=$(abspath $(BUILD))/examples
	@examples/demo.sh

# Style: clang-format (.clang-format) for the tool and its tests; the
# kernel's checkpatch.pl for the module and the interface it shares with
# the tool; and the layers (tools/include-graph --check: an include only
# from a layer below).  All always run, so one report shows everything.
LINT_C    = $(filter-out %.mod.c,$(sort $(shell find src tests -name '*.[ch]')))
LINT_KERN = $(filter-out %.mod.c,$(sort $(wildcard kmod/*.c kmod/*.h))) include/uapi/ovup_uapi.h
CHECKPATCH_DIR ?= $(BUILD)/checkpatch

lint:
	@CHECKPATCH_DIR=$(CHECKPATCH_DIR) tools/deps lint
	@ret=0; \
	clang-format --dry-run --Werror $(LINT_C) || ret=1; \
	$(CHECKPATCH_DIR)/checkpatch.pl --strict --no-tree --quiet --show-types -f $(LINT_KERN) || ret=1; \
	tools/include-graph --check src || ret=1; \
	exit $$ret

# every test, through prove; its last line ("Result: PASS") is what CI reads
check:
	@$(MAKE) --no-print-directory lint
	@tools/deps check
	@tools/deps kernel
	@$(MAKE) --no-print-directory test-bins kmod man
	@prove --exec '' -f $(UNIT_BIN) $(sort $(wildcard tests/proc/*.t)) $(sort $(wildcard tests/kernel/*.t))

bench: all
	@$(MAKE) --no-print-directory test-bins
	bench/run

clean:
	rm -rf $(BUILD)

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(UNIT_BIN:=.d)
