#!/usr/bin/env bash
# Check tools/cassandra-local against a real Cassandra: plain single node, --auth --tls, and a
# 3-node cluster. Each phase starts, probes and stops; it must leave no JVM behind.
# Prints how long each step took; the last line is "N passed, N failed" (exit 1 on any failure).
#
# Uses its own state dir so it never touches a cluster someone else started with the tool, but
# it needs 127.0.0.1-3 ports 9042/7000 free (the tool refuses to start otherwise).
# SC2016: the single-quoted bash -c snippets expand their $1/$2 in the child, on purpose.
# SC2001: sed is clearer than ${var//} for prefixing every line.
# shellcheck disable=SC2016,SC2001
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TOOL=$REPO/tools/cassandra-local
PROBE=$HERE/cql_probe.py
# The native port the tool is asked to use (CASSANDRA_PORT), 9042 by default.
export CQL_PORT=${CASSANDRA_PORT:-9042}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cassandra-local-check.XXXXXX")
export CQLMUX_CASSANDRA_STATE=$WORK/state

passed=0
failed=0

# Whatever happens, leave nothing running.
cleanup() {
    "$TOOL" stop >/dev/null 2>&1 || "$TOOL" stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

pass() { passed=$((passed + 1)); echo "  PASS  $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $*"; }

# check DESCRIPTION CMD... : run CMD quietly; on failure show its output.
check() {
    local desc=$1 out t
    shift
    t=$(now)
    if out=$("$@" 2>&1); then
        pass "$desc ($(elapsed "$t"))"
    else
        fail "$desc ($(elapsed "$t"))"
        sed 's/^/        | /' <<<"$out" | tail -n 40
    fi
}

# check_fails DESCRIPTION CMD... : CMD must fail.
check_fails() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then
        fail "$desc (unexpectedly succeeded)"
        sed 's/^/        | /' <<<"$out" | tail -n 20
    else
        pass "$desc"
    fi
}

# Value of KEY from the KEY=VALUE block the tool printed.
block_value() { sed -n "s/^$1=//p" <<<"$BLOCK" | tail -n1; }

port_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

BLOCK=""
# start_cluster ARGS... : run `start`, time it, keep its output block in BLOCK.
start_cluster() {
    local t rc
    t=$(now)
    BLOCK=$("$TOOL" start "$@" 2>"$WORK/start.err")
    rc=$?
    if ((rc == 0)); then
        pass "start${*:+ $*} ($(elapsed "$t"))"
        sed 's/^/        /' <<<"$BLOCK"
    else
        fail "start${*:+ $*} exited $rc ($(elapsed "$t"))"
        sed 's/^/        | /' "$WORK/start.err" | tail -n 60
    fi
    return "$rc"
}

# New JVMs that are not in the baseline taken before we started anything.
leftover_jvms() {
    local pid
    for pid in $(pgrep -f 'org.apache.cassandra.service.CassandraDaemon'); do
        grep -qx "$pid" "$WORK/baseline.pids" || echo "$pid"
    done
}

# stop_cluster : stop, then prove nothing of this cluster survives.
stop_cluster() {
    local dir t left
    dir=$(block_value CASSANDRA_DIR)
    t=$(now)
    check "stop" "$TOOL" stop
    echo "        (stop took $(elapsed "$t"))"
    left=$( [[ -n "$dir" ]] && pgrep -f -- "$dir/"; leftover_jvms)
    if [[ -z "$left" ]]; then pass "no Cassandra JVM left"; else fail "JVMs still running: $left"; fi
    if [[ -n "$dir" && -e "$dir" ]]; then fail "temp dir $dir not removed"; else pass "temp dir removed"; fi
    check_fails "status after stop reports not running" "$TOOL" status
}

phase() {
    PHASE_T0=$(now)
    echo
    echo "== $*"
}
phase_done() { echo "   phase took $(elapsed "$PHASE_T0")"; }

# ---------------------------------------------------------------------------------------------
T0=$(now)
pgrep -f 'org.apache.cassandra.service.CassandraDaemon' >"$WORK/baseline.pids"

phase "prerequisites"
check "tool is executable" test -x "$TOOL"
check "python3 available" python3 --version
check "openssl available" openssl version
check "stop with nothing running exits 0" "$TOOL" stop
check_fails "status with nothing running exits non-zero" "$TOOL" status
check_fails "unknown option is rejected" "$TOOL" start --bogus
phase_done

