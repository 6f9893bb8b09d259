"""A local stand-in for the Hugging Face Hub (placeholder docstring, completed below)."""

from hub_emulator.blobs import SyntheticContent, synthetic
from hub_emulator.reqlog import RequestRecord
from hub_emulator.server import HubEmulator, HubEmulatorError

__all__ = ["HubEmulator", "HubEmulatorError", "RequestRecord", "SyntheticContent", "synthetic"]
