/* Schema metadata of a session on the mock cluster: read at connect, re-read
 * on SCHEMA_CHANGE, held snapshots unchanged by a refresh, and off by
 * configuration. (The mock serves system_schema.keyspaces from its
 * keyspaces and the other system_schema tables empty; the columns of real
 * tables are checked against Cassandra in tests/integration.) */
#include "config.h"

#include "cluster/cluster_fixture.h"
#include "cluster/schema.h"

/* A one-node mock with keyspace app (SimpleStrategy, RF 1). */
static cqlmux_mock *start_with_app(void) {
  cqlmux_mock_keyspace app;
  cqlmux_mock_keyspace_init(&app, "app");
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.keyspaces = &app;
  cfg.keyspace_count = 1;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  return m;
}

static size_t reads_of(cqlmux_mock *m, cqlmux_schema_step step) {
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  f.query = cqlmux_schema_query(step);
  return cqlmux_mock_request_count(m, &f);
}

Test(schema_mock, a_connected_session_has_a_snapshot_read_once_per_table, .timeout = 60) {
  cqlmux_mock *m = start_with_app();
  cqlmux_session *s = connect_session(cluster_config(m, 0));
  cr_assert_eq(cqlmux_session_schema_version(s), 1);
  const cqlmux_schema *schema = cqlmux_session_schema(s);
  cr_assert_not_null(schema);
  cr_assert_eq(cqlmux_schema_version(schema), 1);
  const cqlmux_schema_keyspace *app = cqlmux_schema_find_keyspace(schema, "app");
  cr_assert_not_null(app);
  cr_assert_eq(cqlmux_schema_keyspace_durable_writes(app), 1);
  const char *key, *value;
  cr_assert_eq(cqlmux_schema_keyspace_replication_at(app, 1, &key, &value), CQLMUX_OK);
  cr_assert_str_eq(key, "replication_factor");
  cr_assert_str_eq(value, "1");
  cr_assert_eq(cqlmux_schema_keyspace_table_count(app), 0);
  for (int step = 0; step < CQLMUX_SCHEMA_STEPS; step++)
    cr_assert_eq(reads_of(m, (cqlmux_schema_step)step), 1, "%s", cqlmux_schema_query(step));
  cqlmux_schema_free(schema);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A keyspace created after connect shows in a new snapshot; the snapshot
 * held from before stays as it was. */
Test(schema_mock, a_schema_change_publishes_a_new_snapshot_and_keeps_held_ones, .timeout = 60) {
  cqlmux_mock *m = start_with_app();
  cqlmux_config *c = cluster_config(m, 0);
  cr_assert_eq(cqlmux_config_set_schema_refresh_delay(c, 0), CQLMUX_OK);
  cqlmux_session *s = connect_session(c);
  const cqlmux_schema *before = cqlmux_session_schema(s);
  uint64_t v1 = cqlmux_schema_version(before);
  cqlmux_mock_keyspace added;
  cqlmux_mock_keyspace_init(&added, "added");
  added.replication_factor = 3;
  cr_assert_geq(cqlmux_mock_keyspace_set(m, &added), 1, "the event reached the session");
  WAIT_UNTIL(cqlmux_session_schema_version(s) > v1, 10);
  cr_assert_gt(cqlmux_session_schema_version(s), v1, "refreshed within 10 s");
  const cqlmux_schema *after = cqlmux_session_schema(s);
  cr_assert_geq(cqlmux_schema_version(after), v1 + 1);
  const cqlmux_schema_keyspace *ks = cqlmux_schema_find_keyspace(after, "added");
  cr_assert_not_null(ks);
  const char *key, *value;
  cr_assert_eq(cqlmux_schema_keyspace_replication_at(ks, 1, &key, &value), CQLMUX_OK);
  cr_assert_str_eq(value, "3");
  cr_assert_eq(cqlmux_schema_version(before), v1);
  cr_assert_eq(cqlmux_schema_keyspace_count(before), cqlmux_schema_keyspace_count(after) - 1);
  cr_assert_null(cqlmux_schema_find_keyspace(before, "added"));
  cqlmux_schema_free(before);
  cqlmux_schema_free(after);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A snapshot may be freed after its session (the allocator is the
 * default one, which still works). */
Test(schema_mock, a_snapshot_outlives_its_session, .timeout = 60) {
  cqlmux_mock *m = start_with_app();
  cqlmux_session *s = connect_session(cluster_config(m, 0));
  const cqlmux_schema *schema = cqlmux_session_schema(s);
  cqlmux_session_free(s);
  cr_assert_str_eq(cqlmux_schema_keyspace_name(cqlmux_schema_find_keyspace(schema, "app")), "app");
  cqlmux_schema_free(schema);
  cqlmux_mock_free(m);
}

/* Off: no snapshot, no reads beyond system_schema.keyspaces, which token
 * awareness still needs. */
Test(schema_mock, metadata_off_reads_only_the_keyspaces, .timeout = 60) {
  cqlmux_mock *m = start_with_app();
  cqlmux_config *c = cluster_config(m, 0);
  cr_assert_eq(cqlmux_config_set_schema_metadata(c, 0), CQLMUX_OK);
  cqlmux_session *s = connect_session(c);
  cr_assert_null(cqlmux_session_schema(s));
  cr_assert_eq(cqlmux_session_schema_version(s), 0);
  cr_assert_eq(reads_of(m, CQLMUX_SCHEMA_KEYSPACES), 1);
  for (int step = CQLMUX_SCHEMA_TABLES; step < CQLMUX_SCHEMA_STEPS; step++)
    cr_assert_eq(reads_of(m, (cqlmux_schema_step)step), 0, "%s", cqlmux_schema_query(step));
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(schema_mock, the_setters_check_their_arguments) {
  cr_assert_eq(cqlmux_config_set_schema_metadata(NULL, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_schema_refresh_delay(NULL, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_schema_refresh_delay(c, 600001), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_schema_refresh_delay(c, 600000), CQLMUX_OK);
  cqlmux_config_free(c);
  cr_assert_null(cqlmux_session_schema(NULL));
  cr_assert_eq(cqlmux_session_schema_version(NULL), 0);
}
