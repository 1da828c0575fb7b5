"""``storyline accounts connect``: the OAuth 2.0 authorization-code flow with PKCE, in one call.

The way ``gh auth login`` does it (RFC 8252, OAuth for native apps): listen on 127.0.0.1, send
the person to the network's consent page with a fresh ``state`` and PKCE challenge, wait for the
redirect to come back with the code, exchange it at once (X's codes live 30 seconds). The
verifier, challenge and state come from Authlib (``generate_token``,
``create_s256_code_challenge``); the network's own rules (endpoints, scopes, client
authentication) from its :class:`TokenLifecycle`. Storing the tokens is the caller's job.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from scheduler.publishers.auth.base import TokenLifecycle, TokenSet
from scheduler.publishers.base import Credentials

#: RFC 7636 section 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
VERIFIER_CHARS = string.ascii_letters + string.digits + "-._~"
VERIFIER_LENGTH = 64
STATE_LENGTH = 32  # about 190 bits


@dataclass(frozen=True, slots=True, repr=False)
class Pkce:
    verifier: str
    challenge: str

    def __repr__(self) -> str:
        return "Pkce(verifier=***, challenge=***)"


def new_pkce() -> Pkce:
    verifier = str(generate_token(VERIFIER_LENGTH, chars=VERIFIER_CHARS))
    return Pkce(verifier, str(create_s256_code_challenge(verifier)))


def new_state() -> str:
    return str(generate_token(STATE_LENGTH))


class CallbackReceiver(Protocol):
    """Where the browser comes back: started by ``with``, its ``redirect_uri`` known then."""

    @property
    def redirect_uri(self) -> str: ...

    def expect(self, state: str) -> None:
        """The ``state`` a genuine callback carries; any other is refused."""
        ...

    def wait(self) -> str:
        """Block until the genuine callback; its ``code``. Raises ConnectFailed."""
        ...

    def __enter__(self) -> CallbackReceiver: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def connect(
    lifecycle: TokenLifecycle,
    credentials: Credentials,
    *,
    open_url: Callable[[str], None],
    receiver: CallbackReceiver,
    scopes: Sequence[str] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TokenSet:
    """Run the whole flow: ``open_url`` shows the consent page (print it, open a browser),
    ``receiver`` gets the code back; the answer is the account's new tokens."""
    pkce = new_pkce()
    state = new_state()
    with receiver as listening:
        listening.expect(state)
        url = lifecycle.authorization_url(
            credentials,
            redirect_uri=listening.redirect_uri,
            state=state,
            code_challenge=pkce.challenge,
            scopes=scopes,
        )
        open_url(url)
        code = listening.wait()
        return lifecycle.exchange_code(
            credentials,
            code=code,
            redirect_uri=listening.redirect_uri,
            code_verifier=pkce.verifier,
            now=clock(),
        )
