"""virtbook.booktools: code that reads the book's own files, for the instructor guide and the tests.

This is no part of the models, figures, widgets or labs that the chapters teach with: it reads
``_toc.yml``, ``_config.yml`` and the pages, and changes nothing. It needs two packages the rest
of the library does not, declared as the ``book`` extra in ``pyproject.toml`` and pinned in
``requirements.txt``: PyYAML and sphinx-external-toc, the parser Jupyter Book 1 itself reads
``_toc.yml`` with (:mod:`virtbook.booktools.toc`).
"""
