// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Runs a trunk written by extract_nsfwjs.js through TensorFlow.js (pure JavaScript CPU backend) on
// a procedural image and writes the tapped layers' outputs, NCHW, as a reference for cv::dnn.
//
//   node tfjs_reference.js <trunk folder> <output prefix> [--size=256] [--values=<n>]
//
// Writes <prefix>.json (metadata, readable by cv::FileStorage) and <prefix>.f32 (little-endian
// float32, layer after layer). --values=n keeps n evenly strided values per layer (index k * step)
// instead of the whole tensor, for a reference small enough to keep in git.
// modules/dmad/test/test_backbones.cpp builds the same image and compares.

'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const PATTERN = 'dmad-procedural-v1';

// The test image, RGB 8-bit, HxWx3: horizontal and vertical ramps, a 16-pixel checkerboard in blue
// and an inverted disc. Integer arithmetic only, so C++ rebuilds it bit for bit.
function proceduralImage(width, height) {
    const rgb = new Uint8Array(width * height * 3);
    const cx = width >> 1, cy = height >> 1, r = width >> 2;
    for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
            let red = Math.floor((x * 255) / (width - 1));
            let green = Math.floor((y * 255) / (height - 1));
            const blue = (((x >> 4) + (y >> 4)) & 1) ? 220 : 30;
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) {
                red = 255 - red;
                green = 255 - green;
            }
            rgb.set([red, green, blue], (y * width + x) * 3);
        }
    return rgb;
}

function parseArgs(argv) {
    const options = { size: 256, values: 0 };
    const positional = [];
    for (const arg of argv) {
        const m = /^--(size|values)=(\d+)$/.exec(arg);
        if (m)
            options[m[1]] = parseInt(m[2], 10);
        else
            positional.push(arg);
    }
    if (positional.length !== 2) {
        console.error('usage: node tfjs_reference.js <trunk folder> <output prefix> ' +
                      '[--size=256] [--values=<n>]');
        process.exit(2);
    }
    [options.trunkDir, options.prefix] = positional;
    return options;
}

async function main() {
    const options = parseArgs(process.argv.slice(2));
    tf.enableProdMode();  // also silences the banner that recommends the native node backend
    await tf.setBackend('cpu');
    const model = JSON.parse(fs.readFileSync(path.join(options.trunkDir, 'model.json'), 'utf8'));
    const weights = fs.readFileSync(path.join(options.trunkDir, 'weights.bin'));
    const network = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: model.modelTopology,
        weightSpecs: model.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
    }));
    const taps = network.outputNames;

    const size = options.size;
    const scale = 1 / 255;  // nsfwjs feeds RGB x / 255
    const image = proceduralImage(size, size);
    const input = tf.tidy(() =>
        tf.tensor4d(image, [1, size, size, 3], 'int32').toFloat().mul(scale));
    const started = Date.now();
    let outputs = network.predict(input);
    if (!Array.isArray(outputs))
        outputs = [outputs];
    const layers = [];
    const chunks = [];
    let offset = 0;
    for (let i = 0; i < taps.length; i++) {
        const nchw = tf.transpose(outputs[i], [0, 3, 1, 2]);
        const values = nchw.dataSync();
        const total = values.length;
        const count = options.values > 0 ? Math.min(options.values, total) : total;
        const step = Math.floor(total / count);
        const kept = new Float32Array(count);
        for (let k = 0; k < count; k++)
            kept[k] = values[k * step];
        layers.push({ name: taps[i], shape: nchw.shape, count, step, offset });
        chunks.push(Buffer.from(kept.buffer));
        offset += count;
        nchw.dispose();
    }
    const milliseconds = Date.now() - started;

    fs.mkdirSync(path.dirname(path.resolve(options.prefix)), { recursive: true });
    fs.writeFileSync(options.prefix + '.f32', Buffer.concat(chunks));
    fs.writeFileSync(options.prefix + '.json', JSON.stringify({
        source: model.generatedBy,
        reference: `tfjs ${tf.version.tfjs} ${tf.getBackend()}`,
        input: { pattern: PATTERN, width: size, height: size, channels: 'RGB', scale },
        data: path.basename(options.prefix) + '.f32',
        layers,
    }, null, 1) + '\n');
    for (const l of layers)
        console.log(`tfjs ${tf.version.tfjs} ${path.basename(options.trunkDir)} ${l.name} ` +
                    `${l.shape.join('x')}: ${l.count} values -> ${options.prefix}.f32`);
    console.log(`tfjs forward pass: ${milliseconds} ms at ${size}x${size}`);
}

main().catch((e) => {
    console.error(`tfjs_reference: ${e.stack || e}`);
    process.exit(1);
});
