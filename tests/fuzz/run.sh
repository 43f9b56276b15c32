#!/bin/sh
# Builds every libFuzzer harness tests/fuzz/fuzz_*.c with ASan and UBSan and
# runs each for SECONDS (default 30) on its corpus tests/fuzz/corpus/<name>/.
# Exits non-zero if any harness fails to build or finds a crash (or an
# input that runs over 60 s: a hang); the input is left in $FUZZ_OUT
# (default /tmp/cqlmux-fuzz) as crash-* (timeout-*).
#
#   tests/fuzz/run.sh [SECONDS]
#
# Each harness is linked with all of lib/proto/*.c and lib/runtime/alloc.c,
# which must therefore stay free of I/O and threads; except fuzz_session,
# the whole response path, which is linked with every source of lib/ and
# of the mock server (tests/mock), and runs threads and sockets. New inputs found while
# fuzzing go to $FUZZ_OUT/<name>/, not into the checked-in seeds; to refresh
# the seeds, rebuild and run tests/fuzz/gen_corpus.c (see its header).
set -eu

seconds=${1:-30}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-/tmp/cqlmux-fuzz}
cc=${CC_FUZZ:-clang}
mkdir -p "$out/include"

# cqlmux.h includes the version header configure generates; any values do.
sed -e 's/@PACKAGE_VERSION@/0.0.0-fuzz/' -e 's/@CQLMUX_VERSION_[A-Z]*@/0/' \
  "$top/include/cqlmux_version.h.in" > "$out/include/cqlmux_version.h"

# What configure would have found on Linux, for the I/O loop's sources.
cat > "$out/include/config.h" <<'EOF_CONFIG'
#define _GNU_SOURCE 1
#define HAVE_SYS_EPOLL_H 1
#define HAVE_SYS_EVENTFD_H 1
#define CQLMUX_DEFAULT_BACKEND_EPOLL 1
EOF_CONFIG

flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
  -I$out/include -I$top/include -I$top/lib -I$top/tests/fuzz -I$top/tests"
proto_libs="$(ls "$top"/lib/proto/*.c) $top/lib/runtime/alloc.c -llz4 -lz"
whole_libs="$(ls "$top"/lib/*/*.c) $(ls "$top"/tests/mock/mock_*.c | grep -v mock_client.c)
  -lssl -lcrypto -llz4 -lz -pthread"

status=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  echo "== $name: build"
  libs=$proto_libs
  [ "$name" = fuzz_session ] && libs=$whole_libs
  # shellcheck disable=SC2086 # word splitting of the flag and source lists is intended
  if ! $cc $flags "$src" $libs -o "$out/$name.bin"; then
    echo "== $name: BUILD FAILED"
    status=1
    continue
  fi
  mkdir -p "$out/$name" "$top/tests/fuzz/corpus/$name"
  echo "== $name: fuzzing for ${seconds}s"
  if ! (cd "$out" && "./$name.bin" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 \
          -print_final_stats=1 "$out/$name" "$top/tests/fuzz/corpus/$name" \
          > "$out/$name.log" 2>&1); then
    echo "== $name: CRASH (see $out/$name.log)"
    tail -n 40 "$out/$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$out/$name.log" | tail -n 2
  fi
done
exit $status
