"""Publishers: one module per network, behind the :class:`~scheduler.publishers.base.Publisher`
protocol. Built-ins and third-party publishers register the same way, through the
``storyline.publishers`` entry point group (see :mod:`scheduler.publishers.registry`).
"""
