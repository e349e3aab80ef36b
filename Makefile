# stotp: C core (stotp.core), the virtual probe (vprobe), and the Lua layer.
#   make          build everything into build/
#   make test     install missing Debian packages, build, run the busted suite
#   make run      provision a virtual board from an example recipe
#   make check    the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench    speed and round-trip targets
#   make test-hw  read-only specs against a real probe (#hardware)
#   make soak     seeded soak of stations under faults (SEED, STATIONS, BOARDS, DURATION)
#   make fuzz     bounded fuzzing of every parser under ASan + UBSan

LUA        ?= lua5.4
BUSTED     ?= $(LUA) /usr/bin/busted
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BUILD      ?= build
CFLAGS     ?= -O2 -g

LUA_CFLAGS := $(shell $(PKG_CONFIG) --cflags lua5.4 2>/dev/null)
USB_CFLAGS := $(shell $(PKG_CONFIG) --cflags libusb-1.0 2>/dev/null)
USB_LIBS   := $(shell $(PKG_CONFIG) --libs libusb-1.0 2>/dev/null)
LMOD_DIR   ?= $(PREFIX)/share/lua/5.4
CMOD_DIR   ?= $(PREFIX)/lib/lua/5.4
BIN_DIR    ?= $(PREFIX)/bin

# The caller's CFLAGS first, then ours: warnings are errors.
ALL_CFLAGS = $(CFLAGS) -std=c11 -Wall -Wextra -Werror -Wformat=2 -fPIC \
             -fvisibility=hidden -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
             $(LUA_CFLAGS) $(USB_CFLAGS) -Isrc -Isrc/vprobe
SHARED     = -shared $(LDFLAGS)

