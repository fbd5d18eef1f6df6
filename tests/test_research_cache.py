"""The research cache: safe formats, atomic writes, damaged entries rebuilt."""

from __future__ import annotations

import numpy as np

from eczema_tracker.core import paths
from eczema_tracker.research.cache import ResearchCache, cache_key, mask_digest


def test_round_trips_and_lives_in_the_cache_folder():
    cache = ResearchCache()
    assert cache.root == paths.cache_dir() / "research"
    key = cache_key("dino", "abc", 1)
    assert cache.get_array("features", key) is None
    cache.put_array("features", key, np.arange(4, dtype=np.float32))
    assert cache.get_array("features", key).tolist() == [0, 1, 2, 3]
    mask = np.zeros((5, 7), bool)
    mask[1:3, 2:6] = True
    cache.put_mask("masks", key, mask)
    assert np.array_equal(cache.get_mask("masks", key), mask)
    cache.put_json("retrievals", key, ["a.jpg", "b.jpg"])
    assert cache.get_json("retrievals", key) == ["a.jpg", "b.jpg"]
    assert (cache.hits, cache.misses) == (3, 1)
    assert not list(cache.root.rglob("*.tmp"))  # no temp files left behind


def test_keys_depend_on_every_part():
    assert cache_key("a", 1) == cache_key("a", 1)
    assert cache_key("a", 1) != cache_key("a", 2)
    mask = np.zeros((4, 4), bool)
    assert mask_digest(mask) != mask_digest(np.zeros((2, 8), bool))  # shape counts
    mask[0, 0] = True
    assert mask_digest(mask) != mask_digest(np.zeros((4, 4), bool))


def test_damaged_or_pickled_entries_are_misses(tmp_path):
    cache = ResearchCache(tmp_path)
    key = cache_key("x")
    cache.put_array("features", key, np.ones(3))
    path = next(tmp_path.rglob("*.npy"))
    path.write_bytes(b"garbage")
    assert cache.get_array("features", key) is None
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # never unpickled
    assert cache.get_array("features", key) is None
