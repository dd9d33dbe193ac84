/* Baseline 1 (SPEC §12): a plain libfcgi responder answering a fixed body.
 *
 *   fixed SOCKET_PATH [THREADS [BODY_FILE | 304]]
 *
 * Listens on a unix socket (mode 0666 so nginx can reach it), FCGX_Init once, then THREADS (default 4) threads,
 * each with its own FCGX_Request, each calling FCGX_Accept_r without a lock (fine on Linux), answering `pong`.
 * With BODY_FILE it answers that file's bytes as JSON instead: api-bench uses this for a diagnostic ceiling,
 * "the same 125 KB answer from a C responder's memory" (SPEC §12), i.e. the cost of the transport alone.
 * With `304` it answers 304 Not Modified with the headers the pool's revalidation carries (ETag, X-Request-Id,
 * Cache-Control): api-bench sends it the pool's revalidation requests (token and If-None-Match), so nginx and wrk
 * do the same work for both.
 * Stops on SIGTERM/SIGINT (default disposition: the process just ends). Built by Benchmarks/api-bench. */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int listen_fd;

static const char pong[] =
    "Status: 200 OK\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "pong";
static const char not_modified[] =
    "Status: 304 Not Modified\r\n"
    "ETag: \"0123456789abcdef\"\r\n"
    "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n"
    "Cache-Control: private, no-cache\r\n"
    "\r\n";
static const char *answer = pong;
static int answer_length = (int)sizeof pong - 1;

/* The whole response (head and body) for BODY_FILE, built once. */
static void load_body(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buffer = malloc((size_t)size + 256);
    int head = snprintf(buffer, 256, "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                                     "Content-Length: %ld\r\n\r\n", size);
    if (fread(buffer + head, 1, (size_t)size, f) != (size_t)size) {
        perror(path);
        exit(1);
    }
    fclose(f);
    answer = buffer;
    answer_length = head + (int)size;
}

static void *serve(void *unused) {
    (void)unused;
    FCGX_Request *request = calloc(1, sizeof *request);
    if (!request || FCGX_InitRequest(request, listen_fd, 0) != 0) {
        fprintf(stderr, "fixed: FCGX_InitRequest failed\n");
        exit(1);
    }
    while (FCGX_Accept_r(request) >= 0) {
        FCGX_PutStr(answer, answer_length, request->out);
        FCGX_Finish_r(request);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SOCKET_PATH [THREADS [BODY_FILE | 304]]\n", argv[0]);
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 4;
    if (threads < 1) threads = 1;
    if (argc > 3 && strcmp(argv[3], "304") == 0) {
        answer = not_modified;
        answer_length = (int)sizeof not_modified - 1;
    } else if (argc > 3) {
        load_body(argv[3]);
    }
    if (FCGX_Init() != 0) return 1;
    /* libfcgi turned SIGTERM into a flag checked only after the next accept: make it end the process again. */
    signal(SIGTERM, SIG_DFL);
    unlink(argv[1]);
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    if (listen_fd < 0) {
        perror("FCGX_OpenSocket");
        return 1;
    }
    chmod(argv[1], 0666);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, serve, NULL);
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    return 0;
}
