"""One server start for benchmarks/runtime-compare.sh, timed from this process so that no interpreter or
shell start-up falls inside the figure: spawns the command, polls PING every millisecond until PONG
(spawn-to-PONG seconds, and the server's CPU seconds by then: the figure a busy machine distorts
least), reads DBSIZE, waits a second and reads the RSS; with --bench it then runs
100,000 SET and 100,000 GET (redis-benchmark -P 16 -r 100000) and reads the RSS and the CPU time again.
SIGTERM ends the server. Prints one JSON line.
Usage: runtime_probe.py PORT LOGFILE [--bench] -- COMMAND...
"""
import json
import os
import socket
import subprocess
import sys
import time


def call(sock, *args):
    sock.sendall(b"".join([b"*%d\r\n" % len(args)] + [b"$%d\r\n%s\r\n" % (len(a), a) for a in args]))
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        reply += chunk
    return reply


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def cpu_seconds(pid, with_children=False):
    """The process's user + system CPU seconds (from /proc), and with_children its reaped children's too
    (Redis's fork child, once it ended). Other probes import it from here."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in ((11, 12, 13, 14) if with_children else (11, 12))) / os.sysconf("SC_CLK_TCK")


def main():
    port, log = int(sys.argv[1]), sys.argv[2]
    bench = "--bench" in sys.argv
    command = sys.argv[sys.argv.index("--") + 1:]
    result = {}
    with open(log, "wb") as out:
        start = time.perf_counter()
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        while True:
            if server.poll() is not None:
                print(json.dumps({"error": f"server exited with {server.returncode}"}))
                return
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
                    if call(sock, b"PING") == b"+PONG\r\n":
                        result["pong_s"] = round(time.perf_counter() - start, 4)
                        result["pong_cpu_s"] = cpu_seconds(server.pid)
                        result["keys"] = int(call(sock, b"DBSIZE")[1:])
                        break
            except (OSError, ConnectionError):
                pass
            time.sleep(0.001)
        time.sleep(1)
        result["rss_kb"] = rss_kb(server.pid)
        if bench:
            subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-n", "100000", "-t", "set,get",
                            "-P", "16", "-r", "100000", "-q"], stdout=subprocess.DEVNULL, check=True)
            time.sleep(1)
            result["rss_after_kb"] = rss_kb(server.pid)
            result["cpu_s"] = cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
