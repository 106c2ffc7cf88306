from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def write(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (rename), as an operator's editor or `strangler routes set` would."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as handle:
        YAML(typ="safe").dump(data, handle)
    os.replace(tmp, path)
