#!/usr/bin/python3
"""A third-party client against cqlmux-mock: the DataStax Python driver
(Debian's python3-cassandra), with its default settings, on protocol v4 and
v5. It proves the mock looks like a Cassandra cluster to a driver we did not
write: discovery of every node with its data center, a keyspace's
replication read from system_schema, a prepared statement answered from a
prime with its partition key, the routing token and replicas the driver
computes equal to the mock's own, paging through a primed multi-page
answer, and primed server errors raised as the driver's own exception
types.

usage: python_driver_check.py PATH-TO-cqlmux-mock

Prints one line per check and exits non-zero on the first mismatch (or
after 120 s, so a hung mock cannot hang CI)."""
import signal
import subprocess
import sys

from cassandra import ConsistencyLevel, Unavailable, WriteTimeout, WriteType
from cassandra.cluster import Cluster
from cassandra.protocol import SyntaxException
from cassandra.query import SimpleStatement

# Two data centers: nodes 0 and 1 in dc1, node 2 in dc2.
DCS = [("dc1", 2), ("dc2", 1)]

PAGED_ROWS = 25
FETCH_SIZE = 10

PRIMES = [
    "keyspace ks nts dc1=2 dc2=1",
    'prime rows query="SELECT v FROM ks.kv WHERE k = ?" columns="v text" params="k int" pk=0'
    " keyspace=ks table=kv row=\"'seven'\"",
    'prime rows query="SELECT n FROM ks.numbers" columns="n int" '
    + " ".join('row="%d"' % n for n in range(PAGED_ROWS)),
    'prime error query="INSERT INTO ks.kv*" code=write_timeout consistency=quorum received=1'
    " block_for=2 write_type=SIMPLE",
    'prime error query="SELECT * FROM ks.down" code=unavailable consistency=all alive=1'
    " block_for=3",
    'prime error query="SELECT oops" opcode=prepare code=syntax_error'
    ' message="line 1:7 no viable alternative"',
]


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


