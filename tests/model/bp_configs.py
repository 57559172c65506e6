"""BigGAN-PyTorch's own G and D, unmodified, on configurations the stored fixtures do not cover,
for tests/model/configs_parity_test.cpp (BigGAN-deep at 32, 64 and 128 px, SA-GAN, SN-GAN,
256 px, instance norm, myBN, cross-replica BN, 2 singular values, G without SN, ...).

usage: bp_configs.py BP_BENCH_DIR OUT_DIR [NAME ...]

BP_BENCH_DIR is ../shared/reference/bp-bench: its bench_bp.py imports the repository unmodified
(with stand-ins for the data-loading modules this machine lacks) and builds a config from flags
as train.py does. For each configuration (all of them, or the NAMEs given) this writes
OUT_DIR/NAME/info.json (the resolved config and parameter counts) and OUT_DIR/NAME/reference.h5,
every tensor in float64 (both models run in float64):
  init/G, init/D          state_dicts after three train-mode forwards of G, so that BN's running
                          statistics and SN's u and sv are not at their initial values
  inputs/z, inputs/y, inputs/x
  G_eval, D_eval          G(z, shared(y)) and D(x, y) in eval mode
  G_train, D_train        the same in train mode, then after_train/G and after_train/D: buffers
  grad/G, grad/D          gradients of mean(D(G(z), y)) (both in train mode, from init) on every
                          parameter of G and of D
and, for the configurations in ITERATIONS, OUT_DIR/NAME/iteration.h5 (see one_iteration).
"""
import json
import os
import sys

CONFIGS = {
    # scripts/launch_BigGAN_deep.sh's architecture, narrowed.
    'deep128_ch8': ['--model', 'BigGANdeep', '--dataset', 'I128_hdf5', '--G_ch', '8', '--D_ch', '8',
                    '--G_depth', '2', '--D_depth', '2', '--G_attn', '64', '--D_attn', '64', '--hier', '--G_shared',
                    '--dim_z', '128', '--shared_dim', '128', '--G_init', 'ortho', '--D_init', 'ortho',
                    '--SN_eps', '1e-6', '--G_nl', 'inplace_relu', '--D_nl', 'inplace_relu'],
    'deep64_ch16_attn32': ['--model', 'BigGANdeep', '--dataset', 'I64_hdf5', '--G_ch', '16', '--D_ch', '16',
                           '--G_depth', '2', '--D_depth', '3', '--G_attn', '32', '--D_attn', '32', '--hier',
                           '--G_shared', '--dim_z', '128', '--shared_dim', '64'],
    'deep32_ch16': ['--model', 'BigGANdeep', '--dataset', 'C10', '--G_ch', '16', '--D_ch', '16', '--G_depth', '1',
                    '--D_depth', '1', '--G_attn', '0', '--D_attn', '0', '--hier', '--G_shared', '--dim_z', '64',
                    '--shared_dim', '32', '--G_init', 'N02', '--D_init', 'xavier'],
    # scripts/launch_SAGAN_bs128x2_ema.sh and launch_SNGAN.sh, narrowed.
    'sagan128_ch8': ['--dataset', 'I128_hdf5', '--G_ch', '8', '--D_ch', '8', '--G_attn', '64', '--D_attn', '64',
                     '--G_nl', 'relu', '--D_nl', 'relu', '--G_init', 'xavier', '--D_init', 'xavier',
                     '--SN_eps', '1e-8'],
    'sngan128_ch8': ['--dataset', 'I128_hdf5', '--G_ch', '8', '--D_ch', '8', '--G_attn', '0', '--D_attn', '0',
                     '--D_thin', '--G_nl', 'relu', '--D_nl', 'relu', '--G_init', 'xavier', '--D_init', 'xavier',
                     '--SN_eps', '1e-8'],
    'biggan256_ch4': ['--dataset', 'I256_hdf5', '--G_ch', '4', '--D_ch', '4', '--G_attn', '128', '--D_attn', '64',
                      '--hier', '--G_shared', '--dim_z', '140', '--shared_dim', '32'],
    'biggan64_in': ['--dataset', 'I64_hdf5', '--G_ch', '8', '--D_ch', '8', '--G_attn', '32', '--D_attn', '0',
                    '--norm_style', 'in', '--hier', '--G_shared', '--dim_z', '120'],
    'biggan64_mybn': ['--dataset', 'I64_hdf5', '--G_ch', '8', '--D_ch', '8', '--G_attn', '16_32', '--D_attn', '16',
                      '--mybn', '--G_shared', '--hier', '--dim_z', '100', '--BN_eps', '1e-4'],
    'biggan64_cross_replica': ['--dataset', 'I64_hdf5', '--G_ch', '8', '--D_ch', '8', '--G_attn', '0',
                               '--D_attn', '0', '--cross_replica', '--G_shared', '--dim_z', '64'],
    'biggan64_nonorm': ['--dataset', 'I64_hdf5', '--G_ch', '8', '--D_ch', '8', '--G_attn', '0', '--D_attn', '0',
                        '--norm_style', 'nonorm'],
    'c100_ir': ['--dataset', 'C100', '--G_ch', '8', '--D_ch', '8', '--G_attn', '16', '--D_attn', '0',
                '--G_nl', 'ir', '--D_nl', 'ir'],
    'c10_2svs_G_plain': ['--dataset', 'C10', '--G_ch', '8', '--D_ch', '8', '--G_attn', '0', '--D_attn', '0',
                         '--num_D_SVs', '2', '--num_D_SV_itrs', '3', '--G_param', 'none', '--SN_eps', '1e-4'],
}
BATCH = 4
# Configurations that also get one whole training iteration (train_fns.GAN_training_function),
# with these training flags on top: D steps, accumulations, ortho reg in G (shared blacklisted)
# and in D (nothing blacklisted), split_D, a G batch larger than D's, Adam's betas and eps,
# learning rates. (Not myBN: its float32 statistics put its updates at float32's spread, which
# the stored fixtures' iteration test is made for.)
ITERATIONS = {
    'deep32_ch16': ['--batch_size', '4', '--num_D_steps', '2', '--num_D_accumulations', '2',
                           '--num_G_accumulations', '2', '--G_ortho', '1e-2', '--G_lr', '1e-4', '--D_lr', '4e-4',
                           '--adam_eps', '1e-6'],
    'sngan128_ch8': ['--batch_size', '4', '--num_D_steps', '3', '--G_B2', '0.9', '--D_B2', '0.9', '--G_lr', '2e-4',
                     '--D_lr', '2e-4', '--num_G_accumulations', '3', '--G_batch_size', '6'],
    'c100_ir': ['--batch_size', '4', '--num_D_steps', '1', '--split_D', '--D_ortho', '1e-2', '--G_ortho', '1e-2',
                '--G_B1', '0.5', '--D_B1', '0.5', '--G_lr', '1e-3', '--D_lr', '1e-3'],
}


