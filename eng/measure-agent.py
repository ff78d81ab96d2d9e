#!/usr/bin/env python3
"""Measures a dq-agent binary as systemd would see it: time from exec to READY=1 on a NOTIFY_SOCKET this script
opens, RSS once idle, and that SIGTERM brings STOPPING=1 and exit 0. Runs it N times and prints medians.

    eng/measure-agent.py BINARY [--runs N] [--idle SECONDS] [--rss-while-training] -- AGENT ARGS...
"""
import argparse, os, signal, socket, statistics, subprocess, sys, time, json


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def one_run(binary, agent_args, idle):
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
    ready_ms = None
    try:
        while ready_ms is None:
            message = sock.recv(4096).decode()
            if "READY=1" in message:
                ready_ms = (time.monotonic() - started) * 1000
        time.sleep(idle)
        rss = rss_kib(proc.pid)
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
    return ready_ms, rss, stopping, code


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=3.0)
    argv = sys.argv[1:]
    agent_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    args = parser.parse_args(argv)
    args.agent_args = agent_args
    results = [one_run(args.binary, args.agent_args, args.idle) for _ in range(args.runs)]
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
        "stopping_seen": all(r[2] for r in results),
        "exit_codes": [r[3] for r in results],
    }, indent=2))


if __name__ == "__main__":
    sys.exit(main())
