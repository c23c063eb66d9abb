/*
 * limits: every default limit and timeout in one place, each with its reason.
 * The defaults are those of a hardened server; each has a command-line flag
 * (see options.c) and is documented in hermit(8) and the README.
 */
#ifndef HERMIT_LIMITS_H
#define HERMIT_LIMITS_H

/* A request head larger than this gets 414/431: 8 KiB, as OpenBSD httpd and nginx. */
#define DEFAULT_MAX_HEADER_BYTES 8192
#define MIN_MAX_HEADER_BYTES 1024
#define MAX_MAX_HEADER_BYTES 65536

/* More header fields than this gets 431: real browsers send fewer than 30. */
#define DEFAULT_MAX_HEADER_FIELDS 100
#define MAX_MAX_HEADER_FIELDS 1000

/* Requests per connection before hermit closes it, so no client holds a slot forever. */
#define DEFAULT_MAX_REQUESTS 1000

/* Seconds to receive a complete request head once its first byte (or the
 * connection) arrived: a client trickling bytes is closed at this deadline. */
#define DEFAULT_HEADER_TIMEOUT 20

/* Seconds an idle keep-alive connection is kept. */
#define DEFAULT_IDLE_TIMEOUT 30

/* Seconds a response may make no progress (client not reading) before closing. */
#define DEFAULT_SEND_TIMEOUT 30

/* Open connections (all workers together); beyond it new ones get a 503 and are closed. */
#define DEFAULT_MAX_CONNECTIONS 16384

/* Seconds in-flight responses get to finish after SIGTERM/SIGINT. */
#define DEFAULT_GRACE_PERIOD 10

/* After a refused request (or one followed by input it will not answer),
 * hermit half-closes and reads what the client is still sending, for at
 * most this many seconds and bytes, before closing: closing with unread
 * input would make the kernel send a reset, which can destroy the error
 * response before the client reads it (RFC 9112, section 9.6). */
#define LINGER_SECONDS 2
#define LINGER_MAX_BYTES (256 * 1024)

/* Upper bound on --workers: more threads than this only cost memory. */
#define MAX_WORKERS 256

/* Listening sockets hermit accepts (own + inherited). */
#define MAX_LISTENERS 16

/* Responses whose body is at most this size are copied into the output
 * buffer with pread, so header and body leave in one write (and pipelined
 * responses share writes); larger bodies go out with sendfile. */
#define SMALL_BODY_BYTES 16384

/* The per-connection output buffer: headers plus small bodies. */
#define OUT_BUFFER_BYTES (SMALL_BODY_BYTES + 4096)

/* An HTTP/2 connection's output buffer: frames of several streams, file
 * payloads read into it included, leave in one write of up to this much
 * (four 16 KiB DATA frames), as h2o's writev does; 16 KiB frames each sent
 * with their own sendfile cost twice the server CPU for 256 KiB files. */
#define H2_OUT_BUFFER_BYTES (64 * 1024)

/* A file body of several DATA frames is read this much at a time into the
 * HTTP/2 connection's read-ahead (held only while such a stream is being
 * sent), one pread where there would be four; a connection whose streams
 * interleave so that read-ahead is wasted H2_READ_AHEAD_WASTE_MAX times
 * reads each frame by itself from then on. */
#define H2_READ_AHEAD_BYTES (64 * 1024)
#define H2_READ_AHEAD_WASTE_MAX 8

/* A connection's socket holds at most about this much data not yet sent
 * (TCP_NOTSENT_LOWAT): a worker refills it as it drains, so a slow client
 * pins less kernel memory, and under a pacing congestion control (BBR)
 * the kernel sends from the worker as it writes instead of from the
 * client's acknowledgements: large files went about 20% faster over
 * loopback under BBR; below 256 KiB the worker wakes more often for little
 * more. HTTP/1.x through a loopback listener goes without it (Reno there:
 * see listen.c); HTTP/2 keeps it everywhere (see conn.c). */
#define SEND_LOWAT_BYTES (512 * 1024)

/* A file body with at least this much left after a sendfile call that
 * could not send it all is sent with the socket corked until its end (see
 * transport.c). Over loopback a 10 MiB response went from about 240
 * segments to 170, and the CPU of server and client together fell by
 * about a sixth; a body with less left needs a call or two more, and
 * corking those moved sending work onto the client (256 KiB files: 3-10%
 * fewer requests/s) for no fewer segments worth having. */
#define CORK_LEFT_BYTES (1024 * 1024)

/* A connection whose least round trip is at most LOCAL_RTT_US (a reverse
 * proxy on the same host reaching a wildcard listener, or in the same
 * rack) gets a fixed send buffer of LOCAL_SNDBUF_BYTES (the kernel doubles
 * it for its bookkeeping: 512 KiB in all) once it sends a file body,
 * instead of the up to 4 MiB that autotuning grows it to. At 250 us,
 * 512 KiB still covers 16 Gbit/s; under BBR what autotuning adds there
 * only sat queued, and sending it cost more: over loopback a 10 MiB
 * response took about a third less server CPU and went faster. Farther
 * clients keep autotuning, which their throughput needs; so do the
 * connections of a loopback listener (see listen.c). */
#define LOCAL_RTT_US 250
#define LOCAL_SNDBUF_BYTES (256 * 1024)

/* --hsts SECONDS at most: ten years. Browsers cap what they keep anyway
 * (Chromium one year); a larger number is more likely a typo. */
#define MAX_HSTS_SECONDS 315360000

/* TLS session tickets: their keys are replaced every period (a ticket then
 * opens for one to two periods: a stolen ticket key reveals at most that
 * much of recorded traffic); at most a day. */
#define DEFAULT_TICKET_PERIOD 3600
#define MAX_TICKET_PERIOD 86400

/* HTTP/2 (see http2.h). Streams open at once on a connection: browsers
 * ask for about 100 at a time, and nginx and h2o allow 100 and 128. */
#define DEFAULT_H2_MAX_STREAMS 100
#define MAX_H2_MAX_STREAMS 1000

/* Spare buffers a worker keeps for reuse instead of returning them to malloc. */
#define BUFFER_POOL_KEEP 64

/* _headers and _redirects (see rules.h): Cloudflare Pages' limits, so a
 * site that deploys there loads here: 2,000 static and 100 dynamic
 * redirects, a redirect line of at most 1,000 bytes; 100 header rules, a
 * header line of at most 2,000 bytes. The file and entry bounds keep what
 * a worker holds per site small; a file is looked at once a second, as the
 * file cache trusts an entry that long. Sites remembered per worker. */
#define RULES_STATIC_MAX 2000
#define RULES_DYNAMIC_MAX 100
#define RULES_REDIRECT_LINE_MAX 1000
#define RULES_HEADER_RULES_MAX 100
#define RULES_HEADER_LINE_MAX 2000
#define RULES_HEADER_ENTRIES_MAX 1000
#define RULES_HEADER_NAMES_MAX 128
#define RULES_FILE_MAX (1024 * 1024)
#define RULES_RECHECK_MS 1000
#define RULES_SITES 256

#endif