class Mock:
    """cqlmux-mock as a child process, driven through its standard input."""

    def __init__(self, path):
        args = [path, "--port", "0"]
        for name, count in DCS:
            args += ["--dc", "%s:%d" % (name, count)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.nodes = []  # (address, port) by node index
        for line in self._lines_until("ready"):
            words = line.split()
            expect(len(words) == 3 and words[0] == "node", "unexpected mock output: " + line)
            address, port = words[2].rsplit(":", 1)
            self.nodes.append((address, int(port)))

    def _lines_until(self, marker):
        lines = []
        while True:
            line = self.proc.stdout.readline()
            expect(line != "", "cqlmux-mock exited (status %s)" % self.proc.poll())
            line = line.rstrip("\n")
            if line == marker:
                return lines
            lines.append(line)

    def command(self, *lines):
        """Runs scenario lines; returns their output. Any error fails."""
        self.proc.stdin.write("".join(line + "\n" for line in lines) + "echo --end--\n")
        self.proc.stdin.flush()
        out = self._lines_until("--end--")
        errors = [line for line in out if line.startswith("error:")]
        expect(not errors, "cqlmux-mock refused a command: %s" % errors)
        return out

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        expect(self.proc.wait() == 0, "cqlmux-mock exit status %s" % self.proc.returncode)


def check_discovery(cluster, mock):
    want = set()
    index = 0
    for name, count in DCS:
        for _ in range(count):
            want.add((mock.nodes[index][0], name))
            index += 1
    seen = {(h.address, h.datacenter) for h in cluster.metadata.all_hosts()}
    expect(seen == want, "hosts %s, expected %s" % (sorted(seen), sorted(want)))
    # The default policy (DC-aware, local DC from the contact point) opens
    # pools to the local DC only; remote hosts are known but never contacted.
    local = DCS[0][0]
    down = [h.address for h in cluster.metadata.all_hosts()
            if h.datacenter == local and h.is_up is not True]
    expect(not down, "local hosts not up: %s" % down)


def connection_lines(mock):
    """The mock's connection list, by connection id."""
    lines = [l for l in mock.command("connections") if l.startswith("connection ")]
    return {int(l.split()[1]): l for l in lines}


def check_connections(mock, version, known):
    """Every connection this cluster opened (not in `known`) speaks
    `version`; v5 ones are framed."""
    conns = [l for i, l in connection_lines(mock).items() if i not in known]
    expect(conns, "the mock recorded no connection")
    for line in conns:
        words = line.split()
        expect("v%d" % version in words, "connection not on v%d: %s" % (version, line))
        expect(("framed" in words) == (version >= 5), "v5 framing mismatch: " + line)


def logged_requests(mock):
    """The mock's request log as (line without its token field, token)."""
    out = []
    for line in mock.command("log"):
        if line.startswith("request "):
            rest, _, token = line.rpartition(" token=")
            out.append((rest, token))
    return out


def check_keyspace(cluster):
    ks = cluster.metadata.keyspaces.get("ks")
    expect(ks is not None, "keyspace ks not in the driver's metadata")
    strategy = ks.replication_strategy
    expect(type(strategy).__name__ == "NetworkTopologyStrategy", "strategy %r" % strategy)
    expect(strategy.dc_replication_factors == {"dc1": 2, "dc2": 1},
           "replication %s" % strategy.dc_replication_factors)


def check_prepared(cluster, session, mock):
    prepared = session.prepare("SELECT v FROM ks.kv WHERE k = ?")
    expect(len(prepared.column_metadata) == 1, "bind markers: %s" % prepared.column_metadata)
    expect(prepared.routing_key_indexes == [0], "routing key %s" % prepared.routing_key_indexes)
    bound = prepared.bind([7])
    rows = [tuple(r) for r in session.execute(bound)]
    expect(rows == [("seven",)], "prepared rows %s" % rows)
    executes = [(l, t) for l, t in logged_requests(mock)
                if " opcode 0x0a " in l and l.endswith("query SELECT v FROM ks.kv WHERE k = ?")]
    expect(len(executes) == 1, "EXECUTE requests recorded: %d" % len(executes))
    # The driver's token for the routing key, and its replicas, are the mock's.
    token = cluster.metadata.token_map.token_class.from_key(bound.routing_key).value
    expect(executes[0][1] == str(token), "mock token %s, driver's %d" % (executes[0][1], token))
    words = mock.command("replicas ks %d" % token)[0].split()
    expect(words[:2] == ["ok:", "replicas"], "replicas output %s" % words)
    mine = {mock.nodes[int(i)][0] for i in words[2:]}
    theirs = {h.address for h in cluster.metadata.get_replicas("ks", bound.routing_key)}
    expect(mine == theirs, "mock replicas %s, driver's %s" % (sorted(mine), sorted(theirs)))


def check_paging(session):
    result = session.execute(SimpleStatement("SELECT n FROM ks.numbers", fetch_size=FETCH_SIZE))
    pages = [[r.n for r in result.current_rows]]
    while result.has_more_pages:
        result.fetch_next_page()
        pages.append([r.n for r in result.current_rows])
    sizes = [len(p) for p in pages]
    want_sizes = [FETCH_SIZE] * (PAGED_ROWS // FETCH_SIZE) + [PAGED_ROWS % FETCH_SIZE]
    expect(sizes == want_sizes, "page sizes %s, expected %s" % (sizes, want_sizes))
    values = [n for p in pages for n in p]
    expect(values == list(range(PAGED_ROWS)), "paged values %s" % values)


def check_errors(session):
    try:
        session.execute("INSERT INTO ks.kv (k, v) VALUES (1, 'x')")
        raise CheckFailed("primed write_timeout did not raise")
    except WriteTimeout as e:
        got = (e.consistency, e.received_responses, e.required_responses, e.write_type)
        want = (ConsistencyLevel.QUORUM, 1, 2, WriteType.SIMPLE)
        expect(got == want, "WriteTimeout details %s, expected %s" % (got, want))
    try:
        session.execute("SELECT * FROM ks.down")
        raise CheckFailed("primed unavailable did not raise")
    except Unavailable as e:
        got = (e.consistency, e.alive_replicas, e.required_replicas)
        want = (ConsistencyLevel.ALL, 1, 3)
        expect(got == want, "Unavailable details %s, expected %s" % (got, want))
    try:
        session.prepare("SELECT oops")
        raise CheckFailed("primed syntax error on PREPARE did not raise")
    except SyntaxException as e:
        expect("line 1:7 no viable alternative" in str(e), "syntax error message: %s" % e)


def run_version(mock, version):
    mock.command("clear-log")
    known = connection_lines(mock)
    address, port = mock.nodes[0]
    cluster = Cluster([address], port=port, protocol_version=version)
    try:
        session = cluster.connect()
        expect(cluster.protocol_version == version, "negotiated v%s" % cluster.protocol_version)
        for name, check in (("discovery", lambda: check_discovery(cluster, mock)),
                            ("keyspace", lambda: check_keyspace(cluster)),
                            ("prepared", lambda: check_prepared(cluster, session, mock)),
                            ("paging", lambda: check_paging(session)),
                            ("errors", lambda: check_errors(session)),
                            ("connections", lambda: check_connections(mock, version, known))):
            check()
            print("v%d %s: ok" % (version, name), flush=True)
    finally:
        cluster.shutdown()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    signal.alarm(120)
    mock = Mock(sys.argv[1])
    try:
        mock.command(*PRIMES)
        for version in (4, 5):
            run_version(mock, version)
    except CheckFailed as e:
        print("FAILED: %s" % e, file=sys.stderr)
        mock.proc.kill()
        return 1
    mock.close()
    print("python driver against cqlmux-mock: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
