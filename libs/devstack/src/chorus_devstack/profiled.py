"""`python -m chorus_devstack.profiled OUT MODULE:APP HOST PORT`: a service under cProfile.

`python -m cProfile -m uvicorn` writes nothing when the service is stopped: uvicorn
re-raises SIGTERM after its graceful shutdown and the process dies before cProfile's
own clean-up. Here the profile is written by the SIGTERM handler uvicorn restores.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
from types import FrameType

import uvicorn


def main() -> None:
    out, app, host, port = sys.argv[1:5]
    profile = cProfile.Profile()

    def dump(_signum: int | None = None, _frame: FrameType | None = None) -> None:
        profile.disable()
        profile.dump_stats(out)
        os._exit(0)

    signal.signal(signal.SIGTERM, dump)
    profile.enable()
    uvicorn.run(app, host=host, port=int(port), log_level="warning")
    dump()


if __name__ == "__main__":
    main()
