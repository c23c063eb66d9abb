# Fuzzing with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer
# (clang from Debian: packages clang and libclang-rt-14-dev). Included by
# the Makefile; see docs/SECURITY-TESTING.md.
#
# make fuzz FUZZ_SECONDS=N   build every target, run each for N seconds
#                            (FUZZ_TARGETS="request range" for a subset)
# make fuzz-regress          run every target once over its seed corpus
# make fuzz-build            only build them (build-fuzz/fuzz_NAME)
# make fuzz-msan             the same under MemorySanitizer (reads of memory
#                            never written), built in build-fuzz/msan; not
#                            fuzz_tls nor fuzz_h2: Debian's libssl and
#                            libnghttp2 are not instrumented
# make fuzz-clean            remove build-fuzz/ (its corpus and crashes too)
#
# fuzz_conn, fuzz_conn_walk, fuzz_tls and fuzz_h2 are one file, fuzz_conn.c,
# built four ways (fuzz_tls: with the TLS transport, certs and OpenSSL linked
# in; fuzz_h2: with --h2c clients).
# Each target starts from fuzz/corpus/NAME (checked in, never written) and
# keeps what it learns in build-fuzz/corpus/NAME; crashes are saved as
# build-fuzz/crashes/NAME-crash-*. Long campaigns: see docs/SECURITY-TESTING.md.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD = build-fuzz
FUZZ_TARGETS ?= request resolve_path resolve_host range httpdate encoding etag log conn conn_walk \
	tls proxy headers redirects rules_match h2 h2_request
# Every module but those that start, confine or thread the process.
FUZZ_MODULES = $(filter-out options listen descriptors confine audit server keyproc certs tls,$(MODULES))
FUZZ_OBJS = $(FUZZ_MODULES:%=$(FUZZ_BUILD)/%.o)
FUZZ_SAN = address,undefined
FUZZ_SAN_FLAGS = $(if $(filter memory,$(FUZZ_SAN)),-fsanitize-memory-track-origins)
FUZZ_CFLAGS = -std=c17 -D_GNU_SOURCE -DHERMIT_VERSION='"$(VERSION)"' -DHERMIT_SANITIZER=1 \
	$(WARN) -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all -iquote src $(OPENSSL_CFLAGS) $(NGHTTP2_CFLAGS)

$(FUZZ_BUILD)/%.o: src/%.c src/*.h | $(FUZZ_BUILD)/.dir
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) $(FUZZ_SAN_FLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h fuzz/fuzz_conn.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $(FUZZ_SAN_FLAGS) -o $@ $< $(FUZZ_OBJS) -ldl $(NGHTTP2_LIBS)

# fuzz_tls also runs the TLS transport and reads certificates: OpenSSL too.
FUZZ_TLS_OBJS = $(FUZZ_BUILD)/certs.o $(FUZZ_BUILD)/tls.o
$(FUZZ_BUILD)/fuzz_tls: fuzz/fuzz_tls.c fuzz/fuzz.h fuzz/fuzz_conn.c $(FUZZ_OBJS) $(FUZZ_TLS_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $(FUZZ_SAN_FLAGS) -o $@ $< \
	    $(FUZZ_OBJS) $(FUZZ_TLS_OBJS) -ldl -pthread $(OPENSSL_LIBS) $(NGHTTP2_LIBS)

$(FUZZ_BUILD)/.dir:
	mkdir -p $(FUZZ_BUILD)
	touch $@

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: fuzz-build
	./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	./fuzz/run.sh $(FUZZ_BUILD) 0 $(FUZZ_TARGETS)

fuzz-msan:
	$(MAKE) fuzz FUZZ_SAN=memory FUZZ_BUILD=$(FUZZ_BUILD)/msan FUZZ_SECONDS=$(FUZZ_SECONDS) \
	    FUZZ_TARGETS="$(filter-out tls h2,$(FUZZ_TARGETS))"

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

.SECONDARY: $(FUZZ_OBJS) $(FUZZ_TLS_OBJS)
.PHONY: fuzz fuzz-build fuzz-regress fuzz-msan fuzz-clean