VPROBE_SRC := $(wildcard src/vprobe/*.c)
CORE_SRC   := $(wildcard src/*.c)
VPROBE_OBJ := $(VPROBE_SRC:src/%.c=$(BUILD)/obj/%.o)
CORE_OBJ   := $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
SHIM_OBJ   := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(wildcard src/vprobe/shim/*.c))
HARNESS_SRC:= $(wildcard tests/support/*.c)

SHIM       := $(BUILD)/vprobe/libusb-1.0.so.0
CORE       := $(BUILD)/stotp/core.so
HARNESSES  := $(HARNESS_SRC:tests/support/%.c=$(BUILD)/test/%.so)
LAUNCHER   := $(BUILD)/bin/stotp

.PHONY: all deps test check bench run test-hw install clean format soak fuzz
all: $(SHIM) $(CORE) $(HARNESSES) $(LAUNCHER)

# The `stotp` command: lua/stotp/cli/stotp.in with the directories of its
# modules and C core filled in (this tree here, the installed ones below).
STOTP_SED = sed -e 's|@LUA@|$(LUA)|' -e 's|@LMOD_DIR@|$(1)|' -e 's|@CMOD_DIR@|$(2)|'
$(LAUNCHER): lua/stotp/cli/stotp.in Makefile
	@mkdir -p $(dir $@)
	$(call STOTP_SED,$(CURDIR)/lua,$(abspath $(BUILD))) $< >$@
	chmod 755 $@

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h src/vprobe/*.h src/vprobe/shim/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/support/%.c $(wildcard src/vprobe/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The drop-in libusb: same soname as the real one, so LD_LIBRARY_PATH picks it.
$(SHIM): $(SHIM_OBJ) $(VPROBE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SHARED) -Wl,-soname,libusb-1.0.so.0 -o $@ $^
	ln -sf libusb-1.0.so.0 $(BUILD)/vprobe/libusb-1.0.so

# stotp.core carries the model too, for the in-process link (sim:).
$(CORE): $(CORE_OBJ) $(VPROBE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SHARED) -o $@ $^ $(USB_LIBS)

# Test-only Lua bindings (tests/support/*.c): the model without host code,
# and setenv for specs. Never installed.
$(BUILD)/test/%.so: $(BUILD)/obj/tests/%.o $(VPROBE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SHARED) -o $@ $^

deps:
	@bash .ci/deps

# The suite runs with the drop-in libusb: stotp.core's real USB code path
# then talks to virtual probes (no machine here has a real one).
test: deps
	@$(MAKE) --no-print-directory all
	LD_LIBRARY_PATH=$(BUILD)/vprobe $(BUSTED)

test-hw: deps
	@$(MAKE) --no-print-directory all
	$(BUSTED) --run=hardware

# Sanitizers: a separate build tree; the runtimes are preloaded because the
# lua5.4 interpreter (and OpenOCD, in the peer specs) are not instrumented.
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
check: deps
	@$(MAKE) --no-print-directory BUILD=build-san CFLAGS="$(SAN_FLAGS)" \
	  LDFLAGS="-fsanitize=address,undefined" all
	STOTP_BUILD=build-san ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  LD_LIBRARY_PATH=build-san/vprobe \
	  LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  $(BUSTED) --cpath="build-san/?.so;build-san/test/?.so"

bench: deps
	@$(MAKE) --no-print-directory all
	$(LUA) tests/bench/run.lua
	$(LUA) tests/bench/provision.lua
	$(LUA) tests/bench/station.lua

# The seeded soak (tests/soak/soak.lua; README "Soak"). CI runs the short
# default: 200 boards, 3 stations, seed 1, SQLite then PostgreSQL.
SEED     ?= 1
STATIONS ?= 3
BOARDS   ?= 200
DURATION ?=
JOURNALS ?= sqlite,pg
DRIVERS  ?= provision
soak: deps
	@$(MAKE) --no-print-directory all
	$(LUA) tests/soak/soak.lua SEED=$(SEED) STATIONS=$(STATIONS) BOARDS=$(BOARDS) \
	  DURATION=$(DURATION) JOURNALS=$(JOURNALS) DRIVERS=$(DRIVERS) $(if $(ONLY),ONLY=$(ONLY))

# Fuzzing (tests/fuzz/, README "Fuzzing"): libFuzzer targets built by
# clang under ASan + UBSan in build-fuzz/, then the seeded mutation
# harnesses of the Lua parsers. FUZZ_RUNS bounds each target (CI: default).
FUZZ_RUNS ?= 10000
FUZZ_SEED ?= 1
FUZZ_CC   ?= clang
FUZZ_DIR   = build-fuzz
FUZZ_SAN   = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CORE  = $(filter-out src/lstotp%,$(CORE_SRC)) $(VPROBE_SRC)
FUZZ_OBJ   = $(FUZZ_CORE:src/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS  = $(FUZZ_DIR)/fuzz_image $(FUZZ_DIR)/fuzz_replies
$(FUZZ_DIR)/obj/%.o: src/%.c $(wildcard src/*.h src/vprobe/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_DIR)/obj/fuzz/%.o: tests/fuzz/%.c $(wildcard tests/fuzz/*.h src/*.h src/vprobe/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -Itests/fuzz -c -o $@ $<
$(FUZZ_DIR)/fuzz_image: $(FUZZ_DIR)/obj/fuzz/fuzz_image.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(USB_LIBS)
$(FUZZ_DIR)/fuzz_replies: $(FUZZ_DIR)/obj/fuzz/fuzz_replies.o $(FUZZ_DIR)/obj/fuzz/reply_session.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(USB_LIBS)
$(FUZZ_DIR)/record_replies: $(FUZZ_DIR)/obj/fuzz/record_replies.o $(FUZZ_DIR)/obj/fuzz/reply_session.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -o $@ $^ $(USB_LIBS)
fuzz: deps
	@$(MAKE) --no-print-directory all $(FUZZ_BINS) $(FUZZ_DIR)/record_replies
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SEED=$(FUZZ_SEED) FUZZ_DIR=$(FUZZ_DIR) bash tests/fuzz/run.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(LUA) provision.lua examples/sensor-mac.cfg --sim build/demo-board.img --yes

# The installed C core names the installed udev rule (permission-denied
# message, stotp.udev_rule), so it is built apart, with STOTP_UDEV_RULE
# defined; the stamp holds that path, so a new PREFIX rebuilds it.
UDEV_RULE_INSTALLED = $(PREFIX)/share/stotp/49-stotp-stlink.rules
INSTALL_OBJ := $(CORE_SRC:src/%.c=$(BUILD)/install/obj/%.o)
INSTALL_CORE := $(BUILD)/install/stotp/core.so
.PHONY: FORCE
$(BUILD)/install/udev-rule: FORCE
	@mkdir -p $(dir $@)
	@echo '$(UDEV_RULE_INSTALLED)' | cmp -s - $@ || echo '$(UDEV_RULE_INSTALLED)' >$@

$(BUILD)/install/obj/%.o: src/%.c $(wildcard src/*.h src/vprobe/*.h) $(BUILD)/install/udev-rule
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DSTOTP_UDEV_RULE='"$(UDEV_RULE_INSTALLED)"' -c -o $@ $<

$(INSTALL_CORE): $(INSTALL_OBJ) $(VPROBE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SHARED) -o $@ $^ $(USB_LIBS)

install: all $(INSTALL_CORE)
	install -d $(DESTDIR)$(CMOD_DIR)/stotp $(DESTDIR)$(LMOD_DIR)/stotp/cli $(DESTDIR)$(LMOD_DIR)/stotp/station $(DESTDIR)$(BIN_DIR)
	install -m 755 $(INSTALL_CORE) $(DESTDIR)$(CMOD_DIR)/stotp/core.so
	install -m 644 lua/stotp/*.lua $(DESTDIR)$(LMOD_DIR)/stotp/
	install -m 644 lua/stotp/cli/*.lua $(DESTDIR)$(LMOD_DIR)/stotp/cli/
	install -m 644 lua/stotp/station/*.lua $(DESTDIR)$(LMOD_DIR)/stotp/station/
	$(call STOTP_SED,$(LMOD_DIR),$(CMOD_DIR)) lua/stotp/cli/stotp.in >$(DESTDIR)$(BIN_DIR)/stotp
	chmod 755 $(DESTDIR)$(BIN_DIR)/stotp
	install -d $(DESTDIR)$(PREFIX)/share/stotp
	install -m 644 examples/udev/49-stotp-stlink.rules $(DESTDIR)$(PREFIX)/share/stotp/

# The C sources in one layout (.clang-format); tests/lint_spec.lua checks it.
C_SOURCES := $(wildcard src/*.c src/*.h src/vprobe/*.c src/vprobe/*.h src/vprobe/shim/*.c src/vprobe/shim/*.h tests/support/*.c tests/fuzz/*.c tests/fuzz/*.h)
format:
	clang-format -i $(C_SOURCES)

clean:
	rm -rf $(BUILD) build-san build-fuzz
