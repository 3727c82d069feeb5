"""Load test for issue 12, item 2: does the site stay responsive while hostile lookups run?

Starts the registry as production does (``gunicorn --workers 2``; ``--threads N`` when
given) on a fresh SQLite instance, then for ``--seconds``: 4 clients keep sending a
maximum-size hostile MP3 (178 minutes, ~20 MB, under the 3-hour limit) to
``POST /api/v1/lookup`` while one client fetches the home page every 0.2 s. Prints
the home page's latency percentiles and what the hostile lookups got back.

    .venv/bin/python benchmarks/lookup_load.py [--seconds 60] [--clients 4] [--threads 0]

Target: home page p95 < 1 s. Nothing is downloaded; the MP3 is made with ffmpeg.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"


def hostile_mp3(folder: Path, minutes: int = 178) -> Path:
    one = folder / "one-minute.mp3"
    subprocess.run([
        "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anoisesrc=d=60:c=pink:r=22050",
        "-ac", "1", "-b:a", "16k", "-write_xing", "0", "-id3v2_version", "0", str(one)],
        check=True)
    path = folder / f"hostile-{minutes}min.mp3"
    path.write_bytes(one.read_bytes() * minutes)
    return path


def multipart(path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{path.name}\"\r\nContent-Type: audio/mpeg\r\n\r\n").encode()
    body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def serve(instance: Path, port: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "TAMGA_INSTANCE_PATH": str(instance), "HOST": "127.0.0.1",
           "PORT": str(port), "TAMGA_LOOKUP_LIMIT_EXEMPT": "127.0.0.1"}
    env.pop("TAMGA_DATABASE_URL", None)
    env.pop("DATABASE_URL", None)
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    cmd = [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
           "--timeout", "120"]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.Popen([*cmd, "app:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="gunicorn --threads (0: sync)")
    parser.add_argument("--port", type=int, default=5150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tamga-load-") as tmp:
        folder = Path(tmp)
        body, ctype = multipart(hostile_mp3(folder))
        server = serve(folder / "instance", args.port, args.threads)
        base = f"http://127.0.0.1:{args.port}"
        stop = time.monotonic() + args.seconds
        outcomes: Counter[str] = Counter()
        lookup_times: list[float] = []
        home: list[float] = []
        home_errors: Counter[str] = Counter()

        def attacker() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                request = urllib.request.Request(f"{base}/api/v1/lookup", data=body,
                                                 headers={"Content-Type": ctype})
                try:
                    with urllib.request.urlopen(request, timeout=180) as response:
                        outcomes[str(response.status)] += 1
                except urllib.error.HTTPError as exc:
                    outcomes[str(exc.code)] += 1
                except OSError as exc:
                    outcomes[type(exc).__name__] += 1
                lookup_times.append(time.perf_counter() - started)

        def visitor() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    urllib.request.urlopen(f"{base}/", timeout=60).read()
                    home.append(time.perf_counter() - started)
                except urllib.error.HTTPError as exc:
                    home_errors[str(exc.code)] += 1
                except OSError as exc:
                    home_errors[type(exc).__name__] += 1
                time.sleep(0.2)

        workers = [threading.Thread(target=attacker) for _ in range(args.clients)]
        workers.append(threading.Thread(target=visitor))
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        server.terminate()
        server.wait(timeout=30)
    load = os.getloadavg()
    q = statistics.quantiles(home, n=100) if len(home) >= 2 else [float("nan")] * 99
    print(f"gunicorn --workers 2{' --threads ' + str(args.threads) if args.threads else ''}; "
          f"{args.clients} hostile clients for {args.seconds:.0f} s; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("| measure | value |\n| --- | --- |")
    print(f"| home page requests | {len(home)} (errors: {dict(home_errors) or 'none'}) |")
    print(f"| home page p50 / p95 / max | {q[49]:.3f} s / {q[94]:.3f} s / "
          f"{max(home, default=float('nan')):.3f} s |")
    print(f"| hostile lookups answered | {dict(outcomes)} |")
    if lookup_times:
        print(f"| hostile lookup median time | {statistics.median(lookup_times):.2f} s |")
    print(f"| target: home p95 < 1 s | {'met' if q[94] < 1.0 else 'NOT met'} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
