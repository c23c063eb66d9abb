# hermit - a static-content HTTP server that locks itself in.
# make            build ./hermit
# make run        build and serve examples/site on http://127.0.0.1:8080
# make check      the whole test suite (SANITIZE=1: under ASan+UBSan)
# make install    PREFIX=/usr/local DESTDIR= (binary, manual page, systemd units)
# make fuzz       FUZZ_SECONDS=N: every libFuzzer target for N seconds
# make bench      the project's own load test with wrk

VERSION = 0.1.0
PREFIX ?= /usr/local
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
CC ?= cc

SECCOMP_CFLAGS := $(shell pkg-config --cflags libseccomp 2>/dev/null)
SECCOMP_LIBS := $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)
OPENSSL_CFLAGS := $(shell pkg-config --cflags libssl libcrypto 2>/dev/null)
OPENSSL_LIBS := $(shell pkg-config --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto)

WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -DHERMIT_VERSION='"$(VERSION)"' $(WARN) \
       -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE $(SECCOMP_CFLAGS) $(OPENSSL_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now -pthread $(LDFLAGS)
LIBS = $(SECCOMP_LIBS) $(OPENSSL_LIBS)

ifeq ($(SANITIZE),1)
BUILD = build-san
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
       -fno-omit-frame-pointer -DHERMIT_SANITIZER=1 -U_FORTIFY_SOURCE
ALL_LDFLAGS += -fsanitize=address,undefined
BIN = $(BUILD)/hermit
else
BUILD = build
BIN = hermit
endif

# Modules: one file per concern (see README "Design notes").
MODULES = options listen descriptors confine audit server conn transport request resolve \
          filecache respond rules mime etag range encoding httpdate log keyproc certs tls
OBJS = $(MODULES:%=$(BUILD)/%.o)
UNIT_TESTS = $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))

all: $(BIN)

# The Debian packages the build needs, installed once (or named, when not root).
$(BUILD)/.deps: tests/deps.sh | $(BUILD)
	./tests/deps.sh build
	touch $@

$(BUILD)/.test-deps: tests/deps.sh | $(BUILD)
	./tests/deps.sh test
	touch $@

$(OBJS) $(BUILD)/main.o: | $(BUILD)/.deps

$(BIN): $(BUILD)/main.o $(OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/%.o: src/%.c src/*.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/test_%: tests/test_%.c tests/unit.h $(OBJS)
	$(CC) $(ALL_CFLAGS) -iquote src -o $@ $< $(OBJS) $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/bench_handshake: tests/bench_handshake.c $(OBJS)
	$(CC) $(ALL_CFLAGS) -iquote src -o $@ $< $(OBJS) $(ALL_LDFLAGS) $(LIBS)

$(BUILD):
	mkdir -p $(BUILD)

unit: $(UNIT_TESTS:%=$(BUILD)/%)

run: $(BIN)
	./tests/run-example.sh ./$(BIN)

check: $(BUILD)/.test-deps $(BIN) unit
	./tests/check.sh $(BUILD) ./$(BIN)

bench: $(BIN) $(BUILD)/bench_handshake
	./tests/bench.sh ./$(BIN) $(BUILD)/bench_handshake

install: $(BIN) install-units
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/hermit
	install -m 0644 man/hermit.8 $(DESTDIR)$(MANDIR)/man8/hermit.8

include contrib/systemd/units.mk
include fuzz/fuzz.mk

clean:
	rm -rf build build-san hermit

.PHONY: all unit run check bench install clean
