"""Tests of the fastgpu package (unittest, standard library only)."""
