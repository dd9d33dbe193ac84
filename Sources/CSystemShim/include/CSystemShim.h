// Linux calls Swift cannot reach directly (variadic prctl) or that need kernel structs (sock_diag).
#ifndef XOMIFY_CSYSTEMSHIM_H
#define XOMIFY_CSYSTEMSHIM_H

#include <stdint.h>

// Deliver `signal` to this process when its parent dies; 0 on success, else errno.
int xsys_set_parent_death_signal(int signal);

// Name the calling thread (at most 15 bytes are kept); shown by ps and top.
int xsys_set_thread_name(const char *name);

// An anonymous shared-memory file of `size` bytes; the fd, or -errno.
int xsys_memfd(const char *name, unsigned long size);

// Queue length and backlog of a listening unix socket, read through sock_diag.
// 0 on success, else -errno.
int xsys_unix_listen_queue(int fd, unsigned int *queued, unsigned int *backlog);



// A worker's event set, one epoll instance its responder threads all wait on (epoll wakes one waiting thread per
// event, so a connection wakes one thread, not all of them): the listening socket (tag 0) and each parked
// connection (its own tag, >= 2^32) are registered one-shot, so that exactly one thread takes each event until the
// socket is armed again. The epoll fd, or -errno.
int xsys_worker_events(int listen_fd);

// Waits for one event: 1 and its tag, 0 on timeout (or a signal), or -errno.
int xsys_worker_wait(int events_fd, int timeout_ms, uint64_t *tag);

// Arms a one-shot registration again (after the thread that took its event is done with it); 0 or -errno.
int xsys_worker_rearm(int events_fd, int fd, uint64_t tag);

// Registers a parked connection (EPOLLIN | EPOLLRDHUP, one-shot) with `tag`; 0 or -errno.
int xsys_worker_park(int events_fd, int fd, uint64_t tag);

// Removes a registration; 0 or -errno.
int xsys_worker_unpark(int events_fd, int fd);

// 1 when the peer of a connected socket has shut down its sending side (or the connection broke), else 0
// (poll with POLLRDHUP, which glibc declares only under _GNU_SOURCE).
int xsys_peer_done(int fd);

// accept4(listen_fd, SOCK_CLOEXEC) (glibc declares it only under _GNU_SOURCE): the connection, or -errno.
int xsys_accept_cloexec(int listen_fd);

// glibc's malloc thresholds (mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD; malloc.h is not in Swift's Glibc).
void xsys_malloc_thresholds(int mmap_threshold, int trim_threshold);

// Sequentially consistent atomics on plain memory (the shared scoreboard lives in an mmap'd region,
// where Swift's Atomic type cannot be placed).
uint64_t xsys_atomic_load(const uint64_t *address);
void xsys_atomic_store(uint64_t *address, uint64_t value);
uint64_t xsys_atomic_add(uint64_t *address, uint64_t delta);
uint64_t xsys_atomic_sub(uint64_t *address, uint64_t delta);
#endif
