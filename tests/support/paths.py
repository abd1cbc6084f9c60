"""Where things are, computed once: a test module that moves to another folder keeps finding them."""

from __future__ import annotations

import os
from pathlib import Path

#: the checkout (the folder holding gateway/, tests/, config/, examples/)
ROOT = Path(__file__).resolve().parents[2]
#: the tests' data files
FIXTURES = ROOT / "tests" / "fixtures"


def shared_reference() -> Path:
    """The official schemas and samples: $GATEWAY_SHARED_DIR/reference, or the checkout's ../shared/reference."""
    shared = os.environ.get("GATEWAY_SHARED_DIR")
    base = Path(shared).expanduser() if shared else ROOT.parent / "shared"
    return base / "reference"
