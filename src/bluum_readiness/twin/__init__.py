"""The embedded sandbox twin: a faithful local emulator of the Bluum sandbox (see docs/sandbox-twin.md)."""

from bluum_readiness.twin.app import create_app
from bluum_readiness.twin.engine import KeyPair, Principal, Twin
from bluum_readiness.twin.server import TwinServer
from bluum_readiness.twin.settings import TwinSettings

__all__ = ["KeyPair", "Principal", "Twin", "TwinServer", "TwinSettings", "create_app"]
