"""The reach calculator: what organic reach a program can earn, with its formula."""
