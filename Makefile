# hermit - a static-content HTTP server that locks itself in.
# make            build ./hermit (a C compiler, libseccomp and OpenSSL 3 headers)
# make run        build and serve examples/site on http://127.0.0.1:8080
# make check      the whole test suite (SANITIZE=1: under ASan+UBSan)
# make install    PREFIX=/usr/local DESTDIR= (binary, manual page, systemd units)
# make deps       install the Debian packages the build needs (as root)
# make deb        the Debian package, in build/deb/ (see debian/README.source)
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
NGHTTP2_CFLAGS := $(shell pkg-config --cflags libnghttp2 2>/dev/null)
NGHTTP2_LIBS := $(shell pkg-config --libs libnghttp2 2>/dev/null || echo -lnghttp2)

WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -DHERMIT_VERSION='"$(VERSION)"' $(WARN) \
       -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE $(SECCOMP_CFLAGS) $(OPENSSL_CFLAGS) $(NGHTTP2_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now -pthread $(LDFLAGS)
LIBS = $(SECCOMP_LIBS) $(OPENSSL_LIBS) $(NGHTTP2_LIBS)

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
MODULES = options listen descriptors confine audit server conn http1 http2 transport request resolve \
          filecache respond rules errorpage listing mime etag range encoding httpdate log keyproc certs tls proxy
OBJS = $(MODULES:%=$(BUILD)/%.o)
UNIT_TESTS = $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))

all: $(BIN)

# Packages are installed by make deps and by the README's two commands (make
# run, make check), before anything is compiled; never by the build itself,
# which needs no dpkg or apt (tests/deps.sh: as root it installs, otherwise it
# prints the apt-get line).
deps:
	./tests/deps.sh build

test-deps:
	./tests/deps.sh test

PACKAGES_FIRST = $(if $(filter check,$(MAKECMDGOALS)),test-deps,$(if $(filter run,$(MAKECMDGOALS)),deps))
$(OBJS) $(BUILD)/main.o: | $(PACKAGES_FIRST) $(BUILD)/.libs

# A library that is missing is named with its package, not left to a
# compiler error (checked once per build directory).
$(BUILD)/.libs: | $(PACKAGES_FIRST) $(BUILD)
	./tests/deps.sh libs $(CC)
	touch $@

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

run: deps $(BIN)
	./tests/run-example.sh ./$(BIN)

check: test-deps $(BIN) unit
	./tests/check.sh $(BUILD) ./$(BIN)

# make bench only, never installed: hermit with each private key in its
# workers, the baseline against which tests/bench.sh measures what the key
# process costs under load.
$(BUILD)/hermit-key-in-worker: src/main.c src/*.h $(OBJS)
	$(CC) $(ALL_CFLAGS) -DHERMIT_BENCH_KEY_IN_WORKER -o $@ src/main.c $(OBJS) $(ALL_LDFLAGS) $(LIBS)

bench: $(BIN) $(BUILD)/bench_handshake $(BUILD)/hermit-key-in-worker
	./tests/bench.sh ./$(BIN) $(BUILD)/bench_handshake $(BUILD)/hermit-key-in-worker

install: $(BIN) install-units
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/hermit
	install -m 0644 man/hermit.8 $(DESTDIR)$(MANDIR)/man8/hermit.8

include contrib/systemd/units.mk
include fuzz/fuzz.mk

clean:
	rm -rf build build-san hermit

# dpkg-buildpackage writes to the parent directory; the files are moved to
# build/deb/ (its clean step empties build/ first). This make's variables
# (SANITIZE=1, say) stay out of the package's build.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version 2>/dev/null)
DEB_ARCH = $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
deb:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE dpkg-buildpackage -us -uc -b
	mkdir -p build/deb
	mv ../hermit_$(DEB_VERSION)_$(DEB_ARCH).deb ../hermit_$(DEB_VERSION)_$(DEB_ARCH).buildinfo \
	   ../hermit_$(DEB_VERSION)_$(DEB_ARCH).changes build/deb/
	-mv ../hermit-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).deb build/deb/ 2>/dev/null
	@echo "make deb: build/deb/hermit_$(DEB_VERSION)_$(DEB_ARCH).deb"

.PHONY: all deps test-deps unit run check bench install clean deb
