"""The client's units read exactly as the CLI's (the cases of src/model/units_test.cpp)."""

from __future__ import annotations

import unittest

from fastgpu import InvalidArgumentError
from fastgpu.units import format_gpu, parse_cpu_milli, parse_gpu, parse_memory_mib


class UnitsTest(unittest.TestCase):
    def test_gpu_amounts(self) -> None:
        cases = {"0.5": (1, 500), "500m": (1, 500), "2": (2, 1000), "1": (1, 1000),
                 "1000m": (1, 1000), " 0.25 ": (1, 250), "0": (0, 0), ".1": (1, 100)}
        for text, want in cases.items():
            self.assertEqual(parse_gpu(text), want, text)
        self.assertEqual(parse_gpu(0.5), (1, 500))
        self.assertEqual(parse_gpu(2), (2, 1000))
        self.assertEqual(parse_gpu(0.125), (1, 125))

    def test_bad_gpu_amounts(self) -> None:
        for bad in ("", "abc", "-1", "1.5", "0.0001", "1.2.3", "2x", "5000000", "0.5m", 1.5,
                    -1, float("nan"), True):
            with self.assertRaises(InvalidArgumentError, msg=repr(bad)) as ctx:
                parse_gpu(bad)  # type: ignore[arg-type]
            self.assertIsNone(ctx.exception.status)
            self.assertEqual(ctx.exception.code, "INVALID_ARGUMENT")
        with self.assertRaisesRegex(InvalidArgumentError, "whole count"):
            parse_gpu(1.5)

    def test_memory(self) -> None:
        cases = {"40GiB": 40 * 1024, "40Gi": 40 * 1024, "8G": 7630, "8GB": 7630, "1M": 1,
                 "1048.576MB": 1000, "1T": 953675, "512MiB": 512, "1TiB": 1024 * 1024,
                 "1.5GiB": 1536, "2048": 2048, "80gib": 80 * 1024}
        for text, want in cases.items():
            self.assertEqual(parse_memory_mib(text), want, text)
        self.assertEqual(parse_memory_mib(2048), 2048)

    def test_bad_memory(self) -> None:
        for bad in ("", "GiB", "-4GiB", "4KiB", "4K", "4KB", "1.0001GiB", "99999999999TiB",
                    "0.5MiB", "4 XB", "4PB"):
            with self.assertRaises(InvalidArgumentError, msg=bad):
                parse_memory_mib(bad)

    def test_cpu(self) -> None:
        self.assertEqual(parse_cpu_milli("2"), 2000)
        self.assertEqual(parse_cpu_milli(2), 2000)
        self.assertEqual(parse_cpu_milli("500m"), 500)
        self.assertEqual(parse_cpu_milli(0.25), 250)
        for bad in ("-1", "two", "0.0001"):
            with self.assertRaises(InvalidArgumentError, msg=bad):
                parse_cpu_milli(bad)

    def test_format_round_trips(self) -> None:
        for text in ("0.5", "2", "0", "0.25", "0.125", "8"):
            self.assertEqual(format_gpu(*parse_gpu(text)), text)


if __name__ == "__main__":
    unittest.main()
