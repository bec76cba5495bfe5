#!/usr/bin/env bash
# Finds class, struct, union and enum names defined more than once in the same named
# namespace across the source tree (the One Definition Rule: two layouts under one name
# make the linker keep one set of inline members, e.g. one destructor, for both).
# Definitions in anonymous namespaces, nested in functions or classes (indented), and
# forward declarations are ignored; the code is Google-formatted (no indentation inside
# namespaces). Prints each duplicate with its places and exits 1; exit 0 when none.
# Usage: scripts/check_odr.sh [source root] (default: the repository root).
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
mapfile -t files < <(find src tests \( -name '*.h' -o -name '*.cpp' \) | sort)
awk '
  FNR == 1 { depth = 0; anon = 0 }
  /^namespace [A-Za-z_][A-Za-z0-9_:]* *\{/ {
    name = $2; stack[++depth] = name; next
  }
  /^namespace *\{/ { stack[++depth] = ""; anon++; next }
  /^} *\/\/ *namespace/ {
    if (depth > 0) { if (stack[depth] == "") anon--; depth-- }
    next
  }
  /^(struct|class|union|enum class|enum struct|enum) +[A-Za-z_][A-Za-z0-9_]*( +final)?( *[{:]| *$)/ {
    if (anon > 0 || depth == 0) next
    line = $0
    sub(/^(struct|class|union|enum class|enum struct|enum) +/, "", line)
    match(line, /^[A-Za-z_][A-Za-z0-9_]*/)
    type = substr(line, RSTART, RLENGTH)
    if (substr(line, RLENGTH + 1, 2) == "::") next
    ns = stack[1]
    for (i = 2; i <= depth; i++) ns = ns "::" stack[i]
    key = ns "::" type
    place = FILENAME ":" FNR
    # A header and the .cpp that completes it do not count twice, nor do repeats in one file.
    base = FILENAME; sub(/\.(h|cpp)$/, "", base)
    if (!(key SUBSEP base in seen)) { seen[key, base] = 1; count[key]++ }
    where[key] = where[key] " " place
  }
  END {
    bad = 0
    for (k in count) if (count[k] > 1) { print "defined more than once: " k ":" where[k]; bad = 1 }
    exit bad
  }' "${files[@]}" || exit 1
