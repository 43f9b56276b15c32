/* Serves the session's metrics in the Prometheus text format on a tiny HTTP
 * endpoint on localhost while a load runs.
 *
 *   cc metrics_http.c $(pkg-config --cflags --libs cqlmux) -o metrics_http
 *   ./metrics_http [contact-points] [port] [--listen PORT] [--serve N]
 *   curl http://127.0.0.1:PORT/metrics
 *
 * The load is 64 requests kept in flight: each completion callback (on the
 * callback worker) submits the next request, which never blocks, so no
 * application thread is needed to drive it. main is the HTTP server: one
 * connection at a time, GET /metrics answers cqlmux_session_metrics_prometheus
 * (any thread may call it; it never blocks), anything else is 404. It prints
 * "listening on 127.0.0.1:PORT" once it accepts connections (--listen 0, the
 * default, takes a free port), and with --serve N exits after N answers, so
 * a script can scrape it and stop it. Exits non-zero when a request of the
 * load failed or when the endpoint could not be served. */
#include <cqlmux.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOAD_SLOTS 64

typedef struct load {
  cqlmux_session *session;
  cqlmux_statement *statement; /* read-only once the load starts */
  atomic_int stopping;
  atomic_int failed;
  pthread_mutex_t lock; /* for the wake-up of main when the load has drained */
  pthread_cond_t drained;
  unsigned running; /* slots still chaining requests; guarded by lock */
} load;

static void on_answer(cqlmux_future *future, void *user_data);

/* Submits one request of a slot; returns 0 when no future could be made. */
static int submit(load *l) {
  cqlmux_future *f = cqlmux_session_execute(l->session, l->statement);
  return f && cqlmux_future_set_callback(f, on_answer, l) == CQLMUX_OK;
}

/* Callback worker: counts a failure, then chains the slot's next request
 * unless main asked the load to stop. Relaxed atomics: the flags carry no
 * data; main's final read of `failed` follows the mutex hand-off below. */
static void on_answer(cqlmux_future *future, void *user_data) {
  load *l = user_data;
  if (cqlmux_future_error(future) != CQLMUX_OK && !atomic_exchange(&l->failed, 1))
    fprintf(stderr, "load: %s\n", cqlmux_future_error_message(future));
  cqlmux_future_free(future);
  if (!atomic_load_explicit(&l->stopping, memory_order_relaxed) && submit(l)) return;
  pthread_mutex_lock(&l->lock);
  if (--l->running == 0) pthread_cond_signal(&l->drained);
  pthread_mutex_unlock(&l->lock);
}

static int start_load(load *l) {
  l->statement = cqlmux_statement_new("SELECT release_version FROM system.local", 0);
  if (!l->statement) return 0;
  for (unsigned i = 0; i < LOAD_SLOTS; i++) {
    pthread_mutex_lock(&l->lock);
    l->running++;
    pthread_mutex_unlock(&l->lock);
    if (submit(l)) continue;
    pthread_mutex_lock(&l->lock);
    l->running--; /* this slot never started: stop_load must not wait for it */
    pthread_mutex_unlock(&l->lock);
    return 0;
  }
  return 1;
}

/* Asks every slot to stop after its current request and waits for them. */
static void stop_load(load *l) {
  atomic_store_explicit(&l->stopping, 1, memory_order_relaxed);
  pthread_mutex_lock(&l->lock);
  while (l->running > 0) pthread_cond_wait(&l->drained, &l->lock);
  pthread_mutex_unlock(&l->lock);
}

static int listen_on_localhost(unsigned short port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
      listen(fd, 8) != 0) {
    perror("listen");
    if (fd >= 0) close(fd);
    return -1;
  }
  socklen_t length = sizeof address;
  getsockname(fd, (struct sockaddr *)&address, &length);
  printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(address.sin_port));
  fflush(stdout);
  return fd;
}

static int write_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    /* MSG_NOSIGNAL: a client that hangs up early is not worth a SIGPIPE. */
    ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
    if (n <= 0) return 0;
    data += n;
    length -= (size_t)n;
  }
  return 1;
}

/* The metrics text, grown until it fits (the number of hosts can change
 * between the size query and the copy). The caller frees it. */
static char *render_metrics(const cqlmux_session *session, size_t *length) {
  size_t cap = 16384;
  for (;;) {
    char *text = malloc(cap);
    if (!text) return NULL;
    int rc = cqlmux_session_metrics_prometheus(session, text, cap, length);
    if (rc == CQLMUX_OK) return text;
    free(text);
    if (rc != CQLMUX_ERR_BUFFER_TOO_SMALL) return NULL;
    cap = *length + 1024;
  }
}

/* Answers one HTTP/1.0-style exchange: reads the request line, replies,
 * closes. Returns 1 when a response was written. */
static int serve_one(int client, const cqlmux_session *session) {
  char request[1024];
  ssize_t n = read(client, request, sizeof request - 1);
  if (n <= 0) return 0;
  request[n] = '\0';
  char header[256];
  int ok;
  if (strncmp(request, "GET /metrics ", 13) == 0) {
    size_t length = 0;
    char *body = render_metrics(session, &length);
    if (!body) return 0;
    int header_length = snprintf(header, sizeof header,
                                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                 length);
    ok = write_all(client, header, (size_t)header_length) && write_all(client, body, length);
    free(body);
  } else {
    static const char not_found[] =
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ok = write_all(client, not_found, sizeof not_found - 1);
  }
  return ok;
}

static int serve(int listener, const cqlmux_session *session, long answers) {
  for (long served = 0; answers < 0 || served < answers;) {
    int client = accept(listener, NULL, NULL);
    if (client < 0) return 0;
    served += serve_one(client, session);
    close(client);
  }
  return 1;
}

static cqlmux_session *connect_session(const char *hosts, const char *port) {
  cqlmux_config *config = cqlmux_config_new();
  if (!config) return NULL;
  if (hosts) cqlmux_config_set_contact_points(config, hosts);
  if (port) cqlmux_config_set_port(config, atoi(port));
  cqlmux_session *session = NULL;
  int rc = cqlmux_session_new(config, &session);
  cqlmux_config_free(config);
  if (rc != CQLMUX_OK) return NULL;
  cqlmux_future *f = cqlmux_session_connect(session);
  rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK) fprintf(stderr, "connect: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  if (rc == CQLMUX_OK) return session;
  cqlmux_session_free(session);
  return NULL;
}

int main(int argc, char **argv) {
  const char *positional[2] = {NULL, NULL};
  long answers = -1;
  unsigned long listen_port = 0;
  for (int i = 1, p = 0; i < argc; i++) {
    if (strcmp(argv[i], "--serve") == 0 && i + 1 < argc)
      answers = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
      listen_port = strtoul(argv[++i], NULL, 10);
    else if (p < 2)
      positional[p++] = argv[i];
  }
  if (listen_port > 65535) return 2;

  load l = {.lock = PTHREAD_MUTEX_INITIALIZER, .drained = PTHREAD_COND_INITIALIZER};
  l.session = connect_session(positional[0], positional[1]);
  if (!l.session) return 1;
  int listener = -1;
  int ok = start_load(&l);
  if (ok) listener = listen_on_localhost((unsigned short)listen_port);
  ok = ok && listener >= 0 && serve(listener, l.session, answers);
  if (listener >= 0) close(listener);
  stop_load(&l);
  cqlmux_session_free(l.session);
  cqlmux_statement_free(l.statement);
  return ok && !atomic_load(&l.failed) ? 0 : 1;
}
