"""``python -m gitops_nb.cli``."""

import sys

from gitops_nb.cli.main import main

sys.exit(main())
