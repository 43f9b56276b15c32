#!/usr/bin/env bash
# cqlmux-query against a real Cassandra 5.0 (tools/cassandra-local), output
# compared exactly with the expected files in tests/integration/query/:
#   query_real.sh plain   every CQL type as JSON (on protocol v5, v4 and with
#                         LZ4), CSV and table, statements from stdin, paging,
#                         --max-rows, exit statuses
#   query_real.sh auth    a server started with --auth --tls: the password
#                         from CQLMUX_PASSWORD, a wrong one, none at all
# Environment: CQLMUX_QUERY (the binary), CQLMUX_TEST_HOST, CQLMUX_TEST_PORT;
# for auth also CQLMUX_TEST_CA_PEM, CQLMUX_TEST_USERNAME, CQLMUX_TEST_PASSWORD.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
expected=$here/query
query=${CQLMUX_QUERY:?set CQLMUX_QUERY to the cqlmux-query binary}
host=${CQLMUX_TEST_HOST:-127.0.0.1}
port=${CQLMUX_TEST_PORT:-9042}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
tests=0

pass() { tests=$((tests + 1)); printf 'ok %d - %s\n' "$tests" "$1"; }
fail() {
  tests=$((tests + 1)) failures=$((failures + 1))
  printf 'not ok %d - %s\n' "$tests" "$1"
}

# Schema changes can take many seconds on a loaded CI machine: a timeout
# well above the library's default 12 s keeps that from failing the test.
q() { "$query" -H "$host" -P "$port" --timeout 120 "$@"; }

# same NAME EXPECTED-FILE CMD...: the command succeeds and prints exactly
# the expected file.
same() {
  local name=$1 want=$2
  shift 2
  if "$@" >"$work/out" 2>"$work/err" && cmp -s "$want" "$work/out"; then
    pass "$name"
  else
    fail "$name"
    diff -u "$want" "$work/out" | head -40
    cat "$work/err"
  fi
}

# status NAME WANT-STATUS STDERR-PATTERN CMD...: the command exits with
# WANT-STATUS and says something matching the pattern on stderr.
status() {
  local name=$1 want=$2 pattern=$3 rc
  shift 3
  "$@" >"$work/out" 2>"$work/err"
  rc=$?
  if [ "$rc" -eq "$want" ] && grep -Eq -- "$pattern" "$work/err"; then
    pass "$name"
  else
    fail "$name (exit $rc, want $want; stderr follows)"
    cat "$work/err"
  fi
}

all_types_select="SELECT k, a, bi, bl, bo, d, dc, db, du, f, i, n, si, t, tm, ts, tu, ti, u, vc, vi,
  l, s, m, tp, ud, v, nest FROM all_types; SELECT k, c FROM counts"

types_round_trip() {
  if q -f "$expected/all-types.cql" >"$work/setup" 2>&1; then
    pass "schema and rows of every type"
  else
    fail "schema and rows of every type"
    cat "$work/setup"
    return
  fi
  same "json: every CQL type" "$expected/all-types.json" \
    q -k cqlmux_query --format json "$all_types_select"
  same "json: every CQL type, protocol v4" "$expected/all-types.json" \
    q -k cqlmux_query --format json --protocol 4 "$all_types_select"
  same "json: every CQL type, LZ4" "$expected/all-types.json" \
    q -k cqlmux_query --format json --lz4 "$all_types_select"
  same "csv" "$expected/some-types.csv" q -k cqlmux_query -o csv \
    "SELECT k, t, bl, l, m, ud, n, bi, vc FROM all_types WHERE k IN (1, 2, 3, 7)"
  same "table" "$expected/some-types.table" q -k cqlmux_query -o table \
    "SELECT k, a, n, l, db, tp FROM all_types WHERE k IN (1, 2, 3)"
}

# Statements from standard input, with ';' in strings, identifiers and
# comments that must not split them.
statements_from_stdin() {
  cat >"$work/script.cql" <<'CQL'
-- a comment; with a semicolon
CREATE TABLE IF NOT EXISTS cqlmux_query.split_check (k int PRIMARY KEY, "v;1" text);
INSERT INTO cqlmux_query.split_check (k, "v;1") VALUES (1, 'a;b''c'); /* ; */
INSERT INTO cqlmux_query.split_check (k, "v;1") VALUES (2, $$x;y$$) // trailing; comment
;SELECT * FROM cqlmux_query.split_check WHERE k IN (1, 2)
CQL
  printf '%s\n' '{"k":1,"v;1":"a;b'"'"'c"}' '{"k":2,"v;1":"x;y"}' >"$work/want"
  same "statements from stdin split outside strings and comments" "$work/want" \
    q -o json <"$work/script.cql"
}

paging() {
  local i
  {
    echo "CREATE TABLE IF NOT EXISTS cqlmux_query.paged (p int, c int, PRIMARY KEY (p, c));"
    for i in $(seq 1 25); do echo "INSERT INTO cqlmux_query.paged (p, c) VALUES (0, $i);"; done
  } >"$work/paged.cql"
  q -f "$work/paged.cql" || fail "paging: rows inserted"
  { printf 'c\r\n'; seq 1 25 | sed 's/$/\r/'; } >"$work/want"
  same "all 25 rows in pages of 7" "$work/want" \
    q -o csv --page-size 7 "SELECT c FROM cqlmux_query.paged WHERE p = 0"
  { printf 'c\r\n'; seq 1 10 | sed 's/$/\r/'; } >"$work/want"
  same "--max-rows 10 across pages of 7" "$work/want" \
    q -o csv --page-size 7 --max-rows 10 "SELECT c FROM cqlmux_query.paged WHERE p = 0"
}

