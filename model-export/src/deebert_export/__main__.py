"""``python -m deebert_export``: see :mod:`deebert_export.cli`."""
import sys

from .cli import main

sys.exit(main())
