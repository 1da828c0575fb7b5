"""Token lifecycles: how each network's tokens are obtained, renewed, checked and connected.

Pure HTTP (no database): :mod:`.base` is the interface, one module per network implements
its documented requests, :mod:`.connect` and :mod:`.loopback` run the authorization-code flow
with PKCE for ``storyline accounts connect``. See docs/publishers.md#tokens.
"""
