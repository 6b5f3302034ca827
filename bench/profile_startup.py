"""Where cold start goes: ``python -X importtime`` of a server until its first 200, summed by package.

    python bench/profile_startup.py                       # ours
    python bench/profile_startup.py --jupyter-server      # also jupyter_server (bench venv)

Starts the server as the startup benchmark does (fresh temporary directory, token, spawn ->
first 200 on ``/api/kernelspecs``), with ``-X importtime``, ``--repeat`` times after one
untimed launch, then prints for the median launch: the time to the first 200, the time
spent importing (the sum of top-level imports' cumulative times), and the import time by
top-level package (self time summed over its modules). The rest is interpreter start-up,
configuration, plugin discovery and binding the socket.
"""

from __future__ import annotations

import argparse
import collections
import re
import statistics
import sys

from servers import JUPYTER_SERVER, OURS, ServerProcess, ServerSpec, make_specs, our_command

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def importtime_spec(spec: ServerSpec, python: str) -> ServerSpec:
    """The same server started as ``python -X importtime -m <module>``."""
    base = spec.command
    if spec.name == OURS:
        skip = len(our_command())
        module = "jupyter_core_server"
    else:
        skip = 2  # "<venv>/bin/jupyter server" or "<python> -m jupyter_server" minus the flags
        module = "jupyter_server"
        if base(0, "")[1] == "-m":
            skip = 3

    def command(port: int, token: str) -> list[str]:
        return [python, "-X", "importtime", "-m", module, *base(port, token)[skip:]]

    return ServerSpec(
        name=spec.name, command=command, env=spec.env, version=spec.version, python=python, ready_paths=spec.ready_paths
    )


def parse(log: str) -> tuple[float, dict[str, float]]:
    """(total import ms, self ms by top-level package) from an importtime log."""
    total = 0.0
    by_pkg: collections.Counter[str] = collections.Counter()
    for line in log.splitlines():
        m = LINE.search(line)
        if not m:
            continue
        self_us, cum_us, indent, name = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        by_pkg[name.split(".")[0]] += self_us / 1000
        if len(indent) == 1:  # a top-level import: its cumulative time counts once
            total += cum_us / 1000
    return total, dict(by_pkg)


def launch(spec: ServerSpec) -> tuple[float, float, dict[str, float]]:
    server = ServerProcess(spec)
    try:
        server.start()
        seconds = server.wait_ready(timeout=120)
        total, by_pkg = parse(server.log_path.read_text(errors="replace"))  # written before the first 200
        return seconds * 1000, total, by_pkg
    finally:
        server.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jupyter-server", action="store_true", help="profile jupyter_server too")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args()
    names = [OURS, JUPYTER_SERVER] if args.jupyter_server else [OURS]
    specs = make_specs(names)
    for name in names:
        python = sys.executable if name == OURS else specs[name].python
        spec = importtime_spec(specs[name], python)
        launch(spec)  # warm the disk cache
        runs = sorted((launch(spec) for _ in range(args.repeat)), key=lambda r: r[0])
        ready_ms, import_ms, by_pkg = runs[len(runs) // 2]
        print(f"# {name}: spawn -> first 200 {ready_ms:.0f} ms (median of {args.repeat}, with -X importtime)")
        print(f"  imports {import_ms:.0f} ms ({import_ms / ready_ms:.0%}); the rest {ready_ms - import_ms:.0f} ms")
        print(f"  runs: {', '.join(f'{r[0]:.0f}' for r in runs)} ms; import time by package (self, ms):")
        for pkg, ms in sorted(by_pkg.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"    {ms:7.1f}  {pkg}")
        print(f"  median over runs of the import share: {statistics.median(r[1] / r[0] for r in runs):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
