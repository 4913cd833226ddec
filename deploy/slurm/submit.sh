#!/bin/bash
# Run from the folder that holds scenarios/ and deploy/: the array, then the merge once
# all its tasks have succeeded. Options given here go to the array: --array=0-7, --partition=…
set -euo pipefail
jobid=$(sbatch --parsable "$@" deploy/slurm/sweep.sbatch)
mergeid=$(sbatch --parsable --dependency=afterok:$jobid --wrap 'meshsim merge shards/* --out results')
echo "sweep array $jobid, merge $mergeid"
