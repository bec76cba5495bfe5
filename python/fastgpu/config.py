"""Which control plane to talk to and with which token, resolved as the CLI does.

Precedence, for each of the server, the token and the CA file: the argument given to
:class:`fastgpu.Client`, then the environment (``FASTGPU_SERVER``, ``FASTGPU_TOKEN``,
``FASTGPU_CA_CERT``), then the config file that ``fastgpu login`` writes
(``$XDG_CONFIG_HOME/fastgpu/config.json``, else ``~/.config/fastgpu/config.json``; a JSON
object ``{"server": URL, "token": TOKEN, "ca_cert": PEM FILE}``). The server defaults
to ``http://127.0.0.1:8080``; an address without a scheme (``127.0.0.1:8080``) means
``http://``. Several control-plane replicas may be given comma-separated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Mapping, Optional

from .errors import InvalidArgumentError

DEFAULT_SERVER = "http://127.0.0.1:8080"


@dataclass
class ClientConfig:
    """A resolved configuration.

    Attributes:
        server: base URL(s), comma-separated for several replicas, each with a scheme.
        token: the API token; "" when none is known (calls then answer 401).
        ca_cert: a PEM file of the CA an https server must chain to; "" for the system
            store. Ignored for http URLs.
    """

    server: str = DEFAULT_SERVER
    token: str = ""
    ca_cert: str = ""


def default_config_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """``$XDG_CONFIG_HOME/fastgpu/config.json``, else ``$HOME/.config/fastgpu/config.json``."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg:
        return os.path.join(xdg, "fastgpu", "config.json")
    home = env.get("HOME", "") or "."
    return os.path.join(home, ".config", "fastgpu", "config.json")


def load_config_file(path: str) -> ClientConfig:
    """Reads a config file. A missing file gives an empty config (not an error).

    Raises:
        InvalidArgumentError: the file is not a JSON object (the message names the path).
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return ClientConfig(server="")
    except IsADirectoryError:
        raise InvalidArgumentError(f"{path}: not a JSON object") from None
    try:
        parsed = json.loads(data.decode("utf-8"))
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidArgumentError(f"{path}: not a JSON object")

    def text(key: str) -> str:
        v = parsed.get(key)
        return v if isinstance(v, str) else ""

    return ClientConfig(server=text("server"), token=text("token"), ca_cert=text("ca_cert"))


def resolve_config(server: Optional[str] = None, token: Optional[str] = None,
                   ca_cert: Optional[str] = None, config_path: Optional[str] = None,
                   environ: Optional[Mapping[str, str]] = None) -> ClientConfig:
    """Arguments over the environment over the config file (see the module comment).

    Empty strings count as not given, as with the CLI's flags and variables.
    """
    env = os.environ if environ is None else environ
    cfg = load_config_file(config_path or default_config_path(env))
    for attr, var in (("server", "FASTGPU_SERVER"), ("token", "FASTGPU_TOKEN"),
                      ("ca_cert", "FASTGPU_CA_CERT")):
        if env.get(var, ""):
            setattr(cfg, attr, env[var])
    if server:
        cfg.server = server
    if token:
        cfg.token = token
    if ca_cert:
        cfg.ca_cert = ca_cert
    if not cfg.server:
        cfg.server = DEFAULT_SERVER
    cfg.server = ",".join(_with_scheme(u.strip()) for u in cfg.server.split(",") if u.strip())
    return cfg


def _with_scheme(url: str) -> str:
    return url if "://" in url else "http://" + url
