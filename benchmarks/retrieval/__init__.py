"""`task2box bench retrieval`: what a user reads, scored on real label sets."""
