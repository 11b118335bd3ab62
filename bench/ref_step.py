#!/usr/bin/env python3
"""(Adapted from ../shared/reference/ref_step.py for bench/train.ts: also prints peak memory.)
Reference anchor: one pix2pixHD training iteration with the official networks
(NVIDIA/pix2pixHD models/networks.py, located via $REF_PIX2PIXHD) on CPU.

It mirrors the official pix2pixHD_model.forward + train.py step: G = GAN + D-feature
matching (+ VGG), D = real/fake LSGAN, Adam(lr 2e-4, beta1 .5), instance-edge input.
VGG19 uses random weights (no pretrained weights reach this machine); cost is the same.

usage: ref_step.py --net local|global --label_nc 35 --w 512 --h 256 --ngf 32 --iters 3 [--no_vgg] [--threads N]
prints: a JSON line {"sec_per_iter": median, ...}
"""
import argparse, json, os, sys, time, statistics
import torch, torch.nn as nn
ref = os.environ.get("REF_PIX2PIXHD")
if not ref or not os.path.isdir(ref):
    print(json.dumps({"error": "set REF_PIX2PIXHD to a checkout of NVIDIA/pix2pixHD"})); sys.exit(2)
sys.path.insert(0, ref)
import torchvision.models
_orig_vgg = torchvision.models.vgg19
torchvision.models.vgg19 = lambda pretrained=False, **k: _orig_vgg(weights=None)  # no downloads here
_module_cuda = nn.Module.cuda
nn.Module.cuda = lambda self, *a, **k: self  # official VGGLoss hard-codes .cuda(); CPU here (restored for --device cuda)
from models import networks

p = argparse.ArgumentParser()
p.add_argument("--net", default="local"); p.add_argument("--label_nc", type=int, default=35)
p.add_argument("--w", type=int, default=512); p.add_argument("--h", type=int, default=256)
p.add_argument("--ngf", type=int, default=32); p.add_argument("--ndf", type=int, default=64)
p.add_argument("--num_D", type=int, default=2); p.add_argument("--n_layers_D", type=int, default=3)
p.add_argument("--n_downsample_global", type=int, default=4); p.add_argument("--n_blocks_global", type=int, default=9)
p.add_argument("--n_blocks_local", type=int, default=3)
p.add_argument("--iters", type=int, default=3); p.add_argument("--no_vgg", action="store_true")
p.add_argument("--threads", type=int, default=0); p.add_argument("--seed", type=int, default=0)
p.add_argument("--device", default="cpu")
a = p.parse_args()
if a.device != 'cpu':
    nn.Module.cuda = _module_cuda
if a.threads: torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    G = networks.define_G(a.label_nc + 1, 3, a.ngf, a.net, a.n_downsample_global, a.n_blocks_global, 1, a.n_blocks_local, "instance", gpu_ids=[])
    D = networks.define_D(a.label_nc + 1 + 3, a.ndf, a.n_layers_D, "instance", False, a.num_D, True, gpu_ids=[])
G = G.to(a.device); D = D.to(a.device)
ganloss = networks.GANLoss(use_lsgan=True, tensor=torch.cuda.FloatTensor if a.device != "cpu" else torch.FloatTensor)
vgg = None if a.no_vgg else networks.VGGLoss([])
l1 = nn.L1Loss()
optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
# Scene-like maps, as bench/train-step-ours.ts: classes over 16x16 cells (the dense layers cost
# the same on any map), the instance map equal to the label map.
cells = torch.randint(0, a.label_nc, (1, 1, -(-a.h // 16), -(-a.w // 16))).float()
label = torch.nn.functional.interpolate(cells, scale_factor=16, mode="nearest")[:, :, :a.h, :a.w].long()
onehot = torch.zeros(1, a.label_nc, a.h, a.w).scatter_(1, label, 1.0)
inst = label.clone()
edge = torch.zeros_like(inst, dtype=torch.bool)
edge[:, :, :, 1:] |= inst[:, :, :, 1:] != inst[:, :, :, :-1]; edge[:, :, :, :-1] |= inst[:, :, :, 1:] != inst[:, :, :, :-1]
edge[:, :, 1:, :] |= inst[:, :, 1:, :] != inst[:, :, :-1, :]; edge[:, :, :-1, :] |= inst[:, :, 1:, :] != inst[:, :, :-1, :]
inp = torch.cat([onehot, edge.float()], 1)
real = (torch.rand(1, 3, a.h, a.w) * 2 - 1).to(a.device)
inp = inp.to(a.device)

def step():
    fake = G(inp)
    pred_fake_pool = D(torch.cat([inp, fake.detach()], 1))
    loss_D_fake = ganloss(pred_fake_pool, False)
    pred_real = D(torch.cat([inp, real], 1))
    loss_D_real = ganloss(pred_real, True)
    pred_fake = D(torch.cat([inp, fake], 1))
    loss_G_GAN = ganloss(pred_fake, True)
    feat_w = 4.0 / (a.n_layers_D + 1); D_w = 1.0 / a.num_D
    loss_FM = 0
    for i in range(a.num_D):
        for j in range(len(pred_fake[i]) - 1):
            loss_FM = loss_FM + D_w * feat_w * l1(pred_fake[i][j], pred_real[i][j].detach()) * 10.0
    loss_VGG = vgg(fake, real) * 10.0 if vgg is not None else 0
    loss_G = loss_G_GAN + loss_FM + loss_VGG
    loss_D = (loss_D_fake + loss_D_real) * 0.5
    optG.zero_grad(); loss_G.backward(); optG.step()
    optD.zero_grad(); loss_D.backward(); optD.step()
    return float(loss_G), float(loss_D)

def peak_rss_mb():
    # VmHWM: the process's peak resident memory, what /usr/bin/time reports as maximum RSS.
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
    return None

step()  # warm-up
times = []
cpu0 = os.times()
for _ in range(a.iters):
    t = time.perf_counter(); lg, ld = step(); times.append(time.perf_counter() - t)
cpu = os.times()
print(json.dumps({"impl": "official-pytorch",
                  "cpu_user_per_iter": (cpu.user - cpu0.user) / a.iters, "cpu_sys_per_iter": (cpu.system - cpu0.system) / a.iters, "device": a.device, "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "net": a.net, "w": a.w, "h": a.h, "label_nc": a.label_nc, "ngf": a.ngf, "vgg": not a.no_vgg,
                  "sec_per_iter": statistics.median(times), "all": times, "loss_G": lg, "loss_D": ld,
                  "peak_rss_mb": peak_rss_mb()}))
