#!/usr/bin/env python3
"""Measures a dq-agent binary as systemd would see it: time from exec to READY=1 on a NOTIFY_SOCKET this script
opens, RSS once idle, and that SIGTERM brings STOPPING=1 and exit 0. Runs it N times and prints medians.
idle_median splits the idle RSS into anonymous and file-backed pages (kiB) and counts threads; pss_idle_kib is the
proportional set size at the same moment (shared library pages divided among the processes that map them, the
better measure on a board where other programs use libc and OpenSSL too); DQ_MEASURE_SMAPS=FILE keeps
/proc/PID/smaps of the last run. With --train PORT TOPIC REPORT it then publishes a fine-tune command
(mosquitto_pub to 127.0.0.1:PORT) and samples RSS every 50 ms until the REPORT file is rewritten: the peak is the
RSS while training; RSS is read again once the agent has been idle for --idle seconds after the run.
idle_median.ReadyCpuMs is the CPU time (user + system) the agent had used when READY=1 arrived: unlike the wall
time, it hardly grows when other processes load the machine (resolution: one clock tick, 10 ms).

    eng/measure-agent.py BINARY [--runs N] [--idle SECONDS] [--train PORT TOPIC REPORT] -- AGENT ARGS...
"""
import argparse, os, signal, socket, statistics, subprocess, sys, time, json


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def memory_breakdown(pid):
    """VmRSS split as the kernel counts it (anonymous vs file-backed pages), and the thread count."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("RssAnon", "RssFile", "RssShmem", "Threads"):
                fields[name] = int(value.split()[0])
    return fields


def cpu_ms(pid):
    """User + system CPU time the process has used so far (/proc/PID/stat, clock ticks)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return None


def train_peak(pid, train, settle):
    port, topic, report = train
    before = os.path.getmtime(report) if os.path.exists(report) else None
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-V", "mqttv5", "-q", "1", "-t", topic, "-m", "fine-tune"], check=True)
    peak, started = 0, time.monotonic()
    while time.monotonic() - started < 600:
        peak = max(peak, rss_kib(pid) or 0)
        if os.path.exists(report) and os.path.getmtime(report) != before:
            seconds = round(time.monotonic() - started, 1)
            time.sleep(settle)
            return peak, seconds, rss_kib(pid)
        time.sleep(0.05)
    return peak, None, None


def one_run(binary, agent_args, idle, train=None):
    name = f"dq-measure-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    env = dict(os.environ, NOTIFY_SOCKET="@" + name)
    for key in ("WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM"):
        env.pop(key, None)
    log = open(os.devnull, "w") if not os.environ.get("DQ_MEASURE_LOG") else open(os.environ["DQ_MEASURE_LOG"], "a")
    started = time.monotonic()
    proc = subprocess.Popen([binary, *agent_args], env=env, stdout=log, stderr=log)
    sock.settimeout(30)
    ready_ms, ready_cpu_ms = None, None
    try:
        while ready_ms is None:
            message = sock.recv(4096).decode()
            if "READY=1" in message:
                ready_ms = (time.monotonic() - started) * 1000
                ready_cpu_ms = cpu_ms(proc.pid)
        time.sleep(idle)
        rss = rss_kib(proc.pid)
        breakdown = memory_breakdown(proc.pid)
        breakdown["Pss"] = pss_kib(proc.pid)
        if os.environ.get("DQ_MEASURE_SMAPS"):
            with open(f"/proc/{proc.pid}/smaps") as smaps, open(os.environ["DQ_MEASURE_SMAPS"], "w") as out:
                out.write(smaps.read())
        training = train_peak(proc.pid, train, idle) if train else None
        proc.send_signal(signal.SIGTERM)
        stopping = False
        deadline = time.monotonic() + 20
        while not stopping and time.monotonic() < deadline:
            try:
                stopping = "STOPPING=1" in sock.recv(4096).decode()
            except socket.timeout:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    breakdown["ReadyCpuMs"] = ready_cpu_ms
    return ready_ms, rss, stopping, code, training, breakdown


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--train", nargs=3, metavar=("PORT", "TOPIC", "REPORT"))
    argv = sys.argv[1:]
    agent_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    args = parser.parse_args(argv)
    args.agent_args = agent_args
    results = [one_run(args.binary, args.agent_args, args.idle, args.train) for _ in range(args.runs)]
    ready = [r[0] for r in results]
    rss = [r[1] for r in results]
    print(json.dumps({
        "binary": args.binary,
        "binary_bytes": os.path.getsize(args.binary),
        "runs": args.runs,
        "ready_ms_median": round(statistics.median(ready), 1),
        "ready_ms_all": [round(x, 1) for x in ready],
        "rss_idle_kib_median": statistics.median(rss),
        "rss_idle_kib_all": rss,
        "pss_idle_kib_median": statistics.median(r[5]["Pss"] for r in results),
        "idle_median": {key: statistics.median(r[5][key] for r in results) for key in results[0][5]},
        "stopping_seen": all(r[2] for r in results),
        "exit_codes": [r[3] for r in results],
        "rss_training_peak_kib": [r[4][0] for r in results] if args.train else None,
        "training_seconds": [r[4][1] for r in results] if args.train else None,
        "rss_after_training_kib": [r[4][2] for r in results] if args.train else None,
    }, indent=2))


if __name__ == "__main__":
    sys.exit(main())
