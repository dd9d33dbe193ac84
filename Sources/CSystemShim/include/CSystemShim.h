// Linux calls Swift cannot reach directly (variadic prctl) or that need kernel structs (sock_diag).
#ifndef XOMIFY_CSYSTEMSHIM_H
#define XOMIFY_CSYSTEMSHIM_H

// Deliver `signal` to this process when its parent dies; 0 on success, else errno.
int xsys_set_parent_death_signal(int signal);

// Name the calling thread (at most 15 bytes are kept); shown by ps and top.
int xsys_set_thread_name(const char *name);

// An anonymous shared-memory file of `size` bytes; the fd, or -errno.
int xsys_memfd(const char *name, unsigned long size);

// Queue length and backlog of a listening unix socket, read through sock_diag.
// 0 on success, else -errno.
int xsys_unix_listen_queue(int fd, unsigned int *queued, unsigned int *backlog);



// An epoll set for one acceptor thread: the listening socket with EPOLLEXCLUSIVE (a new connection wakes one
// waiting thread, not all of them) and a wake descriptor without it (a drain wakes everyone). The epoll fd, or
// -errno.
int xsys_acceptor_epoll(int listen_fd, int wake_fd);

// Waits on such a set: 1 for a connection, 2 for the wake descriptor (which wins), 0 on timeout, or -errno.
// (Not the descriptor itself: an inherited listening socket is fd 0.)
int xsys_acceptor_wait(int epoll_fd, int wake_fd, int timeout_ms);

// glibc's malloc thresholds (mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD; malloc.h is not in Swift's Glibc).
void xsys_malloc_thresholds(int mmap_threshold, int trim_threshold);

#include <stdint.h>
// Sequentially consistent atomics on plain memory (the shared scoreboard lives in an mmap'd region,
// where Swift's Atomic type cannot be placed).
uint64_t xsys_atomic_load(const uint64_t *address);
void xsys_atomic_store(uint64_t *address, uint64_t value);
uint64_t xsys_atomic_add(uint64_t *address, uint64_t delta);
uint64_t xsys_atomic_sub(uint64_t *address, uint64_t delta);
#endif
