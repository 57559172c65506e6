#!/usr/bin/env bash
# Submits one experiment with slurm/train.sbatch; the jobs/launch_*.sh scripts call it.
#
#   jobs/submit.sh CONFIG NODES GPUS_PER_NODE [biggan train options ...]
#
# Before anything is queued, the config is resolved for NODES x GPUS_PER_NODE ranks (a global
# batch that does not divide is an error here, not after hours in the queue) and the plan is
# printed. Environment:
#   PARTITION       sbatch --partition (default: the cluster's default)
#   TIME            sbatch --time (default 24:00:00)
#   CPUS_PER_TASK   sbatch --cpus-per-task (default 8)
#   GPUS_PER_TASK   sbatch --gpus-per-task (default 1; 0 on CPU-only partitions)
#   SBATCH_EXTRA    more sbatch options, e.g. "--account=abc --qos=preempt"
#   BIGGAN_BIN      the biggan executable (default build/biggan)
#   DRY_RUN=1       print the sbatch command instead of running it
# The BIGGAN_* settings of slurm/train.sbatch (BIGGAN_LAUNCHER, BIGGAN_REQUEUE, ...) pass through.
set -euo pipefail
if (($# < 3)); then
  echo "usage: jobs/submit.sh CONFIG NODES GPUS_PER_NODE [biggan train options ...]" >&2; exit 2
fi
config=$1 nodes=$2 per_node=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $config ]] || { echo "jobs/submit.sh: config file '$config' not found" >&2; exit 2; }
[[ $nodes =~ ^[1-9][0-9]*$ ]] || { echo "jobs/submit.sh: NODES must be a positive integer, got '$nodes'" >&2; exit 2; }
[[ $per_node =~ ^[1-9][0-9]*$ ]] || { echo "jobs/submit.sh: GPUS_PER_NODE must be a positive integer, got '$per_node'" >&2; exit 2; }
# train.sbatch's own BIGGAN_* settings, checked by it now rather than when the job starts.
BIGGAN_CHECK_SETTINGS=1 bash "$root/slurm/train.sbatch" >&2 || exit 2
ranks=$((nodes * per_node))
bin=${BIGGAN_BIN:-$root/build/biggan}
[[ -x $bin ]] || { echo "jobs/submit.sh: $bin is not built (bash scripts/build.sh, or set BIGGAN_BIN)" >&2; exit 2; }
export BIGGAN_BIN=$bin

# Resolve now, for the real rank count; the derived values are printed as comments.
resolved=$("$bin" train --config "$config" "$@" --world-size "$ranks" --print-config) || {
  echo "jobs/submit.sh: $config does not resolve for $ranks rank(s) ($nodes node(s) x $per_node)" >&2; exit 2; }
derived() { sed -n "/^#   $1: /{s/^#   $1: \([^ ]*\).*/\1/p;q}" <<<"$resolved"; }
echo "experiment   $(derived experiment_name)"
echo "ranks        $ranks = $nodes node(s) x $per_node"
echo "global batch $(derived global_batch_size) = batch_size x $(derived num_D_accumulations) accumulation(s) x $ranks rank(s)"
echo "run folder   $(derived run_dir)"

name=$(basename "$config" .yaml)
cmd=(sbatch --job-name="$name" --nodes="$nodes" --ntasks-per-node="$per_node"
     --gpus-per-task="${GPUS_PER_TASK:-1}" --cpus-per-task="${CPUS_PER_TASK:-8}" --time="${TIME:-24:00:00}")
[[ -n ${PARTITION:-} ]] && cmd+=(--partition="$PARTITION")
if [[ -n ${SBATCH_EXTRA:-} ]]; then read -r -a extra <<<"$SBATCH_EXTRA"; cmd+=("${extra[@]}"); fi
cmd+=("$root/slurm/train.sbatch" --config "$config" "$@")
if [[ ${DRY_RUN:-0} == 1 ]]; then
  printf '%q ' "${cmd[@]}"; echo
else
  "${cmd[@]}"
fi
