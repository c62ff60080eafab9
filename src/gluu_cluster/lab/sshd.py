"""A real OpenSSH sshd per lab node, started inside the node's mount namespace."""

from __future__ import annotations

from .keys import SSHKeyPair, ssh_keypair
from .layout import LabNode


def write_sshd_files(node: LabNode, client_public_line: str, port: int) -> SSHKeyPair:
    node.ssh_dir.mkdir(parents=True, exist_ok=True)
    node.ssh_dir.chmod(0o700)
    host_key = ssh_keypair(f"root@{node.name}")
    key_file = node.ssh_dir / "ssh_host_ed25519_key"
    key_file.write_bytes(host_key.private_openssh)
    key_file.chmod(0o600)
    (node.ssh_dir / "ssh_host_ed25519_key.pub").write_text(host_key.public_line + "\n")
    authorized = node.ssh_dir / "authorized_keys"
    authorized.write_text(client_public_line + "\n")
    authorized.chmod(0o600)
    (node.ssh_dir / "sshd_config").write_text(sshd_config(node, port))
    return host_key


def sshd_config(node: LabNode, port: int) -> str:
    return f"""# sshd of lab node {node.name}
ListenAddress {node.address}:{port}
HostKey {node.ssh_dir}/ssh_host_ed25519_key
PidFile {node.sshd_pid_file}
AuthorizedKeysFile {node.ssh_dir}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The lab directory may sit under a world-writable parent such as /tmp.
StrictModes no
PrintMotd no
MaxStartups 64:30:128
MaxSessions 64
Subsystem sftp internal-sftp
"""


def sshd_command(node: LabNode) -> list[str]:
    return ["/usr/sbin/sshd", "-f", str(node.ssh_dir / "sshd_config"),
            "-E", str(node.run_dir / "sshd.log")]
