/* The scenario text language, and the cqlmux-mock program end to end. */
#include "config.h"

#include "mock/test_mock.h"

#include "proto/arena.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

Test(script, config_lines) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  char err[128];
  const char *lines[] = {"# a comment", "", "dc east 3", "dc west 2", "racks 2", "tokens 8",
                         "cluster \"My Cluster\"", "release 4.1.3", "address 127.0.0.10",
                         "port 0", "addresses shared", "versions 4,5", "lz4 off",
                         "auth user \"pa ss\"", "unprimed error", "threads 2", "null",
                         "record off", "events off"};
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
    cr_assert_eq(cqlmux_mock_config_parse(&cfg, lines[i], err, sizeof err), 1, "%s: %s", lines[i], err);
  cr_assert_eq(cfg.dc_count, 2);
  cr_assert_str_eq(cfg.dc_names[1], "west");
  cr_assert_eq(cfg.nodes_per_dc[0], 3);
  cr_assert_eq(cfg.racks_per_dc, 2);
  cr_assert_eq(cfg.tokens_per_node, 8);
  cr_assert_str_eq(cfg.cluster_name, "My Cluster");
  cr_assert_str_eq(cfg.release_version, "4.1.3");
  cr_assert_eq(cfg.port, 0);
  cr_assert_not(cfg.distinct_addresses);
  cr_assert_eq(cfg.versions, CQLMUX_MOCK_V4 | CQLMUX_MOCK_V5);
  cr_assert_not(cfg.lz4);
  cr_assert_str_eq(cfg.password, "pa ss");
  cr_assert(cfg.unprimed_is_error && cfg.null_mode && !cfg.record && !cfg.auto_events);
  cr_assert_eq(cfg.threads, 2);
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "fault close", err, sizeof err), 0);
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "versions 7", err, sizeof err),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "nodes \"unterminated", err, sizeof err),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_mock_config_release(&cfg);
}

Test(script, runtime_lines) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  char msg[128];
  cr_assert_eq(cqlmux_mock_script(m,
                                  "prime rows query=\"SELECT * FROM ks.users\" "
                                  "columns=\"id int | name text | tags list<text>\" "
                                  "row=\"1 | 'a|b' | ['x']\" row=\"2 | null | []\"",
                                  msg, sizeof msg),
               CQLMUX_OK, "%s", msg);
  cr_assert_eq(cqlmux_mock_script(m,
                                  "prime error query=\"INSERT*\" code=write_timeout "
                                  "consistency=quorum received=1 block_for=2 write_type=SIMPLE",
                                  msg, sizeof msg),
               CQLMUX_OK, "%s", msg);
  cr_assert_eq(cqlmux_mock_script(m, "fault no-response node=1 opcode=query on-command label=mute",
                                  msg, sizeof msg),
               CQLMUX_OK, "%s", msg);
  cr_assert_str_eq(msg, "fault 1");
  mock_client a, b;
  test_ready(m, 0, &a, 4, NULL);
  test_ready(m, 1, &b, 5, NULL);
  cr_assert_eq(mock_client_query(&a, 1, "SELECT * FROM ks.users", 1), CQLMUX_OK);
  mock_reply r;
  test_recv(&a, &r);
  cqlmux_arena arena;
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  cqlmux_result_msg res;
  cr_assert_eq(cqlmux_result_decode(4, r.body, r.len, &arena, &res), CQLMUX_OK);
  cr_assert_eq(res.rows.rows_count, 2);
  cr_assert_eq(res.rows.meta.columns_count, 3);
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_rows_cell(&res.rows, 0, 1, &v), CQLMUX_OK);
  cr_assert_eq(v.len, 3);
  cr_assert_eq(memcmp(v.data, "a|b", 3), 0);
  cqlmux_arena_free(&arena);
  cr_assert_eq(mock_client_query(&a, 2, "INSERT INTO ks.t (k) VALUES (1)", 1), CQLMUX_OK);
  test_recv(&a, &r);
  cr_assert_eq(mock_reply_error(&r, NULL, 0), CQLMUX_CQL_WRITE_TIMEOUT);

  cr_assert_eq(cqlmux_mock_script(m, "fire mute", msg, sizeof msg), CQLMUX_OK, "%s", msg);
  cr_assert_eq(mock_client_query(&b, 3, "SELECT 1", 1), CQLMUX_OK);
  cr_assert_eq(mock_client_recv(&b, &r, 200), CQLMUX_ERR_TIMEOUT);
  cr_assert_eq(cqlmux_mock_script(m, "clear mute", msg, sizeof msg), CQLMUX_OK);

  const char *events[] = {"STATUS_CHANGE"};
  cr_assert_eq(mock_client_register(&a, 4, events, 1), CQLMUX_OK);
  test_recv(&a, &r);
  cr_assert_eq(cqlmux_mock_script(m, "event status DOWN about=1", msg, sizeof msg), CQLMUX_OK,
               "%s", msg);
  test_recv(&a, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_EVENT);
  cr_assert_eq(cqlmux_mock_script(m, "stop 1", msg, sizeof msg), CQLMUX_OK);
  cr_assert_eq(cqlmux_mock_script(m, "start 1", msg, sizeof msg), CQLMUX_OK);
  cr_assert_eq(cqlmux_mock_script(m, "add dc2 rack9", msg, sizeof msg), CQLMUX_OK);
  cr_assert_str_eq(msg, "node 2");
  cr_assert_eq(cqlmux_mock_node_count(m), 3);
  cr_assert_eq(cqlmux_mock_script(m, "frobnicate", msg, sizeof msg), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_mock_script(m, "fault delay node=x", msg, sizeof msg),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_mock_script(m, "prime rows query=q columns=\"a int\" row=\"1 | 2\"", msg,
                                  sizeof msg),
               CQLMUX_ERR_INVALID_ARGUMENT);
  mock_client_close(&a);
  mock_client_close(&b);
  cqlmux_mock_free(m);
}

