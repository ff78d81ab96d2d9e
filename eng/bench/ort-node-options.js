// The onnxruntime-node session options that mirror `dq onnx bench`: every option that changes speed is explicit on
// both sides (threads, graph optimisation, arena, memory pattern, execution mode, intra-op spinning).
'use strict';
const path = require('path');
const os = require('os');

function loadOrt() {
  const modules = process.env.DQ_NODE_MODULES || path.join(os.homedir(), '.cache', 'datasetquant', 'node', 'node_modules');
  const ort = require(path.join(modules, 'onnxruntime-node'));
  ort.version = require(path.join(modules, 'onnxruntime-node', 'package.json')).version;
  return ort;
}

function sessionOptions({ threads, arena = true, memPattern = true, spinning = true }) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableCpuMemArena: arena,
    enableMemPattern: memPattern,
    // onnxruntime-node flattens `extra` into session config entries: session.intra_op.allow_spinning.
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

// The input `dq onnx bench` feeds (the same 32-bit LCG, values exact in float32) and a pre-allocated output, as the
// C# side binds its buffers once.
async function boundSession(ort, model, batch, options) {
  const session = await ort.InferenceSession.create(model, sessionOptions(options));
  const inputDims = concrete(session.inputMetadata[0].shape, batch);
  const outputDims = concrete(session.outputMetadata[0].shape, batch);
  const input = new Float32Array(inputDims.reduce((a, b) => a * b, 1));
  let state = 1;
  for (let i = 0; i < input.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    input[i] = (state >>> 8) / 16777216 * 2 - 1;
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, inputDims) };
  const output = new ort.Tensor('float32', new Float32Array(outputDims.reduce((a, b) => a * b, 1)), outputDims);
  const fetches = { [session.outputNames[0]]: output };
  return { session, run: () => session.run(feeds, fetches) };
}

function concrete(shape, batch) {
  return shape.map((d, i) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (i === 0) return batch;
    throw new Error(`dimension ${i} of [${shape}] is symbolic; only the batch dimension is filled`);
  });
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

module.exports = { loadOrt, sessionOptions, boundSession, median };
