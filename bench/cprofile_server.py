"""Run ``jupyter-core-server`` with cProfile switched on and off by signals (for profile_kernel.py).

    python bench/cprofile_server.py OUT.pstats [server arguments...]

SIGUSR1 starts profiling the main (event loop) thread; SIGUSR2 stops it and writes
``OUT.pstats``. Nothing is profiled before SIGUSR1, so start-up does not pollute the profile.
"""

from __future__ import annotations

import cProfile
import signal
import sys


def main() -> None:
    out = sys.argv[1]
    prof = cProfile.Profile()

    def start(signum: int, frame: object) -> None:
        prof.enable()

    def stop(signum: int, frame: object) -> None:
        prof.disable()
        prof.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    from jupyter_core_server.cli import main as server_main

    server_main(sys.argv[2:])


if __name__ == "__main__":
    main()
