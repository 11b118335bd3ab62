#!/usr/bin/python3
"""The official side of bench/test.ts: the generator of NVIDIA/pix2pixHD (models/networks.py,
located via $REF_PIX2PIXHD) built by networks.define_G as test.py builds it, random weights,
in eval mode under torch.no_grad(), on a scene-like one-hot label map with its instance-edge channel.

usage: ref_test.py --net local --ngf 32 --w 1024 --h 512 --n 3 --threads 2
prints: a JSON line {"sec_per_image": median, "peak_rss_mb": ...}
"""
import argparse, json, os, resource, sys, time
import torch
ref = os.environ.get("REF_PIX2PIXHD")
if not ref or not os.path.isdir(ref):
    print(json.dumps({"error": "set REF_PIX2PIXHD to a checkout of NVIDIA/pix2pixHD"})); sys.exit(2)
sys.path.insert(0, ref)
from models import networks

p = argparse.ArgumentParser()
p.add_argument("--net", default="local"); p.add_argument("--label_nc", type=int, default=35)
p.add_argument("--w", type=int, default=1024); p.add_argument("--h", type=int, default=512)
p.add_argument("--ngf", type=int, default=32); p.add_argument("--n_downsample_global", type=int, default=4)
p.add_argument("--n_blocks_global", type=int, default=9); p.add_argument("--n_blocks_local", type=int, default=3)
p.add_argument("--n", type=int, default=3); p.add_argument("--threads", type=int, default=0); p.add_argument("--seed", type=int, default=0)
p.add_argument("--device", default="cpu"); p.add_argument("--half", action="store_true", help="CUDA: float16 autocast")
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
G = networks.define_G(a.label_nc + 1, 3, a.ngf, a.net, a.n_downsample_global, a.n_blocks_global, 1, a.n_blocks_local, 'instance', gpu_ids=[])
G.eval().to(a.device)
# Scene-like maps as bench/test-ours.ts makes them: classes over 16x16 cells, their boundaries.
# (The dense layers cost the same on any map.)
cells = torch.randint(0, a.label_nc, (1, 1, -(-a.h // 16), -(-a.w // 16))).float()
labels = torch.nn.functional.interpolate(cells, scale_factor=16, mode='nearest')[:, :, :a.h, :a.w].long()
one_hot = torch.zeros(1, a.label_nc, a.h, a.w).scatter_(1, labels, 1.0)
edge = torch.zeros(1, 1, a.h, a.w)
edge[:, :, :, 1:] += (labels[:, :, :, 1:] != labels[:, :, :, :-1]).float()
edge[:, :, :, :-1] += (labels[:, :, :, 1:] != labels[:, :, :, :-1]).float()
edge[:, :, 1:, :] += (labels[:, :, 1:, :] != labels[:, :, :-1, :]).float()
edge[:, :, :-1, :] += (labels[:, :, 1:, :] != labels[:, :, :-1, :]).float()
x = torch.cat([one_hot, (edge > 0).float()], 1).to(a.device)
secs, cpu = [], []
with torch.no_grad(), torch.autocast('cuda', dtype=torch.float16, enabled=a.half):
    for _ in range(a.n + (2 if a.device != 'cpu' else 0)):
        t0, c0 = time.perf_counter(), time.process_time()
        y = G(x)
        y.float().cpu().numpy()
        secs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        del y
if a.device != 'cpu': secs, cpu = secs[2:], cpu[2:]  # warm-up (cuDNN's choices) left out
med = lambda xs: sorted(xs)[len(xs) // 2]
print(json.dumps({"sec_per_image": med(secs), "cpu_sec_per_image": med(cpu), "all": secs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
