"""The parts of twitter-text that Storyline uses: X's URL extractor, weights and emoji table.

Vendored from twitter-text-parser 3.0.0 (https://github.com/swen128/twitter-text-python),
Copyright (c) 2019 swen128, MIT licence: the notice is in ``LICENSE`` beside this file.
``emoji-test.txt`` is Unicode's data file, as the package ships it.

Why vendored: the package's ``__init__`` imports its emoji module, which reads its data file
through ``pkg_resources`` (a fifth of a second to import, gone from setuptools 81 on) and
compiles one expression of thousands of alternatives that Storyline does not need. Only what
is used is here, each module imported on first use. Tests hold it to the package itself
(``tests/networks/test_twitter_text_vendored.py``): the same expressions, the same emoji
table, the same counts as ``parse_tweet`` on twitter-text's conformance suite.
"""
