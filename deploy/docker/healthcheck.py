#!/usr/bin/env python3
"""Container health probe for the Chorus image (slim images have no curl).

Usage: chorus-healthcheck [PATH]   (PATH defaults to /healthz)

GETs http://127.0.0.1:${CHORUS_PORT:-8000}PATH and exits 0 on a 2xx answer, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    if not path.startswith("/"):
        path = "/" + path
    port = os.environ.get("CHORUS_PORT", "8000")
    url = f"http://127.0.0.1:{port}{path}"
    timeout = float(os.environ.get("CHORUS_HEALTHCHECK_TIMEOUT", "4"))
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        print(f"unhealthy: {url} answered {exc.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if 200 <= status < 300:
        return 0
    print(f"unhealthy: {url} answered {status}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
