"""The cost of tailing a log file: CPU per poll, and reading a large file.

Prints a table (it is not a test). ``LogTail`` compares the file's first bytes and the
bytes before its offset at every poll (to know a file rewritten in place), so a poll
of an idle file is a few system calls; the table shows what that costs against the
line work::

    .venv/bin/python benchmarks/log_tail.py              # 20,000 polls, a 64 MiB file
    .venv/bin/python benchmarks/log_tail.py --polls 2000 --mib 8
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

from kizashi.engine.log_tail import LogTail

LINE = b"2026-03-09T10:00:00Z n1 sbatchd[4242]: job 123456 finished with exit code 0\n"


def cpu(run) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=20_000)
    parser.add_argument("--mib", type=int, default=64)
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    try:
        path = os.path.join(folder, "a.log")
        with open(path, "wb") as handle:
            handle.write(LINE * 1000)
        tail = LogTail(path)
        tail.read()
        idle = cpu(lambda: [tail.read() for _ in range(args.polls)]) / args.polls

        def one_line_each() -> None:
            with open(path, "ab") as handle:
                for _ in range(args.polls):
                    handle.write(LINE)
                    handle.flush()
                    tail.read()
        growing = cpu(one_line_each) / args.polls

        big = os.path.join(folder, "big.log")
        with open(big, "wb") as handle:
            handle.write(LINE * (args.mib * (1 << 20) // len(LINE)))
        size = os.path.getsize(big)
        tail = LogTail(big)
        whole = cpu(tail.read)

        shutil.copyfile(big, big + ".1")        # copytruncate, the copy found at once
        with open(big + ".1", "ab") as handle:  # the lines written since the last read
            handle.write(LINE * 100)
        os.truncate(big, 0)
        switch = cpu(tail.read)
        print(f"| case | CPU |\n|---|---|\n"
              f"| poll, nothing new ({args.polls} polls) | {idle * 1e6:.1f} µs |\n"
              f"| poll, one new line | {growing * 1e6:.1f} µs |\n"
              f"| first read of {size / 2**20:.0f} MiB ({size // len(LINE)} lines) | "
              f"{whole:.2f} s ({size / 2**20 / max(whole, 1e-9):.0f} MiB/s) |\n"
              f"| copytruncate: find the copy, read 100 lines from it | "
              f"{switch * 1e3:.1f} ms |")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
