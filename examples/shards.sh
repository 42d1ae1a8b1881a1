#!/bin/sh
# A sharded audit with plain processes, for a fleet too large for one:
# discover once, probe N shards in parallel, merge into the report one run
# would give (same findings, severities and exit code).
#
#   examples/shards.sh corsaudit.yaml 4 out/ [merge flags: --format sarif --output x.sarif]
#
# The shards may as well run on N machines: copy out/fleet.json to each,
# run `corsaudit audit --inventory fleet.json --shard K/N --output
# shard-K.json` there (K from 0 to N-1), bring the shard files back, merge.
set -eu
config=$1 n=$2 out=$3
shift 3
corsaudit=${CORSAUDIT:-corsaudit}
mkdir -p "$out"
"$corsaudit" discover --config "$config" --output "$out/fleet.json"
pids=
k=0
while [ "$k" -lt "$n" ]; do
	"$corsaudit" audit --inventory "$out/fleet.json" --shard "$k/$n" --output "$out/shard-$k.json" &
	pids="$pids $!"
	k=$((k + 1))
done
for pid in $pids; do
	# 3: the shard is partial but written; merge says so (exit 3 too).
	wait "$pid" || [ $? -eq 3 ] || exit 2
done
exec "$corsaudit" merge "$@" "$out"/shard-*.json
