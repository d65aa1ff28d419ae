#!/bin/sh
# bench/compare-engines.sh COMMIT... — the same instrumented Conclave measurement
# (this checkout's bench/schemes/conclave.ts and conclave-worker.ts) on the engine of
# each given commit and on this checkout, interleaved, two runs each: leave and join
# at N = 64 and 256. Writes /tmp/conclave-compare/<label>-<N>-<op>-<run>.json (one
# worker result each); docs/performance.md ("Round two") summarises them into
# bench/results/engines-compare.json. Each commit is exported with git archive into
# /tmp/conclave-compare/<commit> (node_modules linked from this checkout); commits
# older than app/sim/peers.ts get the simulator's identity seed written inline.
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
out=/tmp/conclave-compare
mkdir -p "$out"
trees="$here"
for c in "$@"; do
  dir="$out/$c"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    git -C "$here" archive "$c" | tar -x -C "$dir"
    ln -s "$(readlink -f "$here/node_modules")" "$dir/node_modules"
  fi
  cp "$here/bench/schemes/conclave.ts" "$dir/bench/schemes/conclave.ts"
  cp "$here/bench/types.ts" "$here/bench/measure.ts" "$here/bench/conclave-worker.ts" "$dir/bench/"
  if [ ! -f "$dir/app/sim/peers.ts" ]; then
    sed -i "s#^import { identitySeed } from '../../app/sim/peers.js';#import { sha256 } from '@noble/hashes/sha2.js';\nconst identitySeed = (seed: number, name: string) => sha256(new TextEncoder().encode(\`conclave-sim-identity:\${seed}:\${name}\`));#" "$dir/bench/schemes/conclave.ts"
  fi
  trees="$trees $dir"
done
for run in 1 2; do for n in 64 256; do for op in leave join; do for tree in $trees; do
  label=$(basename "$tree")
  (cd "$tree" && node --max-semi-space-size=64 --import tsx bench/conclave-worker.ts $n $op > "$out/$label-$n-$op-$run.json")
done; done; done; done
echo "results in $out"
