#!/usr/bin/env python3
"""Compares two NativeAOT dq-agent builds the way docs/results.md reports them, in one command:

    eng/measure-agent-builds.py [--base REF | --base-binary PATH] [--ready-rounds 10] [--rounds 5] [--long-rounds 3] [--out DIR]

It publishes this tree's dq-agent (./build.sh --target=publish --rid=linux-x64 --aot) and the one of REF (default
main) from a detached worktree under DIR, unless --base-binary / --head-binary name binaries already built. It starts
mosquitto on a free loopback port, quantizes Fashion-MNIST train (2 bpp, uniform) and pushes it signed with
dq-coordinator publish to a dq-agent, so that every measured agent starts from a data directory holding a shard and a
retained signed manifest to verify, as a device does. Then it runs eng/measure-agent.py on both binaries in turns (the
order flips every round): --ready-rounds runs each that only start the agent and stop it (exec -> READY, and the
CPU time it used until then, which load hardly changes); --rounds runs each of exec -> READY, RSS/PSS 10 s after
READY, then a fine-tune command (RSS peak while training, RSS 10 s after it); --long-rounds runs each of RSS/PSS
75 s after READY (past an MQTT keep-alive and a state report). --skip-build uses the dq, dq-coordinator and
dq-agent builds already under src/*/bin/Release to prepare the data. It prints medians per build, the ratio after/before, and the load (uptime) before and after,
and writes everything to DIR/summary.md and DIR/runs.json.

Needs what the tests need (mosquitto, dataset-fashion-mnist, clang and zlib1g-dev for NativeAOT); about 15 minutes
with the defaults on a 2-core machine, plus the two publishes.
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MEASURE = os.path.join(ROOT, "eng", "measure-agent.py")
FLEET, DEVICE = "lab", "m1"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args, cwd=ROOT, **kwargs):
    log(" ".join(args))
    return subprocess.run(args, cwd=cwd, check=True, **kwargs)


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def publish(tree):
    """The agent as the README publishes it; returns the binary."""
    run(["./build.sh", "--target=publish", "--rid=linux-x64", "--aot"], cwd=tree, stdout=subprocess.DEVNULL)
    binary = os.path.join(tree, "artifacts", "publish", "linux-x64", "agent", "dq-agent")
    if not os.path.isfile(binary):
        sys.exit(f"measure-agent-builds: {binary} was not produced")
    return binary


def base_tree(ref, out):
    tree = os.path.join(out, "base-src")
    if os.path.isdir(tree):
        run(["git", "-C", tree, "checkout", "--quiet", "--detach", ref])
    else:
        run(["git", "worktree", "add", "--detach", tree, ref])
    return tree


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"measure-agent-builds: {what} within {seconds} s")
        time.sleep(0.5)


def prepare_data(out, port, build):
    """A data directory holding Fashion-MNIST train at 2 bpp, pushed and verified as on a device."""
    for project in ("DatasetQuant.Cli", "DatasetQuant.Coordinator", "DatasetQuant.Agent") if build else ():
        run(["dotnet", "build", f"src/{project}", "-c", "Release", "-v", "q"], stdout=subprocess.DEVNULL)
    bin_dir = lambda project, name: os.path.join(ROOT, "src", project, "bin", "Release", "net10.0", name)
    dq, coordinator, agent = bin_dir("DatasetQuant.Cli", "dq.dll"), bin_dir("DatasetQuant.Coordinator", "dq-coordinator.dll"), bin_dir("DatasetQuant.Agent", "dq-agent.dll")
    work = os.path.join(out, "data")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    shards, seed = os.path.join(work, "shards"), os.path.join(work, "seed")
    run(["dotnet", dq, "quantize", "--input", "fashion-mnist:train", "--budget", "2bpp", "--allocator", "uniform", "--out", shards], stdout=subprocess.DEVNULL)
    run(["dotnet", coordinator, "keygen", "--out", os.path.join(work, "coordinator.pem")], stdout=subprocess.DEVNULL)
    key = os.path.join(work, "coordinator.pub.pem")
    agent_log = open(os.path.join(work, "seed-agent.log"), "w")
    seeder = subprocess.Popen(["dotnet", agent, *agent_args(seed, key, port), "--FineTune:OnNewData", "false"], stdout=agent_log, stderr=agent_log)
    try:
        time.sleep(3)
        run(["dotnet", coordinator, "publish", "--broker", f"mqtt://127.0.0.1:{port}", "--fleet", FLEET, "--dataset", "fmnist",
             "--shards", shards, "--key", os.path.join(work, "coordinator.pem"), "--db", os.path.join(work, "fleet.db")], stdout=subprocess.DEVNULL)
        held = lambda: [f for _, _, files in os.walk(os.path.join(seed, "datasets")) for f in files if f.endswith(".dqs")]
        wait_for(lambda: held(), 120, "the pushed shard did not arrive")
        time.sleep(2)
    finally:
        seeder.terminate()
        seeder.wait(timeout=30)
    return seed, key


def agent_args(data, key, port):
    return ["--device-config", os.path.join(ROOT, "device-configs", "dev-x64.json"), "--broker", f"mqtt://127.0.0.1:{port}",
            "--fleet", FLEET, "--device-id", DEVICE, "--data-dir", data, "--coordinator-key", key]


def measure(binary, seed, key, port, out, idle, train):
    """One eng/measure-agent.py run on a fresh copy of the seeded data directory."""
    data = os.path.join(out, "run-data")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(seed, data)
    args = [sys.executable, MEASURE, binary, "--runs", "1", "--idle", str(idle)]
    if train:
        args += ["--train", str(port), f"dq/v1/{FLEET}/devices/{DEVICE}/command", os.path.join(data, "fine-tune", "last-run.json")]
    result = subprocess.run([*args, "--", *agent_args(data, key, port)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(runs, builds):
    rows = []
    def row(label, key, scale, unit, kind):
        values = {b: median([r[key] for r in runs if r["build"] == b and r["kind"] == kind]) for b in builds}
        if all(v is None for v in values.values()):
            return
        spread = {b: [r[key] for r in runs if r["build"] == b and r["kind"] == kind] for b in builds}
        cells = [f"{values[b] * scale:.2f} {unit}" if values[b] is not None else "-" for b in builds]
        ratio = f"{values[builds[1]] / values[builds[0]]:.3f}" if values[builds[0]] and values[builds[1]] else "-"
        ranges = "; ".join(f"{b}: {min(v) * scale:.2f}-{max(v) * scale:.2f}" for b, v in spread.items() if v and None not in v)
        rows.append(f"| {label} | {' | '.join(cells)} | {ratio} | {ranges} |")
    row("binary (dq-agent alone)", "binary_bytes", 1e-6, "MB", "short")
    row("exec -> READY=1", "ready_ms", 1, "ms", "short")
    row("exec -> READY=1, start-only runs", "ready_ms", 1, "ms", "ready")
    row("CPU time used by READY=1, start-only runs", "ready_cpu_ms", 1, "ms", "ready")
    row("RSS 10 s after READY", "rss_kib", 1 / 1024, "MiB", "short")
    row("PSS 10 s after READY", "pss_kib", 1 / 1024, "MiB", "short")
    row("RSS 75 s after READY", "rss_kib", 1 / 1024, "MiB", "long")
    row("PSS 75 s after READY", "pss_kib", 1 / 1024, "MiB", "long")
    row("RSS peak during fine-tune", "train_peak_kib", 1 / 1024, "MiB", "short")
    row("RSS 10 s after fine-tune", "after_train_kib", 1 / 1024, "MiB", "short")
    row("fine-tune time", "train_seconds", 1, "s", "short")
    row("threads 10 s after READY", "threads", 1, "", "short")
    header = f"| | {' | '.join(builds)} | {builds[1]}/{builds[0]} | range |\n|---|{'---:|' * len(builds)}---:|---|"
    return header + "\n" + "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="git ref of the 'before' build (default main)")
    parser.add_argument("--base-binary", help="a dq-agent already built for 'before'; skips the worktree and its publish")
    parser.add_argument("--head-binary", help="a dq-agent already built for 'after'; skips this tree's publish")
    parser.add_argument("--rounds", type=int, default=5, help="runs per build with 10 s idle and a fine-tune (default 5)")
    parser.add_argument("--long-rounds", type=int, default=3, help="runs per build with 75 s idle (default 3)")
    parser.add_argument("--ready-rounds", type=int, default=10, help="runs per build that only start and stop the agent (default 10)")
    parser.add_argument("--skip-build", action="store_true", help="prepare the data with the Release builds already there")
    parser.add_argument("--out", default=os.path.join(ROOT, "artifacts", "measure-agent"))
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    before = os.path.abspath(args.base_binary) if args.base_binary else publish(base_tree(args.base, out))
    after = os.path.abspath(args.head_binary) if args.head_binary else publish(ROOT)
    binaries = {"before": before, "after": after}
    port = free_port()
    broker = subprocess.Popen(["mosquitto", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = []
    load = {"start": uptime()}
    try:
        time.sleep(0.5)
        seed, key = prepare_data(out, port, not args.skip_build)
        load["measuring"] = uptime()
        log(f"load: {load['measuring']}")
        plan = [("ready", 1, False)] * args.ready_rounds + [("short", 10, True)] * args.rounds + [("long", 75, False)] * args.long_rounds
        for i, (kind, idle, train) in enumerate(plan):
            order = ["before", "after"] if i % 2 == 0 else ["after", "before"]
            for build in order:
                result = measure(binaries[build], seed, key, port, out, idle, train)
                runs.append({
                    "build": build, "kind": kind, "binary_bytes": result["binary_bytes"],
                    "ready_ms": result["ready_ms_median"], "rss_kib": result["rss_idle_kib_median"],
                    "pss_kib": result["pss_idle_kib_median"], "threads": result["idle_median"].get("Threads"),
                    "ready_cpu_ms": result["idle_median"].get("ReadyCpuMs"),
                    "train_peak_kib": (result["rss_training_peak_kib"] or [None])[0],
                    "train_seconds": (result["training_seconds"] or [None])[0],
                    "after_train_kib": (result["rss_after_training_kib"] or [None])[0],
                    "stopping_seen": result["stopping_seen"], "exit_codes": result["exit_codes"],
                })
                log(f"{kind} {build}: READY {result['ready_ms_median']} ms, RSS {result['rss_idle_kib_median']} kiB")
    finally:
        broker.terminate()
        broker.wait(timeout=10)
    load["end"] = uptime()

    table = summarise(runs, ["before", "after"])
    clean = all(r["stopping_seen"] and r["exit_codes"] == [0] for r in runs)
    summary = (f"before: {before}\nafter: {after}\nload: {load['start']} / {load['measuring']} / {load['end']}\n"
               f"every run saw READY=1 and STOPPING=1 and exited 0: {clean}\n\n{table}\n")
    with open(os.path.join(out, "runs.json"), "w") as f:
        json.dump({"binaries": binaries, "load": load, "runs": runs}, f, indent=2)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(summary)
    print(summary)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
