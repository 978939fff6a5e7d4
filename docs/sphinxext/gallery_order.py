"""Order of the examples in the gallery: the quick start first, then by name.

Sphinx-Gallery takes the sort key by its fully qualified name (a string keeps
the Sphinx configuration picklable), so it lives in this importable module.
"""

#: Examples shown first, in this order; every other example follows by name.
FIRST = (
    "plot_hht_quickstart.py",
    "plot_method1_real_data.py",
    "plot_method2_checkpoints.py",
    "plot_compare_methods.py",
)


class ExampleOrder:
    """Sort key of the example files of one gallery folder.

    Parameters
    ----------
    src_dir : str
        Folder of the examples (unused, required by Sphinx-Gallery).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in FIRST:
            return (0, FIRST.index(filename), filename)
        return (1, 0, filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
