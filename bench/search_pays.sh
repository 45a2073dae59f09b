#!/usr/bin/env bash
# Does the search pay? For each real dataset and seed, `launch --budget B --search always` against
# `--search never` (the baseline alone for the whole budget), all launches at once on this machine, then
# both final models scored on the same test images with the independent scorer (bench/score.py):
# "difference" is searched minus alone with its paired bootstrap interval.
#
#   bash bench/search_pays.sh BUDGET OUT_DIR "DATASETS" "SEEDS"
#   bash bench/search_pays.sh 6m /tmp/pays "mri9 nuclei" "0 1"      # datasets from bench/real_data.py
#
# Every launch gets its own studies folder (OUT/<dataset>_s<seed>_<always|never>); a copy of the dataset's
# space with train.seed and study.sampler.seed set to the seed and two loader workers per launch.
set -u
budget=$1 out=$2 datasets=$3 seeds=$4
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
pids=()
for ds in $datasets; do
  for seed in $seeds; do
    space="$out/${ds}_s${seed}.yaml"
    python3 - "$root/bench/data/real/$ds" "$seed" "$space" <<'EOF'
import sys, yaml
src, seed, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
doc = yaml.safe_load(open(f"{src}/space.yaml"))
doc["data"]["root"] = src
doc["train"].update(seed=seed, num_workers=2)
doc["study"]["sampler"]["seed"] = seed
yaml.safe_dump(doc, open(dst, "w"), sort_keys=False)
EOF
    for mode in always never; do
      run="$out/${ds}_s${seed}_${mode}"
      python3 -m segsearch launch "$space" --budget "$budget" --search "$mode" --studies-dir "$run" \
        --no-wandb >"$run.log" 2>&1 &
      pids+=($!)
    done
  done
done
wait "${pids[@]}"
for ds in $datasets; do
  for seed in $seeds; do
    a="$out/${ds}_s${seed}_always/real_$ds/final" b="$out/${ds}_s${seed}_never/real_$ds/final"
    python3 "$root/bench/score.py" --space "$out/${ds}_s${seed}.yaml" --model "$a" --against "$b" \
      --out "$out/score_${ds}_s${seed}.json" >/dev/null 2>"$out/score_${ds}_s${seed}.err" &
  done
done
wait
python3 - "$out" <<'EOF'
import json, pathlib, sys
for p in sorted(pathlib.Path(sys.argv[1]).glob("score_*.json")):
    s = json.loads(p.read_text())
    d = s.get("difference", {})
    print(p.stem, json.dumps({k: s.get(k) for k in ("miou", "collapsed")}),
          "against", json.dumps({k: (s.get("against") or {}).get(k) for k in ("miou", "collapsed")}),
          "difference", json.dumps(d))
EOF
