"""virtbook: the library behind the executable textbook on virtualization and cloud computing.

The notebooks import from here so that each chapter shows ideas, not plumbing. The package has
one direction of dependency: notebooks -> ``virtbook.widgets`` -> ``virtbook.figures`` -> the pure
cores (``virtbook.cpu``, ``virtbook.memory``, ...); ``virtbook.labs`` (libvirt) may draw with
figures but never imports widgets. A core never imports matplotlib, ipywidgets, figures or
widgets; ``tests/test_layers.py`` checks the rule and that no import cycle appears.
"""

__version__ = "0.1.0"
