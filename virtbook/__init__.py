"""virtbook: the library behind the executable textbook on virtualization and cloud computing.

The notebooks import from here so that each chapter shows ideas, not plumbing. The package has
one direction of dependency: notebooks -> ``virtbook.widgets`` -> the pure cores
(``virtbook.cpu``, ``virtbook.memory``, ...). A core never imports matplotlib or ipywidgets.
"""

__version__ = "0.1.0"
