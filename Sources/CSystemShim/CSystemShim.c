#define _GNU_SOURCE
#include "CSystemShim.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

int xsys_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0) == 0 ? 0 : errno;
}

int xsys_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0) == 0 ? 0 : errno;
}

int xsys_memfd(const char *name, unsigned long size) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)size) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
}

int xsys_unix_listen_queue(int fd, unsigned int *queued, unsigned int *backlog) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;

    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0) return -errno;

    struct {
        struct nlmsghdr header;
        struct unix_diag_req request;
    } message;
    memset(&message, 0, sizeof(message));
    message.header.nlmsg_len = sizeof(message);
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_family = AF_UNIX;
    message.request.udiag_states = 1 << 10; /* TCP_LISTEN */
    message.request.udiag_ino = (unsigned int)st.st_ino;
    message.request.udiag_show = UDIAG_SHOW_RQLEN;
    message.request.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.udiag_cookie[1] = INET_DIAG_NOCOOKIE;

    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(nl, &message, sizeof(message), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
        int saved = errno;
        close(nl);
        return -saved;
    }

    long buffer[2048];
    ssize_t length = recv(nl, buffer, sizeof(buffer), 0);
    int result = -ENOENT;
    if (length < 0) {
        result = -errno;
    } else {
        struct nlmsghdr *header = (struct nlmsghdr *)buffer;
        for (; NLMSG_OK(header, (size_t)length); header = NLMSG_NEXT(header, length)) {
            if (header->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *error = (struct nlmsgerr *)NLMSG_DATA(header);
                result = error->error < 0 ? error->error : -EIO;
                break;
            }
            if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
            struct unix_diag_msg *diag = (struct unix_diag_msg *)NLMSG_DATA(header);
            int attributes = (int)(header->nlmsg_len - NLMSG_LENGTH(sizeof(*diag)));
            struct rtattr *attribute = (struct rtattr *)(diag + 1);
            for (; RTA_OK(attribute, attributes); attribute = RTA_NEXT(attribute, attributes)) {
                if (attribute->rta_type == UNIX_DIAG_RQLEN) {
                    struct unix_diag_rqlen *rq = (struct unix_diag_rqlen *)RTA_DATA(attribute);
                    *queued = rq->udiag_rqueue;
                    *backlog = rq->udiag_wqueue;
                    result = 0;
                }
            }
            break;
        }
    }
    close(nl);
    return result;
}

uint64_t xsys_atomic_load(const uint64_t *address) { return __atomic_load_n(address, __ATOMIC_SEQ_CST); }
void xsys_atomic_store(uint64_t *address, uint64_t value) { __atomic_store_n(address, value, __ATOMIC_SEQ_CST); }
uint64_t xsys_atomic_add(uint64_t *address, uint64_t delta) { return __atomic_add_fetch(address, delta, __ATOMIC_SEQ_CST); }
uint64_t xsys_atomic_sub(uint64_t *address, uint64_t delta) { return __atomic_sub_fetch(address, delta, __ATOMIC_SEQ_CST); }

void xsys_malloc_thresholds(int mmap_threshold, int trim_threshold) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
}

int xsys_worker_events(int listen_fd) {
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return -errno;
    struct epoll_event listen_event = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 0 };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &listen_event) != 0) {
        int saved = errno;
        close(epfd);
        return -saved;
    }
    return epfd;
}

int xsys_worker_wait(int events_fd, int timeout_ms, uint64_t *tag) {
    struct epoll_event event;
    int count = epoll_wait(events_fd, &event, 1, timeout_ms);
    if (count < 0) return errno == EINTR ? 0 : -errno;
    if (count == 0) return 0;
    *tag = event.data.u64;
    return 1;
}

int xsys_worker_rearm(int events_fd, int fd, uint64_t tag) {
    struct epoll_event event = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = tag };
    return epoll_ctl(events_fd, EPOLL_CTL_MOD, fd, &event) == 0 ? 0 : -errno;
}

int xsys_worker_park(int events_fd, int fd, uint64_t tag) {
    struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.u64 = tag };
    return epoll_ctl(events_fd, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : -errno;
}

int xsys_worker_unpark(int events_fd, int fd) {
    struct epoll_event unused = { 0 };
    return epoll_ctl(events_fd, EPOLL_CTL_DEL, fd, &unused) == 0 ? 0 : -errno;
}

int xsys_peer_done(int fd) {
    struct pollfd entry = { .fd = fd, .events = POLLRDHUP };
    if (poll(&entry, 1, 0) != 1) return 0;
    return (entry.revents & (POLLRDHUP | POLLHUP | POLLERR)) ? 1 : 0;
}

int xsys_accept_cloexec(int listen_fd) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

