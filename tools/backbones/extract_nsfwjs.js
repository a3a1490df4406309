// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Pulls the Keras layers models out of an unpacked nsfwjs package and writes each trunk as a
// plain TensorFlow.js layers model (model.json + weights.bin), cut after its deepest tapped layer
// and with free input height and width. Refuses a cut that keeps a layer nsfwjs retrained.
//
//   node extract_nsfwjs.js <package/dist/models> <output folder> <trunk>:<tap>,<tap> ...
//
// nsfwjs wraps model.json and each weight shard in a browserify bundle whose export is the JSON
// object (topology) or a base64 string (shard); require() is the exact way to read them back.
// Needs nothing but node.

'use strict';
const fs = require('fs');
const path = require('path');

function fail(message) {
    console.error(`extract_nsfwjs: ${message}`);
    process.exit(1);
}

function loadBundle(file) {
    if (!fs.existsSync(file))
        fail(`missing ${file}`);
    return require(path.resolve(file));
}

// Keeps the layers the taps depend on, in their original order; the taps become the outputs.
function truncate(config, taps) {
    const byName = new Map(config.layers.map((l) => [l.name, l]));
    const keep = new Set();
    const stack = [...taps];
    while (stack.length) {
        const name = stack.pop();
        if (keep.has(name))
            continue;
        const layer = byName.get(name);
        if (!layer)
            fail(`no layer '${name}' in the model`);
        keep.add(name);
        for (const node of layer.inbound_nodes)
            for (const [inbound] of node)
                stack.push(inbound);
    }
    const layers = config.layers.filter((l) => keep.has(l.name));
    // Only layers frozen during nsfwjs' fine-tune still hold the ImageNet features.
    const retrained = layers.filter((l) => l.config.trainable).map((l) => l.name);
    if (retrained.length)
        fail(`the cut keeps layers nsfwjs retrained: ${retrained.slice(0, 5).join(', ')}`);
    for (const l of layers)
        if (l.class_name === 'InputLayer') {
            const shape = l.config.batch_input_shape;
            l.config.batch_input_shape = [null, null, null, shape[3]];
        }
    return Object.assign({}, config, {
        layers,
        output_layers: taps.map((t) => [t, 0, 0]),
    });
}

function bytesPerValue(spec) {
    const dtype = spec.quantization ? spec.quantization.dtype : spec.dtype;
    const sizes = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };
    if (!(dtype in sizes))
        fail(`weight ${spec.name}: unsupported dtype ${dtype}`);
    return sizes[dtype];
}

function packageName(modelsDir) {
    const file = path.join(modelsDir, '..', '..', 'package.json');
    if (!fs.existsSync(file))
        return 'nsfwjs';
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    return `${pkg.name}@${pkg.version}`;
}

function extractTrunk(modelsDir, outDir, trunk, taps) {
    const model = loadBundle(path.join(modelsDir, trunk, 'model.min.js'));
    if (!model.modelTopology || !model.modelTopology.model_config)
        fail(`${trunk} is not a Keras layers model`);
    const config = truncate(model.modelTopology.model_config.config, taps);
    const kept = new Set(config.layers.map((l) => l.name));

    // The shards are one byte stream cut into pieces; weights follow the manifest's order.
    const shards = [];
    const specs = [];
    for (const group of model.weightsManifest) {
        for (const shard of group.paths) {
            const encoded = loadBundle(path.join(modelsDir, trunk, `${shard}.min.js`));
            if (typeof encoded !== 'string')
                fail(`${trunk}/${shard} does not hold a base64 string`);
            shards.push(Buffer.from(encoded, 'base64'));
        }
        specs.push(...group.weights);
    }
    const stream = Buffer.concat(shards);
    const keptSpecs = [];
    const keptBytes = [];
    let offset = 0;
    for (const spec of specs) {
        const count = spec.shape.reduce((a, b) => a * b, 1);
        const size = count * bytesPerValue(spec);
        if (kept.has(spec.name.split('/')[0])) {
            keptSpecs.push(spec);
            keptBytes.push(stream.subarray(offset, offset + size));
        }
        offset += size;
    }
    if (offset !== stream.length)
        fail(`${trunk}: manifest describes ${offset} bytes, shards hold ${stream.length}`);

    const topology = Object.assign({}, model.modelTopology, {
        model_config: Object.assign({}, model.modelTopology.model_config, { config }),
    });
    delete topology.training_config;
    const dir = path.join(outDir, trunk);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat(keptBytes));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
        format: 'layers-model',
        generatedBy: `${packageName(modelsDir)} ${trunk}, cut after ${taps.join(', ')} ` +
            'by extract_nsfwjs.js',
        modelTopology: topology,
        weightsManifest: [{ paths: ['weights.bin'], weights: keptSpecs }],
    }));
    console.log(`${trunk}: ${config.layers.length} layers, ${keptSpecs.length} weights -> ${dir}`);
}

function main(argv) {
    if (argv.length < 3)
        fail('usage: node extract_nsfwjs.js <package/dist/models> <output folder> ' +
             '<trunk>:<tap>,<tap> ...');
    const [modelsDir, outDir, ...trunks] = argv;
    for (const spec of trunks) {
        const [trunk, taps] = spec.split(':');
        if (!trunk || !taps)
            fail(`bad trunk spec '${spec}' (expected name:tap,tap)`);
        extractTrunk(modelsDir, outDir, trunk, taps.split(','));
    }
}

main(process.argv.slice(2));