/* Starts the program with pipes on its stdin and stdout. */
static pid_t spawn(const char *const *argv, FILE **in, FILE **out) {
  int to[2], from[2];
  cr_assert_eq(pipe(to), 0);
  cr_assert_eq(pipe(from), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(to[0], 0);
    dup2(from[1], 1);
    close(to[1]);
    close(from[0]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(to[0]);
  close(from[1]);
  *in = fdopen(to[1], "w");
  *out = fdopen(from[0], "r");
  return pid;
}

Test(script, program_end_to_end) {
  const char *const argv[] = {"tools/cqlmux-mock", "--nodes", "2", "--shared-address",
                              "--port", "0", "--exec",
                              "prime void query=\"SELECT from_cli\"", "--exec",
                              "prime void query=\"SELECT k FROM ks.t WHERE k = ?\" "
                              "params=\"k text\" pk=0",
                              NULL};
  cr_assert_eq(access(argv[0], X_OK), 0, "run from the build directory");
  FILE *in, *out;
  pid_t pid = spawn(argv, &in, &out);
  char line[256];
  unsigned ports[2] = {0, 0};
  while (fgets(line, sizeof line, out) && strncmp(line, "ready", 5)) {
    int node;
    unsigned port;
    if (sscanf(line, "node %d 127.0.0.1:%u", &node, &port) == 2 && node >= 0 && node < 2)
      ports[node] = port;
  }
  cr_assert_neq(ports[1], 0);
  mock_client c;
  cr_assert_eq(mock_client_connect(&c, "127.0.0.1", (uint16_t)ports[1], 5), 0);
  cr_assert_eq(mock_client_handshake(&c, "lz4", NULL, NULL, NULL), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 1, "SELECT from_cli", 1), CQLMUX_OK);
  test_recv_result(&c, 1, CQLMUX_RESULT_VOID);
  /* An EXECUTE of a statement with a partition key logs its token last:
   * "123" is a published Murmur3 vector. */
  cr_assert_eq(mock_client_prepare(&c, 3, "SELECT k FROM ks.t WHERE k = ?"), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cqlmux_arena arena;
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  cqlmux_result_msg res;
  cr_assert_eq(cqlmux_result_decode(c.version, r.body, r.len, &arena, &res), CQLMUX_OK);
  uint8_t id[16];
  cr_assert_eq(res.prepared.id.len, sizeof id);
  memcpy(id, res.prepared.id.data, sizeof id);
  cqlmux_arena_free(&arena);
  cqlmux_bytes key = {(const uint8_t *)"123", 3};
  cqlmux_query_params qp;
  memset(&qp, 0, sizeof qp);
  qp.consistency = CQLMUX_CONSISTENCY_ONE;
  qp.values = &key;
  qp.value_count = 1;
  cqlmux_slice ids = {id, sizeof id};
  cr_assert_eq(mock_client_execute_params(&c, 2, ids, ids, &qp), CQLMUX_OK);
  test_recv_result(&c, 2, CQLMUX_RESULT_VOID);
  fputs("log\nconnections\necho end of list\nquit\n", in);
  fflush(in);
  bool logged = false, routed_logged = false, listed = false, echoed = false;
  while (fgets(line, sizeof line, out)) {
    if (strstr(line, "query SELECT from_cli token=-\n")) logged = true;
    if (strstr(line, " opcode 0x0a ") &&
        strstr(line, "query SELECT k FROM ks.t WHERE k = ? token=-7468325962851647638\n"))
      routed_logged = true;
    if (!strncmp(line, "connection 1 node 1", 19)) listed = true;
    if (!strcmp(line, "end of list\n")) echoed = listed;
  }
  cr_assert(logged && routed_logged && listed && echoed);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  mock_client_close(&c);
  fclose(in);
  fclose(out);
}
