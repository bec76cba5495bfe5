"""Packaging of the FastGPU Python client (standard library only, no dependencies).

Deliberately a setup.py without a pyproject.toml: pip then builds with the setuptools
(and wheel) already installed instead of downloading them into an isolated build
environment, so ``pip install ./python`` works offline (Debian 12's python3-pip,
python3-setuptools and python3-wheel).
"""

import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))

setup(
    name="fastgpu",
    version="0.1.0",
    description="Python client of the FastGPU GPU pool's REST API",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=["fastgpu"],
    package_data={"fastgpu": ["py.typed"]},
    python_requires=">=3.8",
    install_requires=[],
    license="Proprietary",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Typing :: Typed",
    ],
)
