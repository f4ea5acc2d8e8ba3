#!/usr/bin/env bash
# IPC 2023 learning track, testing/easy of all ten domains (300 tasks): coverage, IPC quality
# score (reference costs from upper_bounds.json) and IPC agile score for
#   ahd-hff        our GBFS with h_FF                       (ahd:hff)
#   ahd-lazy-pref  our lazy GBFS with h_FF and its preferred operators, boosted (ahd:hff:lazy-pref)
#   ahd-lama       that search with the landmark count as a second heuristic (ahd:lama)
#   fd-lama-first  Fast Downward lama-first, shipped in up-fast-downward (fd:lama-first)
#   evolved        the exported heuristic generated/<domain>.py, on the domains that have one,
#                  with the search it was evolved for (its "# ahd-search:" line; EVOLVED_SEARCH
#                  = eager, lazy-pref, ... runs every domain's file with that one instead)
#
# Limits: 30 s wall clock and 4 GiB address space per run, 2 runs at a time (one per core of the
# 2-core machine); the IPC used 30 min, 8 GiB and one core. At most 300 tasks x 5 planners x
# 35 s / 2 jobs (about 7 h) if nothing were solved; Fast Downward solves most easy tasks in
# seconds, so expect far less. The evaluation resumes when run again (same folder, same limits).
#
# Usage: benchmarks/ipc2023.sh [DATA_DIR] [more ahd plan-eval options]
#   DATA_DIR   default ../shared/data/ipc2023-learning (next to the repository)
#   smoke:     benchmarks/ipc2023.sh "" --domains blocksworld,ferry --tasks p01,p02
# Environment: TIME (30s), MEMORY (4G), JOBS (2), OUT (runs/plan-eval-ipc2023-easy),
#   AHD (the command, default: ahd), EVOLVED_SEARCH (empty: each file's own search).
# A full run (no extra options) copies the report to benchmarks/results/ipc2023_learning.md
# and the per-group sums to benchmarks/results/ipc2023_learning.csv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${1:-}"
if [ $# -gt 0 ]; then shift; fi
DATA="${DATA:-$ROOT/../shared/data/ipc2023-learning}"
TIME="${TIME:-30s}"
MEMORY="${MEMORY:-4G}"
JOBS="${JOBS:-2}"
OUT="${OUT:-$ROOT/runs/plan-eval-ipc2023-easy}"
read -r -a AHD_CMD <<< "${AHD:-ahd}"

if [ ! -d "$DATA" ]; then
    echo "error: $DATA: no such folder (give the ipc2023-learning folder as the first argument)" >&2
    exit 2
fi

planners=(--planner "ahd-hff=ahd:hff" --planner "ahd-lazy-pref=ahd:hff:lazy-pref"
          --planner "ahd-lama=ahd:lama" --planner "fd-lama-first=fd:lama-first")
if compgen -G "$ROOT/generated/*.py" > /dev/null; then
    planners+=(--planner "evolved=ahd:$ROOT/generated/{domain}.py${EVOLVED_SEARCH:+:$EVOLVED_SEARCH}")
else
    echo "note: no generated/*.py, so no evolved heuristic is evaluated" >&2
fi

cmd=("${AHD_CMD[@]}" plan-eval "$DATA" --split testing/easy "${planners[@]}"
     --time "$TIME" --memory "$MEMORY" --jobs "$JOBS" --out "$OUT" "$@")
echo "+ ${cmd[*]}" >&2
"${cmd[@]}"

if [ $# -eq 0 ]; then
    dest="$ROOT/benchmarks/results/ipc2023_learning"
    {
        echo "<!-- made by: benchmarks/ipc2023.sh (TIME=$TIME MEMORY=$MEMORY JOBS=$JOBS EVOLVED_SEARCH=${EVOLVED_SEARCH:-}) -->"
        echo
        cat "$OUT/report.md"
    } > "$dest.md"
    cp "$OUT/summary.csv" "$dest.csv"
    echo "table written to $dest.md" >&2
fi
