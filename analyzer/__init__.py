"""The LIMA indexer: code facts of a Linux source tree (tree-sitter), then lock facts derived from them.

Modules: ``cli`` (lima-index), ``indexer`` (walk, incremental plan, per-batch transactions),
``workers`` (crash-tolerant parser processes), ``extract`` (one file -> rows, queries in c_facts.scm),
``kernel_annotations`` (kernel tokens blanked before parsing); the ``lock_*`` modules build the lock facts.
"""
