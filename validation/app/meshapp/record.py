"""Records the application's traces: start everything, send the load, stop everything.

In order: epmd and RabbitMQ (Debian's rabbitmq-server, its own node, data and
config in a temporary directory), the local trace collector, the eight
services, then the load generator; then the services are stopped (SIGTERM, so
their exporters flush), then the collector, RabbitMQ and epmd. Everything
listens on 127.0.0.1, on ports free at start; everything started is stopped by
its process-group id, also on an error or a signal. Finally the OTLP lines of
all services are merged into one file and the Zipkin and Jaeger files are
written (convert.py), each gzip-compressed.

    python -m meshapp.record --dest tests/data/traces [--rate 50] [--duration 60]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .convert import write_text
from .topology import TOPOLOGY, load, split_target

RABBITMQ = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # not /usr/sbin's wrapper: it switches user


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, ok, timeout_s, procs):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ok():
            return
        dead = [name for name, p in procs.items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"exited early: {', '.join(dead)} (logs in the work directory)")
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not ready after {timeout_s} s")


def port_open(port) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def prioritise(pid: int, nice: int):
    """Gives a process started in its own session a scheduling priority.

    Linux with sched_autogroup shares the CPU between sessions first, so a
    process's own nice value only counts against its session; the session's
    weight is its autogroup's nice value (/proc/PID/autogroup, sched(7)).
    """
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError as e:
        print(f"record: could not set priority {nice} of {pid}: {e}", file=sys.stderr)


class Processes:
    """What this script started, by name, each in its own process group."""

    def __init__(self, logs: Path, nice: int = 0):
        self.logs, self.procs, self.nice = logs, {}, nice

    def start(self, name, argv, env=None):
        log = open(self.logs / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,
        )
        if self.nice:
            prioritise(self.procs[name].pid, self.nice)
        return self.procs[name]

    def stop(self, names, timeout_s=30):
        """SIGTERM each group, wait, then SIGKILL what is left."""
        for n in names:
            p = self.procs.get(n)
            if p and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for n in names:
            p = self.procs.get(n)
            if not p:
                continue
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"record: {n} did not stop in {timeout_s} s; killing", file=sys.stderr)
            try:
                os.killpg(p.pid, signal.SIGKILL)  # the group: rabbitmq-server's beam and helpers
            except ProcessLookupError:
                pass
            p.wait()

    def stop_all(self):
        self.stop(list(reversed(self.procs)), timeout_s=10)


def start_rabbitmq(procs: Processes, work: Path):
    """An own RabbitMQ node and epmd on free loopback ports; returns the AMQP URL."""
    amqp, dist, epmd = free_port(), free_port(), free_port()
    home = work / "rabbitmq"
    home.mkdir()
    (home / "enabled_plugins").write_text("[].\n")
    (home / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{amqp}\nloopback_users = none\n"
    )
    env = dict(os.environ, HOME=str(home), ERL_EPMD_PORT=str(epmd), ERL_EPMD_ADDRESS="127.0.0.1")
    procs.start("epmd", ["epmd", "-address", "127.0.0.1", "-port", str(epmd)], env)
    wait_until("epmd", lambda: port_open(epmd), 20, procs.procs)
    env.update(
        RABBITMQ_NODENAME=f"meshapp{os.getpid()}@localhost",
        RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
        RABBITMQ_NODE_PORT=str(amqp),
        RABBITMQ_DIST_PORT=str(dist),
        RABBITMQ_MNESIA_BASE=str(home / "mnesia"),
        RABBITMQ_LOG_BASE=str(home / "log"),
        RABBITMQ_CONFIG_FILE=str(home / "rabbitmq"),
        RABBITMQ_ENABLED_PLUGINS_FILE=str(home / "enabled_plugins"),
        RABBITMQ_PID_FILE=str(home / "pid"),
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
    )
    t0 = time.monotonic()
    procs.start("rabbitmq", [RABBITMQ], env)
    wait_until("rabbitmq", lambda: port_open(amqp), 180, procs.procs)
    print(f"record: rabbitmq up on 127.0.0.1:{amqp} in {time.monotonic() - t0:.0f} s")
    return f"amqp://guest:guest@127.0.0.1:{amqp}/"


def record(args):
    topo = load(args.topology)
    work = Path(tempfile.mkdtemp(prefix="meshapp-"))
    procs = Processes(work, args.nice)
    services = topo.services
    try:
        amqp = start_rabbitmq(procs, work)
        collector_port = free_port()
        py = sys.executable
        procs.start("collector", [py, "-m", "meshapp.collector", "--port", str(collector_port),
                                  "--out", str(work)])
        wait_until("collector", lambda: port_open(collector_port), 20, procs.procs)
        ports = {name: free_port() for name in services}
        for name in services:
            procs.start(name, [py, "-m", "meshapp.service", "--name", name, "--ports",
                               json.dumps(ports), "--amqp", amqp, "--out", str(work),
                               "--collector", f"http://127.0.0.1:{collector_port}",
                               "--topology", str(args.topology)])
        wait_until("services", lambda: all((work / f"{n}.ready").exists() for n in services),
                   60, procs.procs)
        entry_service, _, entry_path = split_target(topo.entry)
        url = f"http://127.0.0.1:{ports[entry_service]}{entry_path}"
        print(f"record: {len(services)} services up; {args.rate}/s for {args.duration} s to {url}")
        load_proc = procs.start("loadgen", [py, "-m", "meshapp.loadgen", "--url", url,
                                            "--rate", str(args.rate), "--duration",
                                            str(args.duration), "--seed", str(topo.seed),
                                            "--out", str(work / "requests.csv")])
        load_proc.wait(timeout=args.duration + 60)
        print((work / "loadgen.log").read_text().strip())
        if load_proc.returncode != 0:
            raise RuntimeError("the load generator failed (loadgen.log)")
        time.sleep(3)  # the last messages reach their consumers
        procs.stop(services, timeout_s=300)  # each exports its spans, then exits
        procs.stop(["collector", "rabbitmq", "epmd"])
        write_outputs(work, args.dest, services)
    finally:
        procs.stop_all()
        if args.keep:
            print(f"record: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def write_outputs(work: Path, dest: Path, services):
    """otlp.jsonl.gz (every service's lines, service by service), zipkin.json.gz,
    jaeger.json.gz and the load generator's requests.csv."""
    dest.mkdir(parents=True, exist_ok=True)
    lines = "".join((work / f"otlp-{name}.jsonl").read_text() for name in services)
    write_text(dest / "otlp.jsonl.gz", lines)
    shutil.copy(work / "requests.csv", dest / "requests.csv")
    subprocess.run([sys.executable, "-m", "meshapp.convert", "--work", str(work),
                    "--zipkin", str(dest / "zipkin.json.gz"),
                    "--jaeger", str(dest / "jaeger.json.gz")], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", type=Path, required=True)
    ap.add_argument("--topology", type=Path, default=TOPOLOGY)
    ap.add_argument("--rate", type=float)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--keep", action="store_true", help="keep the work directory and its logs")
    ap.add_argument("--nice", type=int, default=0,
                    help="scheduling priority of everything started, -20..19 (below 0 needs root): "
                         "on a machine busy with other work, -15 keeps that work from "
                         "inflating the recorded durations")
    args = ap.parse_args()
    workload = load(args.topology).raw["workload"]
    args.rate = args.rate or workload["rate_per_s"]
    args.duration = args.duration or workload["duration_s"]
    # A signal ends the run through the finally above, which stops everything.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    record(args)


if __name__ == "__main__":
    main()
