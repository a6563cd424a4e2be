"""`make demo`: the full audit demo on an embedded local control plane."""

import sys

from gitops_nb.localcluster.demo import main

if __name__ == "__main__":
    sys.exit(main())
