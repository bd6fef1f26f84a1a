#!/bin/bash
# Queues the shards as an array job and the merge behind it: the merge starts only when every
# array task succeeded (--dependency=afterok), judges the gates and records the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p reports
shards=$(sbatch --parsable examples/distributed/slurm-shards.sbatch)
sbatch --dependency=afterok:"$shards" --job-name=assay-merge --output=reports/slurm-merge-%j.out \
  --wrap "assay merge reports/served-release/shard-*-of-4.json --junit reports/junit.xml"
