"""The transfer benchmark: Task2Box against baselines on measured task-transfer affinities."""
