"""Segmentation runners. ``params`` is torch-free; ``networks`` (the runner) imports torch."""
