"""LIMA's answers as SQL: queries/NAME.sql files (mapping views and parameterised queries), the lima-query
command that runs them, their installation as views/macros in the database, and the shared output helper.

    from lima.queries import install_views      # lima-index / lima-trace call it at their end
                                                # (installs when stale, then maps new runs)
    from lima.queries.output import emit        # print rows as table/csv/json/markdown/latex/parquet
"""

from lima.queries.install import install_views, refresh_mappings

__all__ = ["install_views", "refresh_mappings"]
