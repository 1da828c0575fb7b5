"""twitter-text's v3 configuration: the weights X counts a post's characters with.

Vendored from twitter-text-parser 3.0.0 (``twitter_text/config.py``, its ``defaults``, which are
version 3), MIT licence: see ``LICENSE`` in this folder.
"""

from __future__ import annotations

from typing import Final, TypedDict


class WeightRange(TypedDict):
    start: int
    end: int
    weight: int


class Config(TypedDict):
    version: int
    max_weighted_tweet_length: int
    scale: int
    default_weight: int
    emoji_parsing_enabled: bool
    transformed_url_length: int
    ranges: list[WeightRange]


#: ``config["defaults"]`` of the package: version 3, emoji counted as one character.
DEFAULTS: Final[Config] = {
    "version": 3,
    "max_weighted_tweet_length": 280,
    "scale": 100,
    "default_weight": 200,
    "emoji_parsing_enabled": True,
    "transformed_url_length": 23,
    "ranges": [
        {"start": 0, "end": 4351, "weight": 100},
        {"start": 8192, "end": 8205, "weight": 100},
        {"start": 8208, "end": 8223, "weight": 100},
        {"start": 8242, "end": 8247, "weight": 100},
    ],
}


def character_weight(char: str, options: Config = DEFAULTS) -> int:
    """The weight of one character: its range's, else the default (``get_character_weight``)."""
    code = ord(char[0])
    for weighted in options["ranges"]:
        if weighted["start"] <= code <= weighted["end"]:
            return weighted["weight"]
    return options["default_weight"]
