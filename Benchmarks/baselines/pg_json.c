/* Baseline 2 (SPEC §12): a libfcgi + libpq responder in which PostgreSQL builds the whole JSON answer.
 *
 *   pg_json SOCKET_PATH CONNINFO [THREADS]
 *
 * THREADS (default 4) threads, each with its own FCGX_Request and its own PGconn, answer
 * `GET /wrapped/data?email=…` with ONE prepared statement that returns the complete body
 * `{active, activeWrapped, activeReleaseRadar, wraps: […]}` built from the structured columns (user flags,
 * wrapped_months track/artist id arrays, genre_scores pairs), wraps newest first, genre keys in score order.
 * It is the same answer as the API's (json, unlike jsonb, keeps key order; only whitespace differs).
 * Built by Benchmarks/api-bench. */
#include <ctype.h>
#include <fcgiapp.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int listen_fd;
static const char *conninfo;

#define GENRES(range)                                                                                          \
    "'" range "', (SELECT coalesce(json_object_agg(g.pair->>0, (g.pair->>1)::int ORDER BY g.n), '{}'::json) "    \
    "FROM jsonb_array_elements(w.genre_scores->'" range "') WITH ORDINALITY AS g(pair, n))"

static const char query[] =
    "SELECT json_build_object("
    " 'active', coalesce(u.active, false),"
    " 'activeWrapped', coalesce(u.active_wrapped, false),"
    " 'activeReleaseRadar', coalesce(u.active_release_radar, false),"
    " 'wraps', coalesce((SELECT json_agg(json_build_object("
    "     'email', w.email,"
    "     'monthKey', w.month_key,"
    "     'topSongIds', json_build_object('short_term', w.short_term_track_ids,"
    "                                     'medium_term', w.medium_term_track_ids,"
    "                                     'long_term', w.long_term_track_ids),"
    "     'topArtistIds', json_build_object('short_term', w.short_term_artist_ids,"
    "                                       'medium_term', w.medium_term_artist_ids,"
    "                                       'long_term', w.long_term_artist_ids),"
    "     'topGenres', json_build_object(" GENRES("short_term") ", " GENRES("medium_term") ", "
    GENRES("long_term") "),"
    "     'playlistId', w.playlist_id,"
    "     'createdAt', to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))"
    "   ORDER BY w.month_key DESC)"
    "   FROM wrapped_months w WHERE w.email = p.email), '[]'::json))::text"
    " FROM (SELECT $1::text AS email) AS p LEFT JOIN users u ON u.email = p.email";

static void put(FCGX_Request *request, const char *status, const char *type, const char *body, int length) {
    char head[256];
    int n = snprintf(head, sizeof head, "Status: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", status, type,
                     length);
    FCGX_PutStr(head, n, request->out);
    FCGX_PutStr(body, length, request->out);
}

static int hex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The decoded, lower-cased value of `email=` in the query string, into out (empty if absent). */
static void email_parameter(const char *query_string, char *out, size_t size) {
    out[0] = 0;
    if (!query_string) return;
    const char *p = query_string;
    while (*p) {
        const char *end = strchr(p, '&');
        if (!end) end = p + strlen(p);
        if (strncmp(p, "email=", 6) == 0) {
            size_t n = 0;
            for (const char *s = p + 6; s < end && n + 1 < size; s++) {
                int c = (unsigned char)*s;
                if (c == '%' && s + 2 < end && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
                    c = hex(s[1]) * 16 + hex(s[2]);
                    s += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                out[n++] = (char)tolower(c);
            }
            out[n] = 0;
            return;
        }
        p = *end ? end + 1 : end;
    }
}

static PGconn *connect_db(void) {
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "pg_json: %s", PQerrorMessage(db));
        PQfinish(db);
        return NULL;
    }
    PGresult *prepared = PQprepare(db, "wraps_json", query, 1, NULL);
    if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
        fprintf(stderr, "pg_json: prepare: %s", PQerrorMessage(db));
        PQclear(prepared);
        PQfinish(db);
        return NULL;
    }
    PQclear(prepared);
    return db;
}

static void *serve(void *unused) {
    (void)unused;
    PGconn *db = connect_db();
    if (!db) exit(1);
    FCGX_Request *request = calloc(1, sizeof *request);
    if (!request || FCGX_InitRequest(request, listen_fd, 0) != 0) exit(1);
    char email[512];
    while (FCGX_Accept_r(request) >= 0) {
        email_parameter(FCGX_GetParam("QUERY_STRING", request->envp), email, sizeof email);
        const char *values[1] = {email};
        PGresult *result = PQexecPrepared(db, "wraps_json", 1, values, NULL, NULL, 0);
        if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1) {
            put(request, "200 OK", "application/json; charset=utf-8", PQgetvalue(result, 0, 0),
                PQgetlength(result, 0, 0));
        } else {
            static const char error[] = "{\"error\":\"database\"}";
            put(request, "503 Service Unavailable", "application/json; charset=utf-8", error, (int)sizeof error - 1);
            if (PQstatus(db) != CONNECTION_OK) PQreset(db);
        }
        PQclear(result);
        FCGX_Finish_r(request);
    }
    PQfinish(db);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET_PATH CONNINFO [THREADS]\n", argv[0]);
        return 2;
    }
    conninfo = argv[2];
    int threads = argc > 3 ? atoi(argv[3]) : 4;
    if (threads < 1) threads = 1;
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
