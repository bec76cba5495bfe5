#!/usr/bin/env bash
# The openapi_lint ctest: writes the document GET /openapi.json serves (with openapi_dump)
# and lints it with the Redocly CLI installed here by `npm ci` (package-lock.json pins it).
# Usage: lint.sh OPENAPI_DUMP_BINARY. Exit 0: no findings (redocly.yaml's strict rules);
# 77: skipped (no node, or `npm ci` was not run here); anything else: a finding or a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dump="${1:?usage: lint.sh OPENAPI_DUMP_BINARY}"
cli="$here/node_modules/@redocly/cli/bin/cli.js"
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed"
  exit 77
fi
if [[ ! -f "$cli" ]]; then
  echo "SKIP: the linter is not installed; run: (cd $here && npm ci)"
  exit 77
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$dump" >"$work/openapi.json"
echo "openapi.json: $(wc -c <"$work/openapi.json") bytes"
# Offline: no telemetry, no update check.
cd "$work"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  node "$cli" lint --config "$here/redocly.yaml" openapi.json
