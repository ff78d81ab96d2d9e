// C# binding vs onnxruntime-node on one model, batch and thread count, in one run on the same library file.
// Both sessions are loaded and warmed up side by side (`dq onnx bench --serve` as a child process, onnxruntime-node
// in this process) with identical session options; then they take turns, K batches each per round, the order
// flipping every round, so that a change in machine load hits both alike. Prints one Markdown row:
// | model | batch | threads | C# images/s | Node images/s | C# / Node | per-round min–max | C# / Node by CPU time | C# binding overhead |
// where images/s come from the median wall-clock batch time of each side over all rounds, C# / Node is the median of
// the per-round ratios (Node's median batch time ÷ C#'s), and the CPU-time ratio is Node's median process CPU time
// per batch ÷ C#'s (getrusage on both sides): the same work measured in a way other processes' load barely moves.
// Usage: node onnx-vs-node.js DQ_DLL MODEL BATCH THREADS ROUNDS PER_ROUND WARMUP [SPINNING=1]
'use strict';
const path = require('path');
const { spawn } = require('child_process');
const readline = require('readline');
const { loadOrt, boundSession, median } = require('./ort-node-options');

async function main() {
  const [dqDll, model, batchText, threadsText, roundsText, perRoundText, warmupText, spin] = process.argv.slice(2);
  const batch = Number(batchText);
  const threads = Number(threadsText);
  const rounds = Number(roundsText);
  const perRound = Number(perRoundText);
  const warmup = Number(warmupText);
  const spinning = spin !== '0';
  if (!(batch > 0 && threads > 0 && rounds > 0 && perRound > 0 && warmup >= 0)) {
    throw new Error('usage: node onnx-vs-node.js DQ_DLL MODEL BATCH THREADS ROUNDS PER_ROUND WARMUP [SPINNING=1]');
  }

  const child = spawn('dotnet', [dqDll, 'onnx', 'bench', model, '--batch', `${batch}`, '--threads', `${threads}`,
    '--warmup', `${warmup}`, '--spinning', spinning ? 'true' : 'false', '--arena', 'true', '--mem-pattern', 'true', '--serve'],
  { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('dq onnx bench --serve ended early');
    return r.value;
  };
  const ready = await next();
  if (!ready.startsWith('ready ')) throw new Error(`dq onnx bench: ${ready}`);

  const ort = loadOrt();
  const bound = await boundSession(ort, model, batch, { threads, spinning, arena: true, memPattern: true });
  for (let i = 0; i < warmup; i++) await bound.run();

  const csharp = async () => {
    child.stdin.write(`run ${perRound}\n`);
    const line = await next();
    const m = line.match(/^ms (.*) cpu (.*)$/);
    if (!m) throw new Error(`dq onnx bench: ${line}`);
    return { wall: m[1].split(' ').map(Number), cpu: m[2].split(' ').map(Number) };
  };
  const node = async () => {
    const wall = [];
    const cpu = [];
    for (let i = 0; i < perRound; i++) {
      const cpuStart = process.cpuUsage();
      const start = process.hrtime.bigint();
      await bound.run();
      wall.push(Number(process.hrtime.bigint() - start) / 1e6);
      const used = process.cpuUsage(cpuStart);
      cpu.push((used.user + used.system) / 1000);
    }
    return { wall, cpu };
  };

  const cs = [];
  const nd = [];
  const csCpu = [];
  const ndCpu = [];
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    let c;
    let n;
    if (r % 2 === 0) {
      c = await csharp();
      n = await node();
    } else {
      n = await node();
      c = await csharp();
    }
    cs.push(...c.wall);
    nd.push(...n.wall);
    csCpu.push(...c.cpu);
    ndCpu.push(...n.cpu);
    ratios.push(median(n.wall) / median(c.wall));
  }

  child.stdin.end('quit\n');
  const overhead = (await next()).match(/binding overhead ([0-9.]+).*allocated while timing: (\d+)/);
  const csIps = batch * 1000 / median(cs);
  const ndIps = batch * 1000 / median(nd);
  const name = path.basename(model, '.onnx');
  console.log(`| ${name} | ${batch} | ${threads} | ${csIps.toFixed(1)} | ${ndIps.toFixed(1)} | ${median(ratios).toFixed(3)} | ` +
    `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)} | ${(median(ndCpu) / median(csCpu)).toFixed(3)} | ` +
    `${overhead ? overhead[1] : '?'} |`);
  if (overhead && overhead[2] !== '0') console.error(`${name}: C# allocated ${overhead[2]} managed bytes while timing`);
  await bound.session.release();
}

main().catch((e) => { console.error(`error: ${e.message}`); process.exit(2); });
