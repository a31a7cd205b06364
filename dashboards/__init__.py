"""Web dashboard and HTTP/WebSocket API (aiohttp)."""
from .auth import InsecureBindError
from .server import DashboardServer

__all__ = ["DashboardServer", "InsecureBindError"]
