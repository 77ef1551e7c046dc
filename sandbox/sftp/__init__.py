"""A real SFTP server on loopback that plays a warehouse over the lw3pl CSV file format (version 1)."""

from sandbox.sftp._clerk import ClerkReport
from sandbox.sftp._server import Faults
from sandbox.sftp.sandbox import SftpSandbox

__all__ = ["ClerkReport", "Faults", "SftpSandbox"]
