"""`python -m chorus_gateway bootstrap-tenant ...` (see `chorus_gateway.bootstrap`)."""

from chorus_gateway.bootstrap import main

raise SystemExit(main())
