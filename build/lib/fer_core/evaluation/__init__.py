"""Evaluation of saved runs and ensembles: metrics, statistics, cross-dataset mapping, caching."""
