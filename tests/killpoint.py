"""Run the kiosk command and SIGKILL it just before its N-th file operation (os.write, fsync,
replace, link, unlink, rmdir, mkdir): a moment picked by progress, not by the clock, so a test
can kill a restore at any point of it, the commit included, on a fast machine or a slow one.
With N = 0 it runs to its end and prints how many operations it made (on stderr, last line).

    python tests/killpoint.py N import --from ... --replace --yes --data ...
"""

import atexit
import os
import signal
import sys

limit = int(sys.argv[1])
count = 0


def counting(operation):
    def counted(*args, **kwargs):
        global count
        count += 1
        if count == limit:
            os.kill(os.getpid(), signal.SIGKILL)
        return operation(*args, **kwargs)

    return counted


for name in ("write", "fsync", "replace", "link", "unlink", "rmdir", "mkdir"):
    setattr(os, name, counting(getattr(os, name)))
if limit == 0:
    atexit.register(lambda: print(f"\n{count}", file=sys.stderr))

from kiosk.cli import main  # noqa: E402  (after the counting is in place)

main(sys.argv[2:])
