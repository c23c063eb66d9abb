/*
 * server: the workers and their event loops. Each worker is a thread with
 * its own epoll set holding every listening socket (EPOLLEXCLUSIVE, so one
 * worker wakes per connection) and its own connections; workers share
 * nothing but the read-only config and a counter of open connections.
 *
 * server_prepare() creates everything the loops need (threads, epoll sets,
 * the stop event) and leaves the workers waiting at a gate, reading nothing:
 * main confines the process while they wait, then server_start() opens the
 * gate. server_run() blocks until SIGTERM/SIGINT arrive on sigfd, then stops
 * accepting, lets in-flight responses finish within the grace period and
 * returns the exit status.
 * With --stdio there is one connection on stdin/stdout, served by the main
 * thread itself: server_prepare_stdio() + server_run().
 */
#ifndef HERMIT_SERVER_H
#define HERMIT_SERVER_H

#include <stddef.h>
#include "config.h"
#include "listen.h"

struct server;

struct server *server_prepare(const struct config *cfg, const struct listener *ls,
    unsigned nls, unsigned workers, int sigfd, char *why, size_t whysize);
/* tls: the connection speaks TLS (cfg->keyproc_fds[0] is then the calling
 * thread's key-process socket); proxy: a PROXY protocol header comes first
 * (as on a listener marked so in struct listener). */
struct server *server_prepare_stdio(const struct config *cfg, int sigfd, const char *peer,
    int tls, int proxy, char *why, size_t whysize);
void server_start(struct server *s);
int server_run(struct server *s);
/* After server_run(): frees every worker's state (so that leak checkers
 * count what was really lost). */
void server_free(struct server *s);

#endif
