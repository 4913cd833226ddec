"""Executes the notebooks in this folder (CI): fails if any cell raises.

Usage: python3 notebooks/execute.py  (with MESHSIM pointing at a release build)
"""
import pathlib
import sys

import nbformat
from nbclient import NotebookClient

here = pathlib.Path(__file__).resolve().parent
for path in sorted(here.glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(here)}}).execute()
    print(f"{path.name}: every cell ran")
sys.exit(0)