def main():
    bench_dir, out_dir, *names = sys.argv[1:]
    sys.path.insert(0, bench_dir)
    import bench_bp  # noqa: E402  imports BigGAN-PyTorch unmodified, with stand-ins
    import h5py  # noqa: E402
    import torch  # noqa: E402
    import utils  # noqa: E402  (BigGAN-PyTorch)

    torch.set_num_threads(2)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        sys.exit(f'unknown configuration(s) {unknown}; known: {sorted(CONFIGS)}')

    def write_group(f, group, tensors):
        for key, value in tensors.items():
            f[f'{group}/{key}'] = value.detach().cpu().numpy()

    for name in names or CONFIGS:
        config = bench_bp.make_config(['--seed', '0'] + CONFIGS[name] + ITERATIONS.get(name, []))
        model = __import__(config['model'])
        utils.seed_rng(0)
        # In float64 both programs agree to ~1e-12, where float32 rounding, amplified by batch
        # statistics of 4 images, would hide a small mistake in a tolerance of 1e-4.
        G = model.Generator(**config).double()
        D = model.Discriminator(**config).double()
        n_classes = config['n_classes']
        G.train()
        with torch.no_grad():
            for _ in range(3):
                G(torch.randn(BATCH, G.dim_z, dtype=torch.float64),
                  G.shared(torch.randint(0, n_classes, (BATCH,))))
        init_G = {k: v.clone() for k, v in G.state_dict().items()}
        init_D = {k: v.clone() for k, v in D.state_dict().items()}
        z = torch.randn(BATCH, G.dim_z, dtype=torch.float64)
        y = torch.randint(0, n_classes, (BATCH,))
        x = torch.rand(BATCH, 3, config['resolution'], config['resolution'], dtype=torch.float64) * 2 - 1
        folder = os.path.join(out_dir, name)
        os.makedirs(folder, exist_ok=True)
        with h5py.File(os.path.join(folder, 'reference.h5'), 'w') as f:
            write_group(f, 'init/G', init_G)
            write_group(f, 'init/D', init_D)
            write_group(f, 'inputs', {'z': z, 'y': y, 'x': x})
            with torch.no_grad():
                G.eval()
                D.eval()
                f['G_eval'] = G(z, G.shared(y)).numpy()
                f['D_eval'] = D(x, y).numpy()
                G.train()
                D.train()
                f['G_train'] = G(z, G.shared(y)).numpy()
                f['D_train'] = D(x, y).numpy()
            write_group(f, 'after_train/G', G.state_dict())
            write_group(f, 'after_train/D', D.state_dict())
            G.load_state_dict(init_G)
            D.load_state_dict(init_D)
            G.zero_grad()
            D.zero_grad()
            D(G(z, G.shared(y)), y).mean().backward()
            write_group(f, 'grad/G', {k: p.grad for k, p in G.named_parameters() if p.grad is not None})
            write_group(f, 'grad/D', {k: p.grad for k, p in D.named_parameters() if p.grad is not None})
        if name in ITERATIONS:
            G.load_state_dict(init_G)
            D.load_state_dict(init_D)
            one_iteration(config, model, G, D, os.path.join(folder, 'iteration.h5'), write_group)
        plain = {k: v for k, v in config.items() if isinstance(v, (bool, int, float, str))}
        counts = {'G': sum(p.numel() for p in G.parameters()), 'D': sum(p.numel() for p in D.parameters())}
        with open(os.path.join(folder, 'info.json'), 'w') as f:
            json.dump({'config': plain, 'param_counts': counts}, f, indent=1, sort_keys=True)
        print(f'{name}: G {counts["G"]} parameters, D {counts["D"]}', flush=True)


