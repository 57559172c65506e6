#!/usr/bin/env bash
# docs/architecture.md stays true: every folder of src/ has a paragraph, every paragraph names a
# folder that exists, and every #include "folder/..." in src/<folder> is in that paragraph's
# "May include" list (so no module below config reads the config), and core includes no MPI.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DOC="$ROOT/docs/architecture.md"
fail=0
problem() { echo "layering: $*" >&2; fail=1; }

# "**`name`**: ... May include: a, b, c." (paragraphs may wrap) -> "name a b c"
allowed_lists="$(awk 'BEGIN{RS=""} /^\*\*`[a-z_]+`\*\*/ {gsub(/\n/, " "); print}' "$DOC" |
  sed -E 's/^\*\*`([a-z_]+)`\*\*.*May include: ([^.]*)\..*/\1 \2/; s/,//g; s/ nothing$//')"
[ -n "$allowed_lists" ] || { echo "layering: no folder paragraphs found in $DOC" >&2; exit 1; }

documented=()
declare -A is_documented=()
while read -r folder allowed; do
  documented+=("$folder")
  is_documented[$folder]=1
  [ -d "$ROOT/src/$folder" ] || { problem "docs/architecture.md describes src/$folder, which does not exist"; continue; }
  for dep in $(grep -ho '#include "[a-z_]*/' "$ROOT/src/$folder"/*.h "$ROOT/src/$folder"/*.cpp 2>/dev/null |
               sed 's/#include "//; s/\/$//' | sort -u); do
    [ "$dep" = "$folder" ] && continue
    case " $allowed " in
      *" $dep "*) ;;
      *) problem "src/$folder includes $dep/ ($(grep -l "#include \"$dep/" "$ROOT/src/$folder"/* | sed -n "1s|$ROOT/||p")), which docs/architecture.md does not allow (May include: ${allowed:-nothing})" ;;
    esac
  done
done <<< "$allowed_lists"

for dir in "$ROOT"/src/*/; do
  folder="$(basename "$dir")"
  [[ -n ${is_documented[$folder]:-} ]] || problem "src/$folder has no paragraph in docs/architecture.md"
  [ -d "$ROOT/tests/$folder" ] || problem "src/$folder has no tests/$folder (tests/ mirrors src/)"
done

if grep -l '#include <mpi.h>\|#include "distributed/' "$ROOT"/src/core/* >/dev/null 2>&1; then
  problem "src/core depends on MPI: $(grep -l '#include <mpi.h>\|#include "distributed/' "$ROOT"/src/core/* | sed -n 1p)"
fi

[ "$fail" = 0 ] && echo "layering: ${#documented[@]} folders, every include allowed by docs/architecture.md"
exit "$fail"
