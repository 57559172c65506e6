#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, prepares Fashion-MNIST from the
# Debian package into our HDF5 format, trains the classifier behind the demo metric (once),
# then trains configs/fmnist_demo.yaml class-conditionally on 2 MPI ranks with checkpoints,
# and ends with the best generator's sample and interpolation sheets, its metric and a summary.
#
#   bash scripts/demo.sh            # resumes from the last checkpoint when run again
#   bash scripts/demo.sh --fresh    # deletes the demo's run folder and starts over
#
# Ctrl-C (or SIGTERM) stops training cleanly after the current iteration with a checkpoint;
# running the command again continues from it.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=0
for arg in "$@"; do
  case $arg in
    --fresh) fresh=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument '$arg' (--fresh)" >&2; exit 2 ;;
  esac
done

# Only the executable: the tests and benchmarks wait for scripts/test.sh.
BIGGAN_BUILD_TARGETS=biggan bash scripts/build.sh
[[ $(id -u) == 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One OpenMP thread per rank: 2 ranks on 2 cores ran 12% slower per iteration without it
# (libraries' own thread pools competing with the other rank).
export OMP_NUM_THREADS=1
mpi=(mpirun -np 2 --oversubscribe -x OMP_NUM_THREADS)
bin=build/biggan
data=data
run=runs/fmnist_demo

step() { echo; echo "demo: $*"; }
if [[ ! -f $data/FMNIST32.hdf5 ]]; then
  step "preparing the 60,000 Fashion-MNIST training images"
  "${mpi[@]}" $bin prepare-data --source fmnist --split train --output $data/FMNIST32.hdf5
fi
if [[ ! -f $data/FMNIST32_test.hdf5 ]]; then
  step "preparing the 10,000 test images"
  "${mpi[@]}" $bin prepare-data --source fmnist --split test --output $data/FMNIST32_test.hdf5
fi
if [[ ! -f $data/FMNIST32_classifier.h5 ]]; then
  step "training the classifier behind the metric (once, about 4 minutes)"
  "${mpi[@]}" $bin classifier train --train $data/FMNIST32.hdf5 --test $data/FMNIST32_test.hdf5 \
    --output $data/FMNIST32_classifier.h5 --epochs 4 --batch-size 64
fi
if (( fresh )) && [[ -d $run ]]; then
  step "--fresh: removing $run"
  rm -rf "$run"
fi

step "training configs/fmnist_demo.yaml on 2 ranks (resumes from $run/checkpoints when present)"
start=$(date +%s)
set +e
"${mpi[@]}" $bin train --config configs/fmnist_demo.yaml --set paths.experiment_name=fmnist_demo \
  --set "data.data_root=$data"
code=$?
set -e
if [[ $code == 3 ]]; then
  step "stopped cleanly with a checkpoint; run the same command again to continue"
  exit 3
elif [[ $code != 0 ]]; then
  echo "demo: training failed (exit $code)" >&2
  # A config.new.yaml written by this attempt: the config changed under an existing run.
  if [[ -f $run/config.new.yaml ]] && (( $(stat -c %Y "$run/config.new.yaml") >= start )); then
    echo "demo: configs/fmnist_demo.yaml has changed since $run began (see above);" \
      "'bash scripts/demo.sh --fresh' deletes that run and starts over with the config as it is now" >&2
  fi
  exit $code
fi

# Training kept the best of its evaluations (ckpt.which_best: classifier; eval.test_every and
# eval.test_at): that generator is the demo's result. Its score here is on 10,000 samples of
# another seed than the 2,000 it was chosen on, so the choice does not flatter it.
step "drawing the best generator's sheets and scoring it on 10,000 new samples"
"${mpi[@]}" $bin sample --run $run --best --set sample.sample_sheets=true --set sample.sample_interps=true
"${mpi[@]}" $bin eval --run $run --best --seed 1 --samples 10000 --summary $run/summary.json
sheet() { grep -o -m 1 "\"[^\"]*/$1\"" "$run/summary.json" | tr -d '"'; }
latest="$run/samples/$(ls "$run/samples" | grep -E '^[0-9]+$' | sort -n | tail -n 1)/"
echo
echo "demo: done in $(( $(date +%s) - start )) s of this session."
echo "  summary:        $run/summary.json (the best generator: its iteration, accuracy, Fréchet distance)"
echo "  class sheet:    $(sheet samples0.png) (one row per class)"
echo "  interpolations: $(sheet interpZ0.png), $(sheet interpY0.png), $(sheet interpZY0.png)"
echo "  last iteration: ${latest}samples0.png (training's sheets of the final generator)"
echo "  metrics log:    $run/logs/metrics.jsonl, evaluations: $run/logs/eval.jsonl"
