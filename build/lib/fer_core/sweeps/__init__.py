"""Hyperparameter sweeps, ablations and architecture searches on Optuna."""
