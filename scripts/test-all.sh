#!/usr/bin/env bash
# Every check, in the order that fails fastest: type-check, lint, format, unit and integration
# tests (Jest), end-to-end tests (Playwright in Chromium). Ends with one summary line.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p test-reports
status=0
step() {
  echo "::: $*"
  "$@" || status=1
}
step yarn tsc
step yarn lint:all
step yarn prettier:check
step yarn test --ci --json --outputFile=test-reports/jest.json
step yarn test:e2e
node scripts/test-summary.js test-reports/jest.json test-reports/e2e.json || status=1
exit $status
