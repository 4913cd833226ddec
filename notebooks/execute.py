"""Executes the notebooks in this folder (CI): fails if any cell raises, or if a
cell that plots shows no chart (a student opening the notebook must see each one).

Usage: python3 notebooks/execute.py  (with MESHSIM pointing at a release build)
"""
import pathlib
import re
import sys

import nbformat
from nbclient import NotebookClient

# A cell plots if it draws with pyplot or a pandas/matplotlib .plot().
PLOTS = re.compile(r"\bplt\.|\.plot\(")


def charts_missing(nb):
    """Indices of the code cells that plot but have no image among their outputs."""
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and PLOTS.search(cell.source)
        and not any("image/png" in out.get("data", {}) for out in cell.outputs)
    ]


here = pathlib.Path(__file__).resolve().parent
failed = False
for path in sorted(here.glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(here)}}).execute()
    charts = sum(
        "image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    missing = charts_missing(nb)
    if missing:
        failed = True
        print(f"{path.name}: cells {missing} plot but display no chart", file=sys.stderr)
    else:
        print(f"{path.name}: every cell ran and every chart displayed ({charts} in all)")
sys.exit(1 if failed else 0)
