"""The operator's Ed25519 key pair for audit checkpoints: made, read, and used to sign and check.

The private key lives in a file outside the database (mode 0600), on the machine that makes
checkpoints; the public key is all that `taizhang audit verify` needs. Someone who can write to the
database but has not the private key can rewrite history and recompute every hash, but cannot sign
a checkpoint that agrees with it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class AuditKeyError(Exception):
    """A key file that cannot be used; the message says which and why."""


def key_id(public: Ed25519PublicKey) -> str:
    """A stable name for a public key: SHA-256 of its 32 raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def write_keypair(private_path: Path, public_path: Path) -> str:
    """Make a new key pair; the private file is created 0600 and never overwrites. Returns the key id."""
    for path in (private_path, public_path):
        if path.exists():
            raise AuditKeyError(f"{path} 已存在，不会覆盖")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # O_EXCL with the mode given at creation: the private key is never readable by others, not even briefly.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem)
    os.chmod(private_path, 0o600)  # whatever the umask
    public_path.write_bytes(public_pem)
    return key_id(key.public_key())


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in `path` (PEM, PKCS#8, unencrypted)."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as exc:
        raise AuditKeyError(f"无法读取签名私钥 {path}：{exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(f"{path} 不是可用的私钥：{exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{path} 不是 Ed25519 私钥")
    return key


def read_public_key(path: Path) -> Ed25519PublicKey:
    """A verifying key in `path` (PEM, SubjectPublicKeyInfo)."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise AuditKeyError(f"无法读取验证公钥 {path}：{exc.strerror}") from None
    except ValueError as exc:
        raise AuditKeyError(f"{path} 不是可用的公钥：{exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{path} 不是 Ed25519 公钥")
    return key


def keyring(paths: list[Path]) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id (several: the current one and those it replaced)."""
    keys = [read_public_key(p) for p in paths]
    return {key_id(k): k for k in keys}


def signature_valid(keys: dict[str, Ed25519PublicKey], kid: str, message: bytes, signature_hex: str) -> bool:
    """Whether `signature_hex` is the signature of `message` by the key `kid`, one of `keys`."""
    key = keys.get(kid)
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