exit_statuses() {
  status "syntax error: exit 1, code 0x2000 on stderr" 1 '0x2000' q "SELEC 1"
  status "unknown table: exit 1, code 0x2200 on stderr" 1 '0x2200' \
    q "SELECT * FROM cqlmux_query.no_such_table"
  status "statements stop at the first failure" 1 '0x2000' \
    q -o json "SELECT k FROM cqlmux_query.all_types WHERE k = 1; SELEC; SELECT 1"
  [ "$(cat "$work/out")" = '{"k":1}' ] && pass "output before the failure kept" ||
    fail "output before the failure kept"
  status "unknown option: exit 2" 2 'unrecognized option' q --no-such-option
  status "bad format: exit 2" 2 'table, csv or json' q --format xml "SELECT 1"
  status "bad page size: exit 2" 2 'page-size' q --page-size 0 "SELECT 1"
  status "--cert without --key: exit 2" 2 'go together' q --cert x.pem "SELECT 1"
  status "nothing listening: exit 1" 1 'connect' \
    "$query" -H 127.0.0.1 -P 1 -t 5 "SELECT 1"
}

auth() {
  local ca=${CQLMUX_TEST_CA_PEM:?} user=${CQLMUX_TEST_USERNAME:?} password=${CQLMUX_TEST_PASSWORD:?}
  printf '%s\n' '{"role":"'"$user"'"}' >"$work/want"
  same "password from CQLMUX_PASSWORD, over TLS" "$work/want" \
    env CQLMUX_PASSWORD="$password" "$query" -H "$host" -P "$port" --ca "$ca" -u "$user" \
    -o json "SELECT role FROM system_auth.roles WHERE role = '$user'"
  status "wrong password: exit 1, never echoed" 1 'auth|credentials|[Pp]assword' \
    env CQLMUX_PASSWORD=not-the-password "$query" -H "$host" -P "$port" --ca "$ca" \
    -u "$user" "SELECT 1"
  if grep -q 'not-the-password' "$work/err"; then fail "the password stays out of messages"; else
    pass "the password stays out of messages"; fi
  # A terminal (a pseudo-terminal here): the prompt, with echo off.
  if CQLMUX_QUERY_ARGS="-H $host -P $port --ca $ca -u $user" python3 - "$query" "$password" \
    >"$work/out" 2>&1 <<'PY'; then
import os, pty, signal, sys
signal.alarm(60)  # a prompt that never ends fails the test instead of hanging it
query, password = sys.argv[1], sys.argv[2].encode()
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("CQLMUX_PASSWORD", None)
    args = os.environ["CQLMUX_QUERY_ARGS"].split()
    os.execv(query, [query] + args + ["-o", "json", "SELECT count(*) FROM system.local"])
seen = b""
while b"Password: " not in seen:
    chunk = os.read(fd, 256)
    if not chunk:
        sys.exit("no prompt: %r" % seen)
    seen += chunk
os.write(fd, password + b"\n")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:  # EIO: the child closed the terminal
        break
    if not chunk:
        break
    seen += chunk
status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
print(repr(seen))
sys.exit(0 if status == 0 and password not in seen and b'{"count":"1"}' in seen else 1)
PY
    pass "password prompt on a terminal, not echoed"
  else
    fail "password prompt on a terminal, not echoed"
    cat "$work/out"
  fi
  # setsid: no controlling terminal, so no prompt is possible
  status "no password and no terminal: exit 2" 2 'CQLMUX_PASSWORD' \
    env -u CQLMUX_PASSWORD setsid "$query" -H "$host" -P "$port" --ca "$ca" -u "$user" \
    "SELECT 1" </dev/null
}

# DESCRIBE from the schema snapshot of a fresh session (client-side).
describe() {
  if q -k cqlmux_query "DROP TABLE IF EXISTS described; CREATE TABLE described (k1 int,
      k2 text, c1 bigint, c2 timeuuid, s int STATIC, v frozen<map<text, int>>, \"Mixed\" text,
      PRIMARY KEY ((k1, k2), c1, c2)) WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC)" \
      >"$work/setup" 2>&1; then
    pass "describe: table created"
  else
    fail "describe: table created"
    cat "$work/setup"
    return
  fi
  same "describe table" "$expected/describe-table.txt" \
    q "DESCRIBE TABLE cqlmux_query.described"
  same "desc table in the -k keyspace" "$expected/describe-table.txt" \
    q -k cqlmux_query "desc table DESCRIBED"
  if q "DESCRIBE KEYSPACES" >"$work/out" 2>"$work/err" && grep -qx cqlmux_query "$work/out" &&
    grep -qx system_schema "$work/out"; then
    pass "describe keyspaces"
  else
    fail "describe keyspaces"
    cat "$work/out" "$work/err"
  fi
  if q "DESCRIBE KEYSPACE cqlmux_query" >"$work/out" 2>"$work/err" &&
    grep -q "^CREATE KEYSPACE cqlmux_query WITH replication = {'class': " "$work/out" &&
    grep -qx "CREATE TABLE cqlmux_query.described (" "$work/out"; then
    pass "describe keyspace"
  else
    fail "describe keyspace"
    cat "$work/out" "$work/err"
  fi
  status "describe an unknown table" 1 "table 'nope' not found" \
    q "DESCRIBE TABLE cqlmux_query.nope"
}

case ${1:-plain} in
plain)
  types_round_trip
  describe
  statements_from_stdin
  paging
  exit_statuses
  ;;
auth) auth ;;
*) echo "usage: $0 plain|auth" >&2; exit 2 ;;
esac
echo "1..$tests"
if [ "$failures" -eq 0 ]; then echo "query_real: all $tests passed"; else
  echo "query_real: $failures of $tests FAILED"; fi
[ "$failures" -eq 0 ]
