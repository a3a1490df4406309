# This file is part of OpenCV project.
# It is subject to the license terms in the LICENSE file found in the top-level directory
# of this distribution and at http://opencv.org/license.html.

"""Converts a TensorFlow.js Keras layers model (model.json + weights) into an ONNX file that
cv::dnn 4.6 reads.

    python3 keras_to_onnx.py <model.json> <output.onnx>

The graph is rewritten channels-first (NCHW) with free batch, height and width. Every Keras layer
becomes ONNX nodes named after it; the model's output layers also become graph outputs with the
Keras names, which is what makes `net.getLayerId("mixed5")` work in cv::dnn 4.6 (it names a layer
"onnx_node!<node name>" but adds one layer per graph output under the output's own name).

Opset 10 because cv::dnn 4.6 reads Clip (ReLU6) only in its attribute form.
Needs Debian's python3-onnx and python3-numpy.
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 10
# cv::dnn 4.6 infers every shape at import and needs concrete input sizes there; forward()
# then takes any size (MobileNetV2: even sizes, its ZeroPadding2D is baked for them).
DECLARED_INPUT_SIZE = 224


def fail(message):
    sys.exit("keras_to_onnx: " + message)


def load_weights(model_json_path, manifest):
    """Returns {weight name: float32 array}, dequantising uint8/uint16 as min + q * scale."""
    folder = os.path.dirname(model_json_path)
    stream = b"".join(open(os.path.join(folder, p), "rb").read()
                      for group in manifest for p in group["paths"])
    weights, offset = {}, 0
    for spec in (w for group in manifest for w in group["weights"]):
        count = int(np.prod(spec["shape"], dtype=np.int64))
        quant = spec.get("quantization")
        dtype = np.dtype(quant["dtype"] if quant else spec["dtype"]).newbyteorder("<")
        raw = np.frombuffer(stream, dtype=dtype, count=count, offset=offset)
        offset += count * dtype.itemsize
        if quant and quant["dtype"] == "float16":
            values = raw.astype(np.float32)
        elif quant:
            # TensorFlow.js computes q * scale + min in double and stores float32: do the same
            values = (raw.astype(np.float64) * quant["scale"] + quant["min"]).astype(np.float32)
        else:
            values = raw.astype(np.float32)
        weights[spec["name"]] = values.reshape(spec["shape"])
    if offset != len(stream):
        fail("weights manifest describes %d bytes, the files hold %d" % (offset, len(stream)))
    return weights


def same_pads(kernel, strides):
    """ONNX attributes for TensorFlow 'same' padding."""
    if all(s == 1 for s in strides):
        # size independent: k - 1 in all, the odd one at the end as TensorFlow does
        begin = [(k - 1) // 2 for k in kernel]
        end = [k - 1 - b for k, b in zip(kernel, begin)]
        return {"pads": begin + end}
    # with strides the padding depends on the input size; SAME_UPPER is TensorFlow's rule
    return {"auto_pad": "SAME_UPPER"}


class Converter:
    def __init__(self, weights):
        self.weights = weights
        self.used = set()
        self.nodes = []
        self.initializers = []
        self.channels = {}  # tensor name -> channel count

    def weight(self, layer, name, required=True):
        key = "%s/%s" % (layer, name)
        if key not in self.weights:
            if required:
                fail("layer %s has no weight '%s'" % (layer, name))
            return None
        self.used.add(key)
        return self.weights[key]

    def constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32),
                                                         name))
        return name

    def node(self, op, inputs, output, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def padding_attrs(self, cfg):
        kernel = list(cfg.get("kernel_size") or cfg.get("pool_size"))
        strides = list(cfg.get("strides") or kernel)
        if cfg.get("padding") == "same":
            return same_pads(kernel, strides)
        if cfg.get("padding") == "valid":
            return {"pads": [0] * 4}
        fail("%s: padding '%s' is not supported" % (cfg["name"], cfg.get("padding")))

    def activation(self, layer, tensor, kind):
        """Appends a Keras activation as the node `layer`; returns the output tensor."""
        if kind in (None, "linear"):
            return tensor
        if kind == "relu":
            return self.node("Relu", [tensor], layer, layer)
        if kind == "relu6":
            return self.node("Clip", [tensor], layer, layer, min=0.0, max=6.0)
        fail("%s: activation '%s' is not supported" % (layer, kind))

    def convolution(self, layer, cfg, x, depthwise):
        if cfg.get("data_format", "channels_last") != "channels_last":
            fail("%s: only channels_last models are supported" % layer)
        if any(d != 1 for d in cfg.get("dilation_rate", [1, 1])):
            fail("%s: dilated convolutions are not supported" % layer)
        kernel = self.weight(layer, "depthwise_kernel" if depthwise else "kernel")
        kh, kw = kernel.shape[:2]
        if depthwise:
            # [kh, kw, in, multiplier] -> [in * multiplier, 1, kh, kw]; TensorFlow orders the
            # outputs channel-major (in, multiplier), as the reshape does
            cin, mult = kernel.shape[2:]
            onnx_kernel = kernel.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
            group, cout = cin, cin * mult
        else:
            # [kh, kw, in, out] -> [out, in, kh, kw]
            onnx_kernel = kernel.transpose(3, 2, 0, 1)
            group, cout = 1, kernel.shape[3]
        inputs = [x, self.constant(layer + "/kernel", onnx_kernel)]
        if cfg.get("use_bias"):
            inputs.append(self.constant(layer + "/bias", self.weight(layer, "bias")))
        activation = cfg.get("activation")
        conv_out = layer if activation in (None, "linear") else layer + "/conv"
        self.node("Conv", inputs, conv_out, conv_out, kernel_shape=[kh, kw],
                  strides=list(cfg["strides"]), group=group, dilations=[1, 1],
                  **self.padding_attrs(cfg))
        self.channels[conv_out] = cout
        out = self.activation(layer, conv_out, activation)
        self.channels[out] = cout
        return out

    def batch_norm(self, layer, cfg, x):
        if cfg.get("axis") not in (-1, 3, [3], [-1]):
            fail("%s: BatchNormalization over axis %s" % (layer, cfg.get("axis")))
        mean = self.weight(layer, "moving_mean")
        var = self.weight(layer, "moving_variance")
        ones, zeros = np.ones_like(mean), np.zeros_like(mean)
        gamma = self.weight(layer, "gamma") if cfg.get("scale", True) else ones
        beta = self.weight(layer, "beta") if cfg.get("center", True) else zeros
        inputs = [x] + [self.constant("%s/%s" % (layer, n), v)
                        for n, v in (("gamma", gamma), ("beta", beta), ("mean", mean),
                                     ("variance", var))]
        self.channels[layer] = mean.shape[0]
        return self.node("BatchNormalization", inputs, layer, layer,
                         epsilon=float(cfg.get("epsilon", 1e-3)))

    def relu(self, layer, cfg, x):
        if cfg.get("negative_slope", 0) != 0 or cfg.get("threshold", 0) != 0:
            fail("%s: ReLU with a slope or threshold is not supported" % layer)
        self.channels[layer] = self.channels[x]
        if cfg.get("max_value") is None:
            return self.node("Relu", [x], layer, layer)
        return self.node("Clip", [x], layer, layer, min=0.0, max=float(cfg["max_value"]))

    def pooling(self, layer, cfg, x, op):
        if cfg.get("data_format", "channels_last") != "channels_last":
            fail("%s: only channels_last models are supported" % layer)
        attrs = self.padding_attrs(cfg)
        if op == "AveragePool":
            attrs["count_include_pad"] = 0  # Keras averages over the valid pixels only
        self.channels[layer] = self.channels[x]
        return self.node(op, [x], layer, layer, kernel_shape=list(cfg["pool_size"]),
                         strides=list(cfg["strides"] or cfg["pool_size"]), **attrs)

    def zero_padding(self, layer, cfg, x):
        (top, bottom), (left, right) = cfg["padding"]
        self.channels[layer] = self.channels[x]
        return self.node("Pad", [x], layer, layer, mode="constant", value=0.0,
                         pads=[0, 0, top, left, 0, 0, bottom, right])

    def convert_layer(self, layer, inputs):
        cls, cfg, name = layer["class_name"], layer["config"], layer["name"]
        if cls == "Conv2D":
            return self.convolution(name, cfg, inputs[0], depthwise=False)
        if cls == "DepthwiseConv2D":
            return self.convolution(name, cfg, inputs[0], depthwise=True)
        if cls == "BatchNormalization":
            return self.batch_norm(name, cfg, inputs[0])
        if cls == "ReLU":
            return self.relu(name, cfg, inputs[0])
        if cls == "Activation":
            self.channels[name] = self.channels[inputs[0]]
            return self.activation(name, inputs[0], cfg["activation"])
        if cls == "MaxPooling2D":
            return self.pooling(name, cfg, inputs[0], "MaxPool")
        if cls == "AveragePooling2D":
            return self.pooling(name, cfg, inputs[0], "AveragePool")
        if cls == "ZeroPadding2D":
            return self.zero_padding(name, cfg, inputs[0])
        if cls == "Add":
            total = inputs[0]
            for i, other in enumerate(inputs[1:]):
                last = i == len(inputs) - 2
                total = self.node("Add", [total, other], name if last else "%s/%d" % (name, i),
                                  name if last else "%s/%d" % (name, i))
            self.channels[name] = self.channels[inputs[0]]
            return total
        if cls == "Concatenate":
            if cfg.get("axis") not in (-1, 3):
                fail("%s: Concatenate over axis %s" % (name, cfg.get("axis")))
            self.channels[name] = sum(self.channels[i] for i in inputs)
            return self.node("Concat", inputs, name, name, axis=1)
        fail("%s: layer class %s is not supported" % (name, cls))


def convert(model_json_path, onnx_path):
    with open(model_json_path) as f:
        model = json.load(f)
    config = model["modelTopology"]["model_config"]["config"]
    converter = Converter(load_weights(model_json_path, model["weightsManifest"]))
    tensors = {}  # Keras layer name -> ONNX tensor of its output
    graph_inputs = []
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            channels = layer["config"]["batch_input_shape"][3]
            size = DECLARED_INPUT_SIZE
            graph_inputs.append(helper.make_tensor_value_info(
                layer["name"], TensorProto.FLOAT, [1, channels, size, size]))
            converter.channels[layer["name"]] = channels
            tensors[layer["name"]] = layer["name"]
            continue
        if len(layer["inbound_nodes"]) != 1:
            fail("%s: shared layers are not supported" % layer["name"])
        inputs = [tensors[inbound[0]] for inbound in layer["inbound_nodes"][0]]
        tensors[layer["name"]] = converter.convert_layer(layer, inputs)

    unused = [k for k in converter.weights if k not in converter.used]
    if unused:
        fail("weights no layer used: %s" % ", ".join(unused[:5]))
    outputs = []
    for name, _, _ in config["output_layers"]:
        if tensors[name] != name:
            fail("output %s is not a tensor of that name" % name)
        outputs.append(helper.make_tensor_value_info(
            name, TensorProto.FLOAT, ["batch", converter.channels[name], name + "_h", name + "_w"]))
    graph = helper.make_graph(converter.nodes, config.get("name", "keras"), graph_inputs, outputs,
                              converter.initializers)
    onnx_model = helper.make_model(graph, producer_name="dmad keras_to_onnx.py",
                                   opset_imports=[helper.make_opsetid("", OPSET)])
    onnx_model.ir_version = 5  # what opset 10 came with; onnx 1.12 would write 8
    onnx.checker.check_model(onnx_model)
    tmp = onnx_path + ".tmp"
    onnx.save(onnx_model, tmp)
    os.replace(tmp, onnx_path)
    print("%s: %d nodes, %d weights, outputs %s" % (
        onnx_path, len(converter.nodes), len(converter.used),
        ", ".join(o.name for o in outputs)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    convert(sys.argv[1], sys.argv[2])
