"""Tokens encrypted at rest: Fernet through ``cryptography``, never a home-made cipher.

Why Fernet: it is authenticated encryption (AES-128-CBC + HMAC-SHA256) with a timestamp, in a
maintained library, and :class:`~cryptography.fernet.MultiFernet` gives key rotation for free:
``STORYLINE_SECRET_KEY`` is a comma-separated list, the first key seals, every key opens, and
``storyline accounts rotate-key`` re-seals every row with the first one (docs/security.md).

A key that opens nothing is an error the caller must stop on, never a reason to write: the
stored tokens (X's refresh tokens work once) would be lost for good.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from scheduler.core.errors import ConfigError
from scheduler.publishers.auth.base import TokenSet

KEY_VARIABLE = "STORYLINE_SECRET_KEY"
SECURITY_DOC = "docs/security.md"


class KeyMissing(ConfigError):
    """Tokens must be sealed or opened and no key is set."""


class KeyWrong(ConfigError):
    """No key of ``STORYLINE_SECRET_KEY`` opens a stored token."""


def new_key() -> str:
    """A fresh Fernet key (32 random bytes, url-safe base64), for ``STORYLINE_SECRET_KEY``."""
    return Fernet.generate_key().decode("ascii")


class Sealer:
    """Seals and opens token sets with the keys of ``STORYLINE_SECRET_KEY`` (newest first)."""

    def __init__(self, keys: Sequence[str]) -> None:
        fernets = []
        for n, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # Never quote the key: say which one, and what a key looks like.
                raise ConfigError(
                    f"{KEY_VARIABLE}: key #{n} is not a Fernet key (44 characters of url-safe "
                    f"base64; make one with `storyline accounts new-key`, see {SECURITY_DOC})"
                ) from None
        self._fernet = MultiFernet(fernets) if fernets else None
        self.key_count = len(fernets)

    @property
    def available(self) -> bool:
        return self._fernet is not None

    def _require(self, why: str) -> MultiFernet:
        if self._fernet is None:
            raise KeyMissing(f"{KEY_VARIABLE} is not set: {why} ({SECURITY_DOC})")
        return self._fernet

    def seal(self, tokens: TokenSet) -> str:
        fernet = self._require("renewed tokens cannot be stored without it")
        return fernet.encrypt(json.dumps(tokens.to_dict()).encode("utf-8")).decode("ascii")

    def unseal(self, sealed: str, *, what: str) -> TokenSet:
        """The token set of a row; ``what`` names the account in errors (never a value)."""
        fernet = self._require(f"the stored tokens of {what} cannot be read without it")
        try:
            data = fernet.decrypt(sealed.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise KeyWrong(wrong_key_message(what)) from None
        return TokenSet.from_dict(json.loads(data))

    def rotate(self, sealed: str, *, what: str) -> str:
        """The same tokens sealed with the first key (MultiFernet.rotate)."""
        fernet = self._require("there is nothing to rotate with")
        try:
            return fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise KeyWrong(wrong_key_message(what)) from None


def wrong_key_message(what: str) -> str:
    return (
        f"the stored tokens of {what} cannot be decrypted with {KEY_VARIABLE}: the key is "
        f"wrong or was replaced. Set it back to the key they were sealed with; to change keys, "
        f"put the new key first and the old one after it, comma-separated, then run "
        f"`storyline accounts rotate-key` ({SECURITY_DOC}). Nothing was changed."
    )
