"""The instance's VAPID key pair (RFC 8292): it signs every Web Push request, and
browsers subscribe with its public half.

VAPID_PRIVATE_KEY (PEM) names it. Unset, the key is derived from FLASK_SECRET_KEY with
HKDF, so every chat worker and the RQ worker agree without a file to share; subscriptions
stay valid as long as the secret does.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from py_vapid import Vapid02

from talkrooms.settings import Settings

# The order of P-256's group: a private key is a number in [1, n).
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@lru_cache(maxsize=4)
def _private_key(pem: str, secret: str) -> ec.EllipticCurvePrivateKey:
    if pem.strip():
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("VAPID_PRIVATE_KEY must be an EC (P-256) private key")
        return key
    material = HKDF(
        algorithm=hashes.SHA256(), length=48, salt=b"talkrooms-vapid", info=b"vapid"
    ).derive(secret.encode())
    scalar = int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def private_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    return _private_key(settings.vapid_private_key, settings.flask_secret_key)


def public_key(settings: Settings) -> str:
    """The application server key browsers subscribe with (base64url, uncompressed)."""
    raw = (
        private_key(settings)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return _b64url(raw)


def signer(settings: Settings) -> Vapid02:
    return Vapid02(private_key=private_key(settings))
