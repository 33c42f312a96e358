"""One module per command group. Each defines ``ORDER`` (position in --help) and
``register(subparsers)``, which adds its sub-commands with ``set_defaults(run=...)``.
A ``run(args, ctx)`` function returns an exit code and raises GeotaggerError for user-facing failures.
"""