phase "single node, no auth, no TLS"
if start_cluster; then
    check "CONTACT_POINTS=127.0.0.1" test "$(block_value CONTACT_POINTS)" = 127.0.0.1
    check "PORT=$CQL_PORT" test "$(block_value PORT)" = "$CQL_PORT"
    check "status exits 0" "$TOOL" status
    check "status says running" grep -qx 'STATUS=running' <<<"$("$TOOL" status 2>/dev/null)"
    check "127.0.0.1:$CQL_PORT accepts TCP" port_open 127.0.0.1 "$CQL_PORT"
    check "CQL STARTUP -> READY (no auth)" python3 "$PROBE" 127.0.0.1 --port "$CQL_PORT" --expect ready
    check_fails "second start is refused" "$TOOL" start
    check "still exactly one node running after refused start" test "$(leftover_jvms | wc -l)" -eq 1
    stop_cluster
fi
phase_done

phase "single node, --auth --tls"
if start_cluster --auth --tls; then
    CA_PEM=$(block_value CA_PEM)
    WRONG_CA_PEM=$(block_value WRONG_CA_PEM)
    check "CA_PEM file exists" test -s "$CA_PEM"
    check "WRONG_CA_PEM file exists" test -s "$WRONG_CA_PEM"
    check "USERNAME/PASSWORD printed" test "$(block_value USERNAME)/$(block_value PASSWORD)" = cassandra/cassandra
    check "TLS handshake verifies against CA_PEM (and SAN IP 127.0.0.1)" \
        bash -c 'timeout 20 openssl s_client -connect 127.0.0.1:$CQL_PORT -CAfile "$1" -verify_return_error -verify_ip 127.0.0.1 </dev/null' _ "$CA_PEM"
    check_fails "TLS handshake fails against WRONG_CA_PEM" \
        bash -c 'timeout 20 openssl s_client -connect 127.0.0.1:$CQL_PORT -CAfile "$1" -verify_return_error </dev/null' _ "$WRONG_CA_PEM"
    check_fails "plaintext CQL is refused (TLS not optional)" python3 "$PROBE" 127.0.0.1 --port "$CQL_PORT" --expect ready --timeout 5
    check "TLS CQL STARTUP -> AUTHENTICATE, good password -> AUTH_SUCCESS" \
        python3 "$PROBE" 127.0.0.1 --port "$CQL_PORT" --cafile "$CA_PEM" --expect auth-ok --user cassandra --password cassandra
    check "TLS CQL wrong password -> ERROR 0x0100" \
        python3 "$PROBE" 127.0.0.1 --port "$CQL_PORT" --cafile "$CA_PEM" --expect auth-fail --user cassandra --password wrong
    check_fails "CQL probe trusting WRONG_CA_PEM fails" \
        python3 "$PROBE" 127.0.0.1 --port "$CQL_PORT" --cafile "$WRONG_CA_PEM" --expect auth-ok
    stop_cluster
fi
phase_done

phase "three nodes"
if start_cluster --nodes 3; then
    check "CONTACT_POINTS lists three nodes" test "$(block_value CONTACT_POINTS)" = 127.0.0.1,127.0.0.2,127.0.0.3
    status_out=$("$TOOL" status 2>/dev/null)
    check "status exits 0" "$TOOL" status
    check "status shows 3 nodes running" test "$(grep -c '_STATUS=running$' <<<"$status_out")" -eq 3
    for addr in 127.0.0.1 127.0.0.2 127.0.0.3; do
        check "$addr:$CQL_PORT accepts TCP" port_open "$addr" "$CQL_PORT"
        check "$addr CQL STARTUP -> READY" python3 "$PROBE" "$addr" --port "$CQL_PORT" --expect ready
    done
    node_status() { sed -n "s/^NODE$1_STATUS=//p" <<<"$("$TOOL" status 2>/dev/null)"; }
    check_fails "kill of a node that does not exist is refused" "$TOOL" kill 4
    check_fails "kill without a node is a usage error" "$TOOL" kill
    check "pause 3" "$TOOL" pause 3
    check "status shows node 3 paused" test "$(node_status 3)" = paused
    check_fails "status exits non-zero with a node paused" "$TOOL" status
    check "resume 3" "$TOOL" resume 3
    check "node 3 answers CQL after resume" python3 "$PROBE" 127.0.0.3 --port "$CQL_PORT" --expect ready
    check_fails "restart of a running node is refused" "$TOOL" restart 3
    check "kill 3" "$TOOL" kill 3
    check "status shows node 3 stopped" test "$(node_status 3)" = stopped
    check_fails "127.0.0.3:$CQL_PORT refuses TCP after kill" port_open 127.0.0.3 "$CQL_PORT"
    check "restart 3" "$TOOL" restart 3
    check "status exits 0 after restart" "$TOOL" status
    check "restarted node 3 answers CQL" python3 "$PROBE" 127.0.0.3 --port "$CQL_PORT" --expect ready
    stop_cluster
fi
phase_done

echo
echo "total $(elapsed "$T0")"
echo "$passed passed, $failed failed"
((failed == 0))
