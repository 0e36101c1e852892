# SPDX-License-Identifier: MIT
# ovup: one plain Makefile.  `make` builds build/ovup; `make demo` and
# `make check` install what is missing first (tools/deps).

ARCH      ?= x86_64
CC        ?= gcc
BUILD     := build
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
CFLAGS    ?= -O2 -g
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARN) -std=gnu11 -MMD -MP -Iinclude
# capstone, libdw and libelf are linked in, and ovup is not a PIE:
# capstone's decoder tables are 80,000 pointers, which the dynamic loader
# relocated at every start (2 of the 3 ms `ovup --version` took; now 1 ms,
# docs/performance.md).  zlib, bzip2 and xz stay shared libraries.
LIBS      := -Wl,-Bstatic -ldw -lelf -lcapstone -Wl,-Bdynamic -llzma -lz -lbz2

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

.PHONY: all demo check deps deb kmod clean unit victims test-bins bench lint

all: $(BUILD)/ovup

$(BUILD)/ovup: $(CORE_OBJ) $(CLI_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -no-pie -o $@ $^ $(LIBS)

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
	@tools/deps deb
	@$(MAKE) --no-print-directory test-bins kmod man
	@prove --exec '' -f $(UNIT_BIN) $(sort $(wildcard tests/proc/*.t)) $(sort $(wildcard tests/kernel/*.t))

# every figure of docs/performance.md in one table (BENCH_KERNEL=0: no VM)
bench: all
	@tools/deps bench
	@$(MAKE) --no-print-directory test-bins kmod
	bench/all

# ---- version, install, uninstall ---------------------------------------
# The version is the top-level VERSION file's, everywhere: `ovup -V`, the
# module's MODULE_VERSION (kmod/Kbuild reads the file too), packages.
# `make install [PREFIX=/usr/local] [DESTDIR=]` lays out what a Debian
# package would: the binary in PREFIX/bin, ovup.h in
# PREFIX/share/ovup/include (compiled into ovup, which also looks next to
# itself first: ../share/ovup/include, and ../include for build/ovup in
# the source tree; OVUP_INCLUDE overrides both), the man pages and bash
# completion when built, examples and docs in PREFIX/share/doc/ovup.
VERSION     := $(shell cat VERSION)
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR       = $(PREFIX)/bin
DATADIR      = $(PREFIX)/share
OVUP_INCDIR  = $(DATADIR)/ovup/include
MANDIR       = $(DATADIR)/man
DOCDIR       = $(DATADIR)/doc/ovup
BASHCOMPDIR  = $(DATADIR)/bash-completion/completions
SYSTEMDDIR   = $(PREFIX)/lib/systemd/system

# The values compiled in, in a file rewritten only when they change: the
# objects that use them are rebuilt when VERSION or PREFIX does (make
# install PREFIX=/usr after a plain make relinks with /usr's directory).
OVUP_DEFS   = -DOVUP_VERSION='"$(VERSION)"' -DOVUP_INCLUDE_DIR='"$(OVUP_INCDIR)"'
DEFS_USERS  := src/cli/run.o src/target/compile.o
$(addprefix $(BUILD)/,$(DEFS_USERS)) $(addprefix $(BUILD)/san/,$(DEFS_USERS)): \
	ALL_CFLAGS += $(OVUP_DEFS)
$(addprefix $(BUILD)/,$(DEFS_USERS)) $(addprefix $(BUILD)/san/,$(DEFS_USERS)): $(BUILD)/defs
$(BUILD)/defs: FORCE
	@mkdir -p $(BUILD)
	@echo '$(OVUP_DEFS)' >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
FORCE:

# What install puts where, one list each, read by install and uninstall
# alike.  Man pages and completion: whatever exists when install runs
# (recursively expanded, so after the prerequisites are built).
INST_HDR     := include/ovup.h
INST_HDR_K   := include/kernel/ovup_jump_label.h
INST_DOC     := README.md CHANGELOG.md LICENSE $(sort $(wildcard docs/*.md))
INST_DOC_D   := $(sort $(wildcard docs/design/*.md))
INST_EX      := $(sort $(wildcard examples/*.c examples/*.sh)) examples/Makefile
INST_MAN1     = $(wildcard $(BUILD)/man/*.1)
INST_MAN5     = $(wildcard $(BUILD)/man/*.5)
INST_COMP     = $(firstword $(wildcard tools/completion/ovup.bash tools/completion/ovup))
INST_UNITS   := contrib/systemd/ovup.service contrib/systemd/ovup-watch.service
# the man pages' names also from their scdoc sources (ovup.1.scd), so that
# uninstall finds them after make clean
MAN_NAMES     = $(sort $(notdir $(INST_MAN1) $(INST_MAN5)) \
		$(basename $(notdir $(wildcard docs/man/*.scd))))

# inst FILES,DIR,MODE: FILES into DESTDIR/DIR (nothing if FILES is empty)
inst = $(if $(strip $(1)),install -d '$(DESTDIR)$(2)' && install -m $(3) $(1) '$(DESTDIR)$(2)/')

.PHONY: install uninstall
install: $(BUILD)/ovup man
	$(call inst,$(BUILD)/ovup,$(BINDIR),755)
	$(call inst,$(INST_HDR),$(OVUP_INCDIR),644)
	$(call inst,$(INST_HDR_K),$(OVUP_INCDIR)/kernel,644)
	$(call inst,$(INST_MAN1),$(MANDIR)/man1,644)
	$(call inst,$(INST_MAN5),$(MANDIR)/man5,644)
	$(if $(INST_COMP),install -d '$(DESTDIR)$(BASHCOMPDIR)' && \
		install -m 644 $(INST_COMP) '$(DESTDIR)$(BASHCOMPDIR)/ovup')
	$(call inst,$(INST_DOC),$(DOCDIR),644)
	$(call inst,$(INST_DOC_D),$(DOCDIR)/design,644)
	$(call inst,$(INST_EX),$(DOCDIR)/examples,644)
	install -d '$(DESTDIR)$(SYSTEMDDIR)'
	$(foreach u,$(INST_UNITS),sed 's|@BINDIR@|$(BINDIR)|g' $(u) >'$(DESTDIR)$(SYSTEMDDIR)/$(notdir $(u))' && \
		chmod 644 '$(DESTDIR)$(SYSTEMDDIR)/$(notdir $(u))' &&) true

# exactly the files install puts, then the directories that are ovup's
# alone if they are empty (never bin/ or man1/, which others share)
uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/ovup' '$(DESTDIR)$(BASHCOMPDIR)/ovup' \
		$(foreach f,$(notdir $(INST_HDR)),'$(DESTDIR)$(OVUP_INCDIR)/$(f)') \
		$(foreach f,$(notdir $(INST_HDR_K)),'$(DESTDIR)$(OVUP_INCDIR)/kernel/$(f)') \
		$(foreach f,$(filter %.1,$(MAN_NAMES)),'$(DESTDIR)$(MANDIR)/man1/$(f)') \
		$(foreach f,$(filter %.5,$(MAN_NAMES)),'$(DESTDIR)$(MANDIR)/man5/$(f)') \
		$(foreach f,$(notdir $(INST_DOC)),'$(DESTDIR)$(DOCDIR)/$(f)') \
		$(foreach f,$(notdir $(INST_DOC_D)),'$(DESTDIR)$(DOCDIR)/design/$(f)') \
		$(foreach f,$(notdir $(INST_EX)),'$(DESTDIR)$(DOCDIR)/examples/$(f)') \
		$(foreach f,$(notdir $(INST_UNITS)),'$(DESTDIR)$(SYSTEMDDIR)/$(f)')
	rmdir '$(DESTDIR)$(OVUP_INCDIR)/kernel' '$(DESTDIR)$(OVUP_INCDIR)' \
		'$(DESTDIR)$(DATADIR)/ovup' '$(DESTDIR)$(DOCDIR)/design' \
		'$(DESTDIR)$(DOCDIR)/examples' '$(DESTDIR)$(DOCDIR)' 2>/dev/null || true
# ---- end of version, install, uninstall --------------------------------

# ---- Debian packages ---------------------------------------------------
# `make deb` builds ovup and ovup-dkms (debian/) with dpkg-buildpackage
# into build/deb/: the .debs, .buildinfo and .changes.  The package is
# built from a copy of the tracked files as they are in the work tree (git
# ls-files), so the developer's objects, build/ and untracked files never
# reach it; debian/changelog is written into that copy, its version from
# VERSION (one place) and its date from the last commit.  Nothing is done
# when no tracked file changed since the last make deb.
DEB_DIR := $(BUILD)/deb
# listed only when a deb is wanted: no git call in every other make
ifneq ($(filter deb $(DEB_DIR)/stamp,$(MAKECMDGOALS)),)
DEB_INPUTS := $(wildcard $(shell git ls-files 2>/dev/null))
ifeq ($(DEB_INPUTS),)
$(error make deb: git ls-files lists no file; make deb needs a git checkout and git)
endif
endif

deb:
	@tools/deps deb
	@$(MAKE) --no-print-directory $(DEB_DIR)/stamp

# MAKEFLAGS would carry this make's command-line variables (BUILD=...)
# into debian/rules' make; dpkg-buildpackage puts the results in ..
$(DEB_DIR)/stamp: $(DEB_INPUTS)
	rm -rf '$(DEB_DIR)'
	mkdir -p '$(DEB_DIR)/src'
	@echo 'copying the $(words $(DEB_INPUTS)) tracked files to $(DEB_DIR)/src'
	@printf '%s\0' $(DEB_INPUTS) | tar -c --null -T - -f - | tar -x -C '$(DEB_DIR)/src' -f -
	{ printf 'ovup (%s) unstable; urgency=medium\n\n' '$(VERSION)'; \
	  printf '  * Built by make deb from git %s.\n' "$$(git describe --always --dirty)"; \
	  printf '    The changes are in CHANGELOG.md, in /usr/share/doc/ovup.\n\n'; \
	  printf ' -- %s  %s\n' "$$(sed -n 's/^Maintainer: //p' debian/control)" \
		"$$(date -u -R -d "@$$(git log -1 --format=%ct)")"; \
	} >'$(DEB_DIR)/src/debian/changelog'
	cd '$(DEB_DIR)/src' && unset MAKEFLAGS MFLAGS MAKELEVEL && \
		dpkg-buildpackage -us -uc -b -Jauto
	rm -rf '$(DEB_DIR)/src'
	touch '$@'

clean:
	rm -rf $(BUILD)

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(UNIT_BIN:=.d)
