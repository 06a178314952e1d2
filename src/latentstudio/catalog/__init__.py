"""The catalog (floor 1): media items and their analyses in SQLite, their vectors searchable with FAISS.

* :class:`Catalog` (``store.py``) — ``add`` / ``update`` / ``remove`` / ``get`` / ``items`` / ``find_hash``,
  ``search(space, queries, k=)``, ``cached_analysis(path, key, fn)``, ``ingest(paths, fn)``. One SQLite file
  (WAL, one transaction per item: a kill -9 mid-ingest loses nothing committed) holds items, vectors per
  named space (``"soundscape"``, ``"dj"`` ...) and cached analyses keyed by content hash.
* :func:`build_index` (``index.py``) — flat / IVF / HNSW FAISS index over any vectors, labelled by your ids;
  the catalog keeps one per space beside the database as a derived cache, rebuilt from SQLite whenever its
  recorded generation or count disagrees.
* ``codec.py`` — content hashes, vector blobs, JSON that carries numpy arrays.

Example
-------
>>> import numpy as np, tempfile
>>> from latentstudio import assets
>>> cat = Catalog(tempfile.mkdtemp())
>>> a = cat.add(assets.sample_image("chelsea"), kind="image", vectors={"look": [1.0, 0.0]})
>>> b = cat.add(assets.sample_image("coffee"), kind="image", vectors={"look": [0.0, 1.0]})
>>> [hit.path.name for hit, _ in cat.search("look", [0.9, 0.1], k=2)[0]]
['chelsea.png', 'coffee.png']
>>> cat.close()
"""

from latentstudio.catalog.codec import hash_file
from latentstudio.catalog.index import IVF_THRESHOLD, build_index
from latentstudio.catalog.store import Catalog, IngestReport, Item, SpaceInfo, default_path

__all__ = ["Catalog", "Item", "IngestReport", "SpaceInfo", "build_index", "default_path", "hash_file",
           "IVF_THRESHOLD"]
