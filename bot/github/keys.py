"""The App's private key as people hand it over: one rule for reading it from a setting, and one
for telling whether it can sign. Shared by the service's start-up checks and the batch jobs;
cryptography loads only when a key is checked."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


class PrivateKeyError(ValueError):
    """The text is not a key an App can sign with; the message says what it is instead."""


def pem_from_setting(text: str) -> str:
    """A PEM as an environment variable or .env holds it: platforms that cannot store multi-line
    values (and `setup`'s .env) keep it on one line with literal `\\n`s."""
    return text.replace("\\n", "\n") if "\\n" in text and "\n" not in text else text


def check_private_key(pem: str) -> None:
    """Raise PrivateKeyError unless `pem` is an unencrypted RSA private key (GitHub Apps sign RS256)."""
    signing_key(pem)


@functools.lru_cache(maxsize=4)
def signing_key(pem: str) -> RSAPrivateKey:
    """The key `pem` holds, loaded once: loading checks the RSA key, which costs ~25 ms of CPU,
    and every App JWT would otherwise pay it again on the event loop. PrivateKeyError if it
    is not an unencrypted RSA private key."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode("ascii", "replace"), password=None)
    except (ValueError, TypeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PrivateKeyError(f"not a PEM private key without a passphrase ({reason})") from None
    if not isinstance(key, RSAPrivateKey):
        raise PrivateKeyError("not an RSA key")
    return key
