#!/bin/sh
# Layers that hold (doc/architecture.md): api -> cluster -> net -> runtime,
# and everyone -> proto; proto calls only proto. This check fails when a
# library file calls a function defined in a layer above its own, or
# includes a header from one.
#
# Calls are read from the compiled objects with nm, not guessed from the
# source: a defined symbol (T) belongs to the layer of the file that defines
# it, an undefined one (U) is a call (or a use) from the file that needs it.
# Static inline functions in headers leave no symbol; the include check
# catches them, since a file cannot call one without including its header.
#
# The allocator hook (lib/runtime/alloc.c) sits below every layer, proto
# included: every allocation of the library goes through it (STYLE.md).
#
# Usage: layering.sh [OBJDIR [SRCDIR]]; under `make check` the build
# directory is the current one and automake exports $srcdir. Runs a self-test first that
# plants a violation and expects the check to catch it.
set -eu

objdir=${1:-.}
srcdir=${2:-${srcdir:-.}}
NM=${NM:-nm}

# rank of a layer; proto is special-cased in the checker.
ranks='base 0
proto 1
runtime 2
net 3
cluster 4
api 5'

# Reads "layer file kind symbol" lines; prints each violation, exits 1 if any.
check() {
  awk -v ranks="$ranks" '
    BEGIN {
      n = split(ranks, r, "\n")
      for (i = 1; i <= n; i++) { split(r[i], f, " "); rank[f[1]] = f[2] }
    }
    # A call from `from` to a function of `to` is allowed when `to` is the
    # base, the same layer, or proto (for everyone but proto, which may
    # call only itself and the base), or a layer below `from`.
    function allowed(from, to) {
      if (to == "base" || to == from) return 1
      if (from == "proto") return 0
      if (to == "proto") return 1
      return rank[to] < rank[from]
    }
    $3 == "T" { owner[$4] = $1; next }
    $3 == "U" { n_uses++; use_layer[n_uses] = $1; use_file[n_uses] = $2; use_sym[n_uses] = $4; next }
    $3 == "I" {
      if (!allowed($1, $4)) { printf "%s includes a header of %s\n", $2, $4; bad = 1 }
      next
    }
    END {
      for (i = 1; i <= n_uses; i++) {
        s = use_sym[i]
        if (!(s in owner)) continue # libc, OpenSSL, zlib, lz4, sanitizers
        if (!allowed(use_layer[i], owner[s])) {
          printf "%s (%s) calls %s, defined in %s\n", use_file[i], use_layer[i], s, owner[s]
          bad = 1
        }
      }
      exit bad
    }'
}

layer_of() {
  case $1 in
  lib/runtime/alloc.c | lib/runtime/alloc.h) echo base ;;
  lib/*/*) echo "$1" | cut -d/ -f2 ;;
  esac
}

# The library's objects: libtool keeps a convenience library's (PIC) objects
# in .libs/, and a plain one beside it when it also builds static code;
# either copy will do, one per source.
objects() {
  find "$objdir/lib" -name 'libcqlmux_core_la-*.o' | sort | awk -F/ '!seen[$(NF-1) == ".libs" ? $(NF-2) "/" $NF : $(NF-1) "/" $NF]++'
}

# "layer file T|U symbol" for every library object.
symbols() {
  objects | while read -r obj; do
    dir=$(dirname "$obj")
    dir=${dir%/.libs}
    rel=lib/${dir##*/lib/}
    file=$rel/$(basename "$obj" .o | sed 's/^libcqlmux_core_la-//').c
    layer=$(layer_of "$file")
    "$NM" "$obj" | awk -v l="$layer" -v f="$file" '$1 == "U" { print l, f, "U", $2 } $2 == "T" { print l, f, "T", $3 }'
  done
}

# "layer file I included-layer" for every include of another layer's header.
includes() {
  (cd "$srcdir" && grep -H '^#include "[a-z]*/' lib/*/*.c lib/*/*.h) | while IFS=: read -r file line; do
    inc=$(echo "$line" | sed 's/^#include "\([a-z]*\)\/\(.*\)".*/\1\/\2/')
    echo "$(layer_of "$file") $file I $(layer_of "lib/$inc")"
  done
}

# The checker must catch a planted violation, else its silence proves nothing.
self_test() {
  planted='api lib/api/session.c T cqlmux_session_execute
net lib/net/connection.c U cqlmux_session_execute'
  if echo "$planted" | check >/dev/null; then
    echo "layering self-test: a planted net -> api call went unnoticed" >&2
    exit 1
  fi
  if echo 'proto lib/proto/wire.c I runtime' | check >/dev/null; then
    echo "layering self-test: a planted proto -> runtime include went unnoticed" >&2
    exit 1
  fi
}

self_test
count=$(objects | wc -l)
sources=$(cd "$srcdir" && ls lib/*/*.c | wc -l)
if [ "$count" -ne "$sources" ]; then
  echo "layering: $count objects under $objdir/lib for $sources sources: build the library first" >&2
  exit 1
fi
{ symbols; includes; } | check
echo "layering: $count objects, no call or include against the layers"
