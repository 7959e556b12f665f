"""Whole models: ``anyinit.initialize``, parameter slots (paths, roles, layouts), presets, and
one walker per framework under ``walkers/``."""
