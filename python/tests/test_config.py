"""Server, token and CA file resolved as the CLI resolves them (src/cli/config.h)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import unittest

from fastgpu import InvalidArgumentError
from fastgpu.config import default_config_path, load_config_file, resolve_config


class ConfigTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fastgpu-sdk-config-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, "config.json")

    def write(self, content: object) -> None:
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))

    def test_default_path_follows_xdg_then_home(self) -> None:
        self.assertEqual(default_config_path({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}),
                         "/x/fastgpu/config.json")
        self.assertEqual(default_config_path({"HOME": "/h"}), "/h/.config/fastgpu/config.json")
        self.assertEqual(default_config_path({"XDG_CONFIG_HOME": "", "HOME": "/h"}),
                         "/h/.config/fastgpu/config.json")

    def test_defaults_without_anything(self) -> None:
        cfg = resolve_config(config_path=self.path, environ={})
        self.assertEqual(cfg.server, "http://127.0.0.1:8080")
        self.assertEqual(cfg.token, "")
        self.assertEqual(cfg.ca_cert, "")

    def test_file_then_environment_then_arguments(self) -> None:
        self.write({"server": "https://file:1", "token": "file-token", "ca_cert": "/file.crt"})
        cfg = resolve_config(config_path=self.path, environ={})
        self.assertEqual((cfg.server, cfg.token, cfg.ca_cert),
                         ("https://file:1", "file-token", "/file.crt"))
        env = {"FASTGPU_SERVER": "env:2", "FASTGPU_TOKEN": "env-token"}
        cfg = resolve_config(config_path=self.path, environ=env)
        # No scheme means plain HTTP; the file's CA stays since the environment has none.
        self.assertEqual((cfg.server, cfg.token, cfg.ca_cert),
                         ("http://env:2", "env-token", "/file.crt"))
        cfg = resolve_config(server="https://arg:3", token="arg-token", ca_cert="/arg.crt",
                             config_path=self.path, environ=env)
        self.assertEqual((cfg.server, cfg.token, cfg.ca_cert),
                         ("https://arg:3", "arg-token", "/arg.crt"))
        # Empty values count as not given, as with the CLI.
        cfg = resolve_config(server="", token="", config_path=self.path,
                             environ={"FASTGPU_TOKEN": ""})
        self.assertEqual((cfg.server, cfg.token), ("https://file:1", "file-token"))

    def test_default_file_location_is_read(self) -> None:
        os.makedirs(os.path.join(self.dir, "fastgpu"))
        with open(os.path.join(self.dir, "fastgpu", "config.json"), "w") as f:
            json.dump({"server": "10.0.0.1:8080", "token": "t"}, f)
        cfg = resolve_config(environ={"XDG_CONFIG_HOME": self.dir})
        self.assertEqual((cfg.server, cfg.token), ("http://10.0.0.1:8080", "t"))

    def test_several_replicas(self) -> None:
        cfg = resolve_config(server="a:1, https://b:2", config_path=self.path, environ={})
        self.assertEqual(cfg.server, "http://a:1,https://b:2")

    def test_malformed_file_names_its_path(self) -> None:
        for content in ("not json", "[1, 2]"):
            self.write(content)
            with self.assertRaisesRegex(InvalidArgumentError, "config.json: not a JSON object"):
                load_config_file(self.path)

    def test_missing_file_and_odd_fields(self) -> None:
        self.assertEqual(load_config_file(os.path.join(self.dir, "absent.json")).token, "")
        self.write({"server": 5, "token": "t", "other": True})
        cfg = load_config_file(self.path)
        self.assertEqual((cfg.server, cfg.token), ("", "t"))


if __name__ == "__main__":
    unittest.main()
