/*
 * fuzz: what every libFuzzer target shares. Each target is one file,
 * fuzz/fuzz_NAME.c, built with clang -fsanitize=fuzzer,address,undefined
 * (see fuzz/fuzz.mk) and seeded from fuzz/corpus/NAME/. Besides the
 * sanitizers' checks, each target states the invariants of its function
 * with FUZZ_ASSERT: a violated invariant aborts, and libFuzzer keeps the
 * input as a crash.
 */
#ifndef HERMIT_FUZZ_H
#define HERMIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sanitizer/common_interface_defs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The message also goes through the sanitizer's report channel, which
 * libFuzzer keeps open when -close_fd_mask=2 silences the target's stderr. */
#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		__sanitizer_report_error_summary("invariant failed: " #cond); \
		abort(); \
	} \
} while (0)

/* A copy of data[0..len) in a heap block of exactly len bytes, so that
 * AddressSanitizer catches a read one byte past the end. Freed by the caller. */
static inline char *
fuzz_dup(const uint8_t *data, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (p == NULL)
		abort();
	for (size_t i = 0; i < len; i++)
		p[i] = (char)data[i];
	return p;
}

#endif
