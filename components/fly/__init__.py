"""Fly.io resources as Pulumi dynamic providers over the Machines REST API.

One module per resource kind (app, ip, volume, machine, secrets) over one HTTP client (api) with its errors,
retries, waits and progress lines.
"""

from .app import App
from .errors import FlyApiError
from .ip import IpAssignment
from .machine import Machine
from .secrets import AppSecrets
from .volume import Volume

__all__ = ["App", "AppSecrets", "FlyApiError", "IpAssignment", "Machine", "Volume"]
