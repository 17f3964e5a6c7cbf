#!/bin/sh
# Entrypoint of the Chorus image (deploy/Dockerfile).
#
#   serve [uvicorn options...]   (the default) run chorus_${CHORUS_SERVICE}.app:app with uvicorn
#   anything else                executed as given, e.g. `python -m chorus_content.some_command`
#
# Environment:
#   CHORUS_SERVICE  which service this container is: content, sharing, metrics, rewards or gateway
#   CHORUS_HOST     listen address (default 0.0.0.0)
#   CHORUS_PORT     listen port (default 8000)
#   UVICORN_*       further uvicorn settings (uvicorn reads them itself, e.g. UVICORN_WORKERS)
set -eu

KNOWN_SERVICES="content sharing metrics rewards gateway"

if [ "$#" -gt 0 ] && [ "$1" != "serve" ]; then
    exec "$@"
fi
if [ "$#" -gt 0 ]; then
    shift
fi

service="${CHORUS_SERVICE:-}"
if [ -z "$service" ]; then
    echo "chorus-entrypoint: CHORUS_SERVICE is not set (expected one of: $KNOWN_SERVICES)" >&2
    exit 64
fi
case " $KNOWN_SERVICES " in
    *" $service "*) ;;
    *)
        echo "chorus-entrypoint: unknown CHORUS_SERVICE '$service' (expected one of: $KNOWN_SERVICES)" >&2
        exit 64
        ;;
esac

exec uvicorn "chorus_${service}.app:app" \
    --host "${CHORUS_HOST:-0.0.0.0}" \
    --port "${CHORUS_PORT:-8000}" \
    "$@"