def one_iteration(config, model, G, D, path, write_group):
    """train_fns.GAN_training_function once from G's and D's current state (their own Adam, no
    EMA), with recorded noise, written to `path`:
      x, y                   the real batch of every D micro-step, concatenated
      noise/<tag>_z, _y      what z_ and y_ held for each micro-step (D_step<s>_acc<a>, G_acc<a>)
      returned/<loss>        the function's returned G_loss, D_loss_real, D_loss_fake
      after/G, after/D       state_dicts after the iteration
      grad/G, grad/D         gradients left after it: G's step, D's last step"""
    import h5py
    import torch
    import train_fns
    import utils
    config = dict(config, ema=False)
    batch, G_batch = config['batch_size'], config['G_batch_size'] or config['batch_size']
    n_real = batch * config['num_D_steps'] * config['num_D_accumulations']
    x = torch.rand(n_real, 3, config['resolution'], config['resolution'], dtype=torch.float64) * 2 - 1
    y = torch.randint(0, config['n_classes'], (n_real,))
    z_, y_ = utils.prepare_z_y(G_batch, G.dim_z, config['n_classes'], device='cpu')
    z_ = z_.to('cpu', torch.float64)
    tags = [f'D_step{s}_acc{a}' for s in range(config['num_D_steps']) for a in range(config['num_D_accumulations'])]
    tags += [f'G_acc{a}' for a in range(config['num_G_accumulations'])]
    noise = {}
    sample_y = y_.sample_

    def sample_and_record():  # train() samples z_, then y_: record both after y_
        sample_y()
        tag = tags[len(noise) // 2]
        n = batch if tag.startswith('D') else G_batch
        noise[f'{tag}_z'] = z_[:n].detach().clone()
        noise[f'{tag}_y'] = y_[:n].detach().clone()

    y_.sample_ = sample_and_record
    GD = model.G_D(G, D)
    returned = train_fns.GAN_training_function(G, D, GD, z_, y_, None, {'itr': 1}, config)(x, y)
    with h5py.File(path, 'w') as f:
        write_group(f, '', {'x': x, 'y': y})
        write_group(f, 'noise', noise)
        for key, value in returned.items():
            f[f'returned/{key}'] = value
        write_group(f, 'after/G', G.state_dict())
        write_group(f, 'after/D', D.state_dict())
        write_group(f, 'grad/G', {k: p.grad for k, p in G.named_parameters() if p.grad is not None})
        write_group(f, 'grad/D', {k: p.grad for k, p in D.named_parameters() if p.grad is not None})


if __name__ == '__main__':
    main()
