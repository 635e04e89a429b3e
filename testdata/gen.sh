#!/usr/bin/env bash
# Regenerates every fixture under testdata/dumps/ by running the generator
# scripts that exist: scripts/gen-shapes.sh (anchors, healthy programs,
# format edge cases) and scripts/gen-notify.sh (the notification-service
# incident). The environment is passed through, e.g. SLOW=0 ./gen.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
for s in scripts/gen-shapes.sh scripts/gen-notify.sh; do
	if [[ -f $s ]]; then
		echo "==> $s"
		bash "$s"
	else
		echo "==> $s: not present, skipped"
	fi
done
