"""Records stage: where sync-run records are written and read back.

One :class:`~gitops_nb.records.store.RecordStore` interface with two implementations:
ConfigMaps in the app's namespace (the in-cluster default) and a local directory of JSON
files. The reconciler writes through it and the history loader reads through it.
"""
