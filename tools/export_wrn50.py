# This file is part of OpenCV project.
# It is subject to the license terms in the LICENSE file found in the top-level directory
# of this distribution and at http://opencv.org/license.html.

"""Exports torchvision's wide_resnet50_2 up to layer3 as ONNX for cv::dnn 4.6, with the outputs
`layer2` (stride 8, 512 channels) and `layer3` (stride 16, 1024 channels) that the `wrn50` preset
taps. This is the backbone of PatchCore, SimpleNet and DMAD.

    python3 tools/export_wrn50.py --checkpoint wide_resnet50_2-95faca4d.pth \\
        --out build/backbones/wide_resnet50_2.onnx

--checkpoint is torchvision's ImageNet state dict (IMAGENET1K_V1 is the one the papers used); this
script downloads nothing. --random-weights exports an untrained network instead, for tests.
--reference PREFIX also writes the layer outputs torch computes for the procedural test image
(PREFIX.json + PREFIX.f32, the format of tools/backbones/tfjs_reference.js), which
opencv_test_dmad compares with cv::dnn (test/export_wrn50.sh).

Needs Debian's python3-torch and python3-torchvision (torch 1.13).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import torchvision

# cv::dnn 4.6 reads this opset's Conv/Relu/MaxPool/Add without surprises.
OPSET = 11


class Trunk(torch.nn.Module):
    """wide_resnet50_2 from the stem to layer3; layer4 and the classifier are never run."""

    def __init__(self, net):
        super().__init__()
        self.stem = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layer1, self.layer2, self.layer3 = net.layer1, net.layer2, net.layer3

    def forward(self, x):
        layer2 = self.layer2(self.layer1(self.stem(x)))
        return layer2, self.layer3(layer2)


def perturb(net, seed):
    """Makes every weight and statistic distinct. torch 1.13 exports equal initialisers (fresh
    BatchNorm's ones and zeros) as Identity nodes of one another, which cv::dnn 4.6 rejects."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.weight.copy_(1 + 0.1 * torch.randn(n, generator=generator))
                module.bias.copy_(0.1 * torch.randn(n, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
                module.running_var.copy_(1 + 0.5 * torch.rand(n, generator=generator))
            elif isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                module.weight.add_(1e-3 * torch.randn(module.weight.shape, generator=generator))


def procedural_image(width, height):
    """The test image of tools/backbones/tfjs_reference.js ("dmad-procedural-v1"), 3xHxW RGB."""
    x = np.arange(width)[None, :].repeat(height, 0)
    y = np.arange(height)[:, None].repeat(width, 1)
    red, green = (x * 255) // (width - 1), (y * 255) // (height - 1)
    blue = np.where(((x >> 4) + (y >> 4)) & 1, 220, 30)
    disc = (x - (width >> 1)) ** 2 + (y - (height >> 1)) ** 2 < (width >> 2) ** 2
    red, green = np.where(disc, 255 - red, red), np.where(disc, 255 - green, green)
    return np.stack([red, green, blue]).astype(np.uint8)


def write_reference(trunk, size, prefix):
    scale = 1.0 / 255.0
    image = procedural_image(size, size).astype(np.float32) * np.float32(scale)
    with torch.no_grad():
        outputs = trunk(torch.from_numpy(image[None]))
    layers, offset = [], 0
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    with open(prefix + ".f32", "wb") as f:
        for name, out in zip(("layer2", "layer3"), outputs):
            values = out.numpy().astype("<f4").ravel()
            f.write(values.tobytes())
            layers.append({"name": name, "shape": list(out.shape), "count": int(values.size),
                           "step": 1, "offset": offset})
            offset += int(values.size)
    meta = {"reference": "torch %s" % torch.__version__,
            "input": {"pattern": "dmad-procedural-v1", "width": size, "height": size,
                      "channels": "RGB", "scale": scale},
            "data": os.path.basename(prefix) + ".f32", "layers": layers}
    with open(prefix + ".json", "w") as f:
        json.dump(meta, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="torchvision wide_resnet50_2 ImageNet state dict")
    source.add_argument("--random-weights", action="store_true",
                        help="untrained, perturbed weights (tests only)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="wide_resnet50_2.onnx")
    parser.add_argument("--size", type=int, default=256, help="input size the export traces")
    parser.add_argument("--reference", help="also write torch's outputs as PREFIX.json/.f32")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    net = torchvision.models.wide_resnet50_2(weights=None)
    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location="cpu")
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        net.load_state_dict(state)
    else:
        perturb(net, args.seed)
    trunk = Trunk(net).eval()

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    dummy = torch.zeros(1, 3, args.size, args.size)
    torch.onnx.export(trunk, dummy, tmp, input_names=["input"],
                      output_names=["layer2", "layer3"], opset_version=OPSET,
                      do_constant_folding=True)
    os.replace(tmp, args.out)
    print("%s: wide_resnet50_2 to layer3 (%s), outputs layer2, layer3" % (
        args.out, "random weights" if args.random_weights else args.checkpoint))
    if args.reference:
        write_reference(trunk, args.size, args.reference)


if __name__ == "__main__":
    sys.exit(main())
