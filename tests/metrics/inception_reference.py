"""Reference activations for tests/metrics/inception_test.cpp, made with Debian's
python3-torchvision: random-weight Inception v3 in both flavours (torchvision's, as
BigGAN-PyTorch's WrapInception runs it, and the TF-2015 port as pytorch-fid defines it), the
state_dicts as .pth and inputs/outputs as HDF5.  Usage: inception_reference.py OUT_DIR"""
import sys

import h5py
import torch
import torch.nn.functional as F
from torchvision.models.inception import Inception3, InceptionA, InceptionC, InceptionE

out = sys.argv[1]


class FIDInceptionA(InceptionA):
    def forward(self, x):
        pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))), pool], 1)


class FIDInceptionC(InceptionC):
    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d7 = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d7 = layer(d7)
        pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([self.branch1x1(x), b7, d7, pool], 1)


class FIDInceptionE(InceptionE):
    def __init__(self, in_channels, use_max):
        super().__init__(in_channels)
        self.use_max = use_max

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d3 = torch.cat([self.branch3x3dbl_3a(d3), self.branch3x3dbl_3b(d3)], 1)
        if self.use_max:
            pool = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([self.branch1x1(x), b3, d3, self.branch_pool(pool)], 1)


def trunk(net, x):
    for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"]:
        x = getattr(net, name)(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(x))
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    for name in ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
                 "Mixed_7a", "Mixed_7b", "Mixed_7c"]:
        x = getattr(net, name)(x)
    pool = torch.mean(x.view(x.size(0), x.size(1), -1), 2)
    return pool, net.fc(F.dropout(pool, training=False))


def wrap_torchvision(net, x):  # BigGAN-PyTorch inception_utils.WrapInception
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, -1, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, -1, 1, 1)
    x = ((x + 1.) / 2.0 - mean) / std
    if x.shape[2] != 299 or x.shape[3] != 299:
        x = F.interpolate(x, size=(299, 299), mode='bilinear', align_corners=True)
    return trunk(net, x)


def wrap_fid(net, x):  # pytorch-fid InceptionV3 (resize_input, normalize_input) from [-1, 1]
    x = (x + 1.) / 2.0
    x = F.interpolate(x, size=(299, 299), mode='bilinear', align_corners=False)
    return trunk(net, 2 * x - 1)


def calibrate(net, x, wrap):
    # Random conv weights give exploding or vanishing activations with unit running statistics;
    # one train-mode pass with momentum 1 sets each BN's statistics to those of the batch.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 1.0
    net.train()
    with torch.no_grad():
        wrap(net, x)
    net.eval()


torch.manual_seed(0)
x = torch.rand(3, 3, 64, 64) * 2 - 1
with h5py.File(f"{out}/reference.h5", "w") as f:
    f["x"] = x.numpy()
    for flavour in ["torchvision", "fid"]:
        if flavour == "torchvision":
            net = Inception3(num_classes=1000, aux_logits=True, transform_input=False, init_weights=True)
            wrap = wrap_torchvision
        else:
            net = Inception3(num_classes=1008, aux_logits=False, transform_input=False, init_weights=True)
            net.Mixed_5b = FIDInceptionA(192, pool_features=32)
            net.Mixed_5c = FIDInceptionA(256, pool_features=64)
            net.Mixed_5d = FIDInceptionA(288, pool_features=64)
            net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
            net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
            net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
            net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
            net.Mixed_7b = FIDInceptionE(1280, use_max=False)
            net.Mixed_7c = FIDInceptionE(2048, use_max=True)
            for m in net.modules():  # the replaced blocks need torchvision's initialisation too
                if isinstance(m, torch.nn.Conv2d):
                    torch.nn.init.trunc_normal_(m.weight, mean=0.0, std=0.1, a=-2, b=2)
            wrap = wrap_fid
        calibrate(net, x, wrap)
        with torch.no_grad():
            pool, logits = wrap(net, x)
        torch.save(net.state_dict(), f"{out}/{flavour}.pth")
        f[f"{flavour}/pool"] = pool.numpy()
        f[f"{flavour}/logits"] = logits.numpy()
        f[f"{flavour}/parameters"] = sum(p.numel() for p in net.parameters())
print("ok")
