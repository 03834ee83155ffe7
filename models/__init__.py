"""The Task2Box research core: box math, the box network, losses, the trainer and baselines.

Pure PyTorch and NumPy: nothing here imports the web stack, the database or the environment.
"""
