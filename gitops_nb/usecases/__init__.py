"""One library-level use case per verb: ``diff_app``, ``apply_app``, ``reconcile_app``.

Each runs the whole pipeline for one app (fetch → render → engine → record) and returns one
result object. The CLI, the notebooks and the reports call these; nothing above this layer
drives the engine directly.
"""
