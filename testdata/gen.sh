#!/usr/bin/env bash
# Regenerates every fixture under testdata/dumps/ by running the generator
# scripts that exist: scripts/gen-shapes.sh (anchors, healthy programs,
# format edge cases), scripts/gen-notify.sh (the notification-service
# incident), scripts/gen-smallleaks.sh (small leaks beside healthy shapes) and
# scripts/gen-servers.sh (healthy open-source servers under load; needs the Go
# module proxy; SERVERS=0 skips it). The environment is passed through, e.g.
# SLOW=0 WAITED=0 LATE_MINUTES=0 ./gen.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts=(scripts/gen-shapes.sh scripts/gen-notify.sh scripts/gen-smallleaks.sh)
[[ ${SERVERS:-1} == 0 ]] || scripts+=(scripts/gen-servers.sh)
for s in "${scripts[@]}"; do
	if [[ -f $s ]]; then
		echo "==> $s"
		bash "$s"
	else
		echo "==> $s: not present, skipped"
	fi
done
