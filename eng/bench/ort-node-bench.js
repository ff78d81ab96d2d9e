// Times one float-input ONNX model in onnxruntime-node with the same batch, threads, iteration counts and session
// options as `dq onnx bench`. eng/bench/onnx-vs-node.js alternates the two batch by batch; this is the one-host run.
// Usage: node ort-node-bench.js MODEL BATCH THREADS ITERATIONS WARMUP [SPINNING=1] [ARENA=1] [MEM_PATTERN=1]
'use strict';
const { loadOrt, boundSession, median } = require('./ort-node-options');

async function main() {
  const [model, batchText, threadsText, iterationsText, warmupText, spin, arena, pattern] = process.argv.slice(2);
  const batch = Number(batchText || 16);
  const threads = Number(threadsText || 1);
  const iterations = Number(iterationsText || 20);
  const warmup = Number(warmupText || 3);
  const ort = loadOrt();
  const bound = await boundSession(ort, model, batch, { threads, spinning: spin !== '0', arena: arena !== '0', memPattern: pattern !== '0' });
  for (let i = 0; i < warmup; i++) await bound.run();
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await bound.run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const m = median(times);
  console.log(`node onnxruntime-node ${ort.version} batch ${batch} threads ${threads} runs ${iterations}`);
  console.log(`median batch ${m.toFixed(3)} ms, ${(batch * 1000 / m).toFixed(1)} images/s`);
}

main().catch((e) => { console.error(`error: ${e.message}`); process.exit(2); });
