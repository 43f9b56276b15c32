/* Connects to a Cassandra node, asks for its release version, and prints it.
 *
 *   cc hello.c $(pkg-config --cflags --libs cqlmux) -o hello
 *   ./hello [contact-points] [port]
 *
 * Shows the asynchronous flow: the callback runs on a cqlmux callback
 * worker, and main only waits for it to say it is done. */
#include <cqlmux.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct done_flag {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int done;
  int status;
} done_flag;

/* Runs on a callback worker thread; the result is borrowed from the future,
 * which this callback frees when it is finished with it. */
static void on_release_version(cqlmux_future *future, void *user_data) {
  done_flag *flag = user_data;
  int rc = cqlmux_future_error(future);
  const char *text = NULL;
  size_t length = 0;
  if (rc == CQLMUX_OK)
    rc = cqlmux_result_get_text(cqlmux_future_result(future), 0, 0, &text, &length);
  if (rc == CQLMUX_OK)
    printf("release_version: %.*s\n", (int)length, text);
  else
    fprintf(stderr, "query failed: %s\n", cqlmux_future_error_message(future));
  cqlmux_future_free(future);

  pthread_mutex_lock(&flag->lock);
  flag->done = 1;
  flag->status = rc;
  pthread_cond_signal(&flag->cond);
  pthread_mutex_unlock(&flag->lock);
}

int main(int argc, char **argv) {
  cqlmux_config *config = cqlmux_config_new();
  if (!config) return 1;
  if (argc > 1) cqlmux_config_set_contact_points(config, argv[1]);
  if (argc > 2) cqlmux_config_set_port(config, atoi(argv[2]));

  cqlmux_session *session = NULL;
  int rc = cqlmux_session_new(config, &session);
  cqlmux_config_free(config);
  if (rc != CQLMUX_OK) {
    fprintf(stderr, "session: %s\n", cqlmux_strerror(rc));
    return 1;
  }

  /* Waiting here is fine: main is an application thread. */
  cqlmux_future *connect = cqlmux_session_connect(session);
  rc = cqlmux_future_wait(connect);
  if (rc != CQLMUX_OK) {
    fprintf(stderr, "connect: %s\n", cqlmux_future_error_message(connect));
    cqlmux_future_free(connect);
    cqlmux_session_free(session);
    return 1;
  }
  cqlmux_future_free(connect);

  done_flag flag = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  cqlmux_future *query =
      cqlmux_session_query(session, "SELECT release_version FROM system.local");
  cqlmux_future_set_callback(query, on_release_version, &flag);

  pthread_mutex_lock(&flag.lock);
  while (!flag.done) pthread_cond_wait(&flag.cond, &flag.lock);
  pthread_mutex_unlock(&flag.lock);

  cqlmux_session_free(session);
  return flag.status == CQLMUX_OK ? 0 : 1;
}
