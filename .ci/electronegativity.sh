#!/usr/bin/env bash
# Electron's security checklist, statically: @doyensec/electronegativity over src/, failing on any
# HIGH finding. Installed apart from the app's dependencies (it pins eslint 7 and TypeScript 4) into
# .tools/, and run with .ci/offline-got.cjs so that an offline machine does not crash it. The
# AvailableSecurityFixes check is skipped because it needs Electron's release list from the network;
# `npm outdated electron` answers that question where there is a network.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=.tools/electronegativity/node_modules/@doyensec/electronegativity/dist/index.js
if [ ! -f "$tool" ]; then
  npm install --prefix .tools/electronegativity --no-save --no-package-lock --no-audit --no-fund \
    @doyensec/electronegativity@1.10.3 >/dev/null
fi
electron=$(node -p 'require("./node_modules/electron/package.json").version')
report=test/output/electronegativity.txt
mkdir -p test/output
node -r ./.ci/offline-got.cjs "$tool" -i src -r -e "$electron" -x AvailableSecurityFixesGlobalCheck >"$report"
# Its table gives each finding as "SEVERITY | CONFIDENCE" (its CSV output loses rows).
grep -oE '(INFORMATIONAL|LOW|MEDIUM|HIGH) \| (TENTATIVE|FIRM|CERTAIN)' "$report" | sort | uniq -c
high=$(grep -cE 'HIGH \| (TENTATIVE|FIRM|CERTAIN)' "$report" || true)
echo "$high HIGH findings (table: $report)"
[ "$high" -eq 0 ]
