"""virtbook.figures: every figure of the book, in one place, drawn from the cores' results.

The layers of the package, and which may import which (``tests/test_layers.py`` checks it):

* **cores** (``virtbook.cpu``, ``virtbook.memory``, ``virtbook.consolidation``, ...): models,
  numpy and the standard library only; never matplotlib, ipywidgets, figures or widgets;
* **figures** (this package): matplotlib drawings of what the cores compute; they import cores
  and each other, never ipywidgets or widgets;
* **widgets** (:mod:`virtbook.widgets`): ipywidgets controls over a core and a figure, one idiom
  for all (:class:`virtbook.widgets.common.Demo`);
* **labs** (:mod:`virtbook.labs`): libvirt scaffolding; they may draw with figures, never import
  widgets.

What is here:

* :mod:`~virtbook.figures.style` - the book's look: palette, hatches, markers, dash styles,
  :func:`~virtbook.figures.style.figure` and :func:`~virtbook.figures.style.glue_figure`;
* :mod:`~virtbook.figures.dashboard` - the blitting base class of the two demo dashboards and its
  PNG encoding; :mod:`~virtbook.figures.sweep` - deterministic PNG bytes of a figure and the
  kernel-free parameter sweep of the HTML book;
* one module per subject: :mod:`~virtbook.figures.cpu` (chapter 5, lab L5),
  :mod:`~virtbook.figures.memory` (chapter 6, lab L6), :mod:`~virtbook.figures.hierarchy`
  (chapter 1), :mod:`~virtbook.figures.vmconfig` (chapter 2),
  :mod:`~virtbook.figures.consolidation` (chapter 3), :mod:`~virtbook.figures.diagrams`
  (architecture diagrams of chapters 7 and 8), :mod:`~virtbook.figures.cloudcost` (chapter 10),
  :mod:`~virtbook.figures.servicestack` (chapters 11 and 13), :mod:`~virtbook.figures.labs`
  (the labs, from plain data their cells read with libvirt) and
  :mod:`~virtbook.figures.instructor` (the instructor guide).

Import a module of this package, not the package: ``from virtbook.figures import style``.
"""
