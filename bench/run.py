"""`make bench`: the platform benchmark (bench/platform_bench.py), arguments passed on.

The per-component benchmarks (backbone, content, sharing, metrics, rewards, gateway)
run on their own; bench/README.md lists them.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    script = Path(__file__).with_name("platform_bench.py")
    sys.argv = [str(script), *sys.argv[1:]]
    runpy.run_path(str(script), run_name="__main__")
