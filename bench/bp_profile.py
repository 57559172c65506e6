"""BigGAN-PyTorch's training iteration under PyTorch's profiler: the host's view of it in the
fields `biggan_bench_train --profile` prints, for issue 22's question whether a GPU step waits on
the host (operator dispatch and kernel launches) or on the device.

usage: python3 bench/bp_profile.py [--bench PATH/bench_bp.py] [--top N] CASE [bench_bp.py's options]

Runs bench_bp.py (the unmodified original with its timing driver) as it is, with every timed call
of train_fns.GAN_training_function recorded; prints bench_bp.py's own lines, then one JSON line:
bench_bp.py's record (case, device, batch_size, median_seconds of the profiled iterations, ...)
with operator calls and host milliseconds per iteration (self time summed over all operators and
threads), the longest single call (on a GPU normally the one wait for the device), and the top
operators by self time. The profiler's own cost makes the profiled iterations slower than
bench_bp.py's unprofiled timing.
"""
import argparse
import collections
import importlib.util
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BENCH = os.path.join(HERE, '..', '..', 'shared', 'reference', 'bp-bench', 'bench_bp.py')


def load_bench(path):
    if not os.path.isfile(path):
        sys.exit('bp_profile: %s not found (pass --bench PATH/bench_bp.py)' % path)
    spec = importlib.util.spec_from_file_location('bench_bp', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # puts BigGAN-PyTorch on sys.path and imports it
    return module


class Recorder:
    """Wraps the training function that bench_bp builds; records the calls after the warm-ups."""

    def __init__(self, torch, warmup):
        self.torch, self.warmup, self.calls = torch, warmup, 0
        self.self_us, self.counts = collections.Counter(), collections.Counter()
        self.longest = ('', 0.0)

    def wrap(self, make_training_function):
        def make(*args, **kwargs):
            train = make_training_function(*args, **kwargs)

            def run(x, y):
                self.calls += 1
                if self.calls <= self.warmup:
                    return train(x, y)
                profiler = self.torch.autograd.profiler
                with profiler.profile(use_kineto=self.torch.autograd.kineto_available()) as prof:
                    out = train(x, y)
                    if x.is_cuda:
                        self.torch.cuda.synchronize()  # inside, as bench_bp's timing has it
                for e in prof.function_events:
                    self.counts[e.name] += 1
                    self.self_us[e.name] += e.self_cpu_time_total
                    if e.self_cpu_time_total > self.longest[1]:
                        self.longest = (e.name, e.self_cpu_time_total)
                return out
            return run
        return make

    def report(self, top):
        iterations = self.calls - self.warmup
        if iterations < 1:
            sys.exit('bp_profile: no timed iteration was recorded (--iters must be at least 1)')
        total = sum(self.self_us.values())
        ranked = sorted(self.self_us, key=lambda name: -self.self_us[name])[:top]
        return {'benchmark': 'biggan_pytorch_profile', 'iterations': iterations,
                'profiler': 'kineto' if self.torch.autograd.kineto_available() else 'legacy',
                'profile_totals': {'host_ms_per_iteration': total / 1000 / iterations,
                                   'operator_calls_per_iteration': sum(self.counts.values()) / iterations,
                                   'longest_call_operator': self.longest[0],
                                   'longest_call_ms': self.longest[1] / 1000},
                'profile': [{'operator': name, 'self_ms_per_iteration': self.self_us[name] / 1000 / iterations,
                             'share': self.self_us[name] / total if total else 0,
                             'calls_per_iteration': self.counts[name] / iterations} for name in ranked]}


def main():
    ours = argparse.ArgumentParser(add_help=False)
    ours.add_argument('--bench', default=os.environ.get('BP_BENCH', DEFAULT_BENCH))
    ours.add_argument('--top', type=int, default=25)
    mine, rest = ours.parse_known_args()
    if mine.top < 1:
        sys.exit('bp_profile: --top must be at least 1, got %d' % mine.top)
    if any(a == '--out' or a.startswith('--out=') for a in rest):
        sys.exit('bp_profile: --out is not taken: the merged record is the last line of standard output')
    theirs = argparse.ArgumentParser(add_help=False)
    theirs.add_argument('case')
    theirs.add_argument('--warmup', type=int, default=2)  # bench_bp.py's default
    theirs.add_argument('--iters', type=int, default=5)
    known, _ = theirs.parse_known_args(rest)
    if known.iters < 1:
        sys.exit('bp_profile: --iters must be at least 1, got %d' % known.iters)
    bench = load_bench(mine.bench)
    recorder = Recorder(bench.torch, known.warmup)
    bench.train_fns.GAN_training_function = recorder.wrap(bench.train_fns.GAN_training_function)
    with tempfile.TemporaryDirectory() as tmp:
        record_file = os.path.join(tmp, 'record.jsonl')  # bench_bp appends its record here
        sys.argv = [mine.bench] + rest + ['--out', record_file]
        bench.main()
        with open(record_file) as f:
            record = json.loads(f.read().splitlines()[-1])
    print(json.dumps({**record, **recorder.report(mine.top)}))


if __name__ == '__main__':
    main()
