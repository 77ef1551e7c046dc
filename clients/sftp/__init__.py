"""CSV files over SFTP: the generic warehouse file exchange (format version 1, see ``docs/adapters.md``)."""

from clients.sftp._session import SftpConfig
from clients.sftp.adapter import SftpAdapter

__all__ = ["SftpAdapter", "SftpConfig"]
