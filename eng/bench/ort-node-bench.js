// Times one float-input ONNX model in onnxruntime-node with the same batch, threads and iteration counts as
// `dq onnx bench`, so that the C# binding and Node's binding of the same native library can be compared.
// Usage: node ort-node-bench.js MODEL BATCH THREADS ITERATIONS WARMUP
// onnxruntime-node is looked up in $DQ_NODE_MODULES (default ~/.cache/datasetquant/node/node_modules).
'use strict';
const path = require('path');
const os = require('os');

const modules = process.env.DQ_NODE_MODULES || path.join(os.homedir(), '.cache', 'datasetquant', 'node', 'node_modules');
const ort = require(path.join(modules, 'onnxruntime-node'));

async function main() {
  const [model, batchText, threadsText, iterationsText, warmupText] = process.argv.slice(2);
  const batch = Number(batchText || 16);
  const threads = Number(threadsText || 1);
  const iterations = Number(iterationsText || 20);
  const warmup = Number(warmupText || 3);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const inputDims = session.inputMetadata ? concrete(session.inputMetadata[0].shape, batch) : null;
  const outputDims = session.outputMetadata ? concrete(session.outputMetadata[0].shape, batch) : null;
  const input = new Float32Array(inputDims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < input.length; i++) input[i] = Math.random() * 2 - 1;
  const feeds = { [inputName]: new ort.Tensor('float32', input, inputDims) };
  // Pre-allocated output, as the C# side binds its output buffer.
  const output = new ort.Tensor('float32', new Float32Array(outputDims.reduce((a, b) => a * b, 1)), outputDims);
  const fetches = { [outputName]: output };
  for (let i = 0; i < warmup; i++) await session.run(feeds, fetches);
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds, fetches);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  console.log(`node onnxruntime-node ${require(path.join(modules, 'onnxruntime-node', 'package.json')).version} batch ${batch} threads ${threads} runs ${iterations}`);
  console.log(`median batch ${median.toFixed(3)} ms, ${(batch * 1000 / median).toFixed(1)} images/s`);
}

function concrete(shape, batch) {
  return shape.map((d, i) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (i === 0) return batch;
    throw new Error(`dimension ${i} of [${shape}] is symbolic; only the batch dimension is filled`);
  });
}

main().catch((e) => { console.error(`error: ${e.message}`); process.exit(2); });
