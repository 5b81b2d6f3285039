"""Records which processes take a lock, for tests that prove who writes the search index.

Python imports `sitecustomize` at start-up from the path: a process started with this
directory on PYTHONPATH and INDEX_LOCK_LOG set appends one line per exclusive flock it
takes (Whoosh's writer and rebuild locks are flocks) to that file:
`PID<TAB>LOCKED FILE<TAB>COMMAND LINE`.  Nothing else changes.
"""

import fcntl
import os
import sys

_LOG = os.environ.get("INDEX_LOCK_LOG")

if _LOG:
    _flock = fcntl.flock

    def _recording_flock(fd, operation):  # type: ignore[no-untyped-def]
        _flock(fd, operation)  # a lock that was not taken raises here and is not recorded
        if operation & fcntl.LOCK_EX:
            number = fd if isinstance(fd, int) else fd.fileno()
            path = os.readlink(f"/proc/self/fd/{number}")
            with open(_LOG, "a") as log:
                log.write(f"{os.getpid()}\t{path}\t{' '.join(sys.argv)}\n")

    fcntl.flock = _recording_flock
