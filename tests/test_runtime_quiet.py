"""runtime/quiet.py: native output kept off the terminal, and the process's descriptors left as they were."""

from __future__ import annotations

import os
import sys


def test_threads_silencing_at_once_leave_the_descriptors_as_they_were():
    """Each thread's first prediction builds its interpreter silenced: overlapping blocks must not restore
    each other's /dev/null copies (the process then lost all output)."""
    import threading
    import time

    from runtime.quiet import native_output_silenced

    def target(fd: int) -> str:
        return os.path.realpath(f"/proc/self/fd/{fd}")

    before = (target(1), target(2), sys.stdout, sys.stderr)
    start = threading.Barrier(8)

    def work(k: int):
        start.wait()
        for _ in range(5):
            with native_output_silenced(True):
                time.sleep(0.002 * (k % 3))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (target(1), target(2), sys.stdout, sys.stderr) == before
