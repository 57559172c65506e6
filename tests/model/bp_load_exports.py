"""Python side of tests/model/configs_parity_test.cpp (ExportsLoadIntoBigGANPyTorchStrictly).

usage: bp_load_exports.py BP_BENCH_DIR REFERENCE_DIR

For each configuration folder of REFERENCE_DIR (made by bp_configs.py) that holds our export,
ours_G.pth and ours_D.pth, builds BigGAN-PyTorch's own Generator and Discriminator from the
folder's info.json and loads them with load_state_dict(strict=True): every key, shape and dtype
must be what the original expects, and every loaded tensor must equal BigGAN-PyTorch's own
state before the export (init/G, init/D of reference.h5) bit for bit.
"""
import json
import os
import sys


def main():
    bench_dir, reference_dir = sys.argv[1:3]
    sys.path.insert(0, bench_dir)
    import bench_bp  # noqa: F401,E402  imports BigGAN-PyTorch unmodified, with stand-ins
    import h5py  # noqa: E402
    import numpy  # noqa: E402
    import torch  # noqa: E402
    import utils  # noqa: E402  (BigGAN-PyTorch)

    checked = 0
    for name in sorted(os.listdir(reference_dir)):
        folder = os.path.join(reference_dir, name)
        if not os.path.exists(os.path.join(folder, 'ours_G.pth')):
            continue
        with open(os.path.join(folder, 'info.json')) as f:
            config = json.load(f)['config']
        config['G_activation'] = utils.activation_dict[config['G_nl']]
        config['D_activation'] = utils.activation_dict[config['D_nl']]
        config['skip_init'] = True
        model = __import__(config['model'])
        nets = {'G': model.Generator(**config).double(), 'D': model.Discriminator(**config).double()}
        with h5py.File(os.path.join(folder, 'reference.h5'), 'r') as reference:
            for net_name, net in nets.items():
                state = torch.load(os.path.join(folder, f'ours_{net_name}.pth'))
                if list(state) != list(net.state_dict()):
                    sys.exit(f'{name} {net_name}: keys not in state_dict() order')
                net.load_state_dict(state, strict=True)
                for key, value in net.state_dict().items():
                    expected = torch.as_tensor(numpy.asarray(reference[f'init/{net_name}/{key}'][()]))
                    if value.dtype != expected.dtype or not torch.equal(value, expected):
                        sys.exit(f'{name} {net_name}: {key} differs from BigGAN-PyTorch\'s own after the round trip')
        checked += 1
    print(f'{checked} configurations: our G and D exports load strictly into BigGAN-PyTorch')
    if checked == 0:
        sys.exit('no exports found')


if __name__ == '__main__':
    main()
