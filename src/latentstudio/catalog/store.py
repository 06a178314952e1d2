"""The catalog: media items and their vectors in one SQLite file, a FAISS index per vector space beside it.

SQLite is the truth; each FAISS index is a derived cache. The database runs in WAL mode and every item
is written in one transaction (row + vectors + the space's generation counter), so a crash or kill -9
loses nothing committed and leaves no half item. An index file records the database's id, the space's
generation and its vector count; on use, any mismatch rebuilds the index from SQLite's vector blobs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentstudio.catalog import codec
from latentstudio.catalog import index as fidx
from latentstudio.errors import LatentStudioError, ParameterError

FORMAT = "latentstudio-catalog"
SCHEMA_VERSION = 1
DB_NAME = "catalog.sqlite"
_UNSET: Any = object()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items(
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE, hash TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, kind TEXT NOT NULL, duration REAL,
    tags TEXT NOT NULL DEFAULT '[]', analysis TEXT NOT NULL DEFAULT '{}',
    added REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS items_hash ON items(hash);
CREATE INDEX IF NOT EXISTS items_kind ON items(kind);
CREATE TABLE IF NOT EXISTS spaces(
    name TEXT PRIMARY KEY, dim INTEGER NOT NULL, metric TEXT NOT NULL, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS vectors(
    space TEXT NOT NULL REFERENCES spaces(name), item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    vec BLOB NOT NULL, PRIMARY KEY(space, item_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vectors_item ON vectors(item_id);
CREATE TABLE IF NOT EXISTS analysis_cache(
    hash TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY(hash, key)) WITHOUT ROWID;
"""
_COLS = "id, path, hash, size, mtime_ns, kind, duration, tags, analysis, added, updated"
#: Vectors read from SQLite at a time while an IVF-PQ index is filled.
SHARD_SIZE = 100_000
#: What :meth:`Catalog.ingest` counts as an unreadable file (anything else is a bug and propagates).
INGEST_ERRORS = (LatentStudioError, OSError, ValueError, RuntimeError, EOFError)


def _id_vector_rows(rows: list, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ids (n,) int64, vectors (n, dim) float32)`` from ``(item_id, vec blob)`` rows."""
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").astype(np.float32)
    return ids, vecs.reshape(len(rows), dim)


class _PathJob:
    """:meth:`Catalog.ingest`'s ``fn`` as a batch job: items travel as strings, ``fn`` gets a Path."""

    def __init__(self, fn: Callable[[Path], dict]) -> None:
        self.fn = fn
        self.item_errors = tuple(getattr(fn, "item_errors", INGEST_ERRORS))
        self.uses_gpu = bool(getattr(fn, "uses_gpu", False))

    def setup(self, device: str) -> None:
        from latentstudio.catalog.batch import setup_job

        setup_job(self.fn, device)

    def __call__(self, path: str) -> dict:
        return self.fn(Path(path))


@dataclass(frozen=True)
class Item:
    """One media file in the catalog. ``hash`` is the SHA-256 of its bytes; times are Unix seconds."""

    id: int
    path: Path
    hash: str
    kind: str
    duration: float | None = None
    tags: tuple[str, ...] = ()
    analysis: dict = field(default_factory=dict, compare=False)
    size: int = 0
    added: float = 0.0
    updated: float = 0.0


@dataclass(frozen=True)
class SpaceInfo:
    """A vector space: dimension, metric, number of vectors, generation (bumped on every change)."""

    name: str
    dim: int
    metric: str
    count: int
    generation: int


@dataclass
class IngestReport:
    """What :meth:`Catalog.ingest` did: items added, items already there, files it could not read."""

    added: list[Item] = field(default_factory=list)
    skipped: list[Item] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> dict:
        return {"added": len(self.added), "skipped": len(self.skipped), "failed": len(self.failed),
                "failures": [(str(p), msg) for p, msg in self.failed]}


@dataclass
class _Live:
    index: Any
    generation: int
    built_n: int
    saved_generation: int = -1


def default_path() -> Path:
    """The embedded default catalog: ``<cache dir>/catalog/catalog.sqlite``."""
    from latentstudio.assets import cache_dir

    return cache_dir() / "catalog" / DB_NAME


def _resolve_db(path) -> Path:
    p = default_path() if path is None else Path(path).expanduser()
    if p.is_dir() or (not p.exists() and p.suffix == ""):
        p = p / DB_NAME
    p.parent.mkdir(parents=True, exist_ok=True)
    return p.resolve()


def _check_file(path) -> Path:
    if not isinstance(path, (str, Path)) or str(path) == "":
        raise ParameterError(f"path={path!r} must be a file path")
    p = Path(path).expanduser()
    if not p.exists():
        raise ParameterError(f"file {str(p)!r} does not exist")
    if not p.is_file():
        raise ParameterError(f"{str(p)!r} is not a regular file")
    return p.resolve()


class Catalog:
    """Media items, their analyses and their vectors: SQLite + FAISS, safe to kill mid-ingest.

    Parameters
    ----------
    path : a folder (holding ``catalog.sqlite``), the ``.sqlite`` file itself, or None for the embedded
        default under the cache folder (:func:`default_path`)
    metric : metric of vector spaces created by this catalog: ``"cosine"`` (default), ``"ip"``, ``"l2"``
    index_kind : ``"auto"`` (flat up to ``ivf_threshold`` vectors, IVF above, IVF-PQ above ``pq_threshold``),
        ``"flat"``, ``"ivf"``, ``"ivfpq"``, ``"hnsw"``
    ivf_threshold : vector count above which ``"auto"`` switches to IVF
    pq_threshold : vector count above which ``"auto"`` switches to IVF-PQ. IVF-PQ is built without holding
        the space's vectors in memory: trained on a sample, then filled from SQLite shard by shard
        (:data:`SHARD_SIZE` vectors at a time); its answers are re-scored exactly, so ``search`` is unchanged

    Raises
    ------
    ParameterError : the file is not an SQLite database or not a latentstudio catalog

    Example
    -------
    >>> import numpy as np, tempfile, pathlib
    >>> from latentstudio import assets
    >>> with Catalog(tempfile.mkdtemp()) as cat:
    ...     item = cat.add(assets.sample_image("coffee"), kind="image", tags=["photo"],
    ...                    vectors={"demo": np.ones(4)})
    ...     [(hit.path.name, round(score, 3)) for hit, score in cat.search("demo", np.ones(4), k=1)[0]]
    [('coffee.png', 1.0)]
    """

    def __init__(self, path=None, *, metric: str = "cosine", index_kind: str = "auto",
                 ivf_threshold: int = fidx.IVF_THRESHOLD, pq_threshold: int = fidx.PQ_THRESHOLD) -> None:
        if metric not in fidx.METRICS:
            raise ParameterError(f"metric={metric!r} must be one of {', '.join(fidx.METRICS)}")
        if index_kind not in fidx.KINDS:
            raise ParameterError(f"index_kind={index_kind!r} must be one of {', '.join(fidx.KINDS)}")
        if not isinstance(ivf_threshold, int) or ivf_threshold < 1:
            raise ParameterError(f"ivf_threshold={ivf_threshold!r} must be a positive integer")
        if not isinstance(pq_threshold, int) or pq_threshold < 1:
            raise ParameterError(f"pq_threshold={pq_threshold!r} must be a positive integer")
        self.path = _resolve_db(path)
        self.metric, self.index_kind, self.ivf_threshold = metric, index_kind, ivf_threshold
        self.pq_threshold = pq_threshold
        self._lock = threading.RLock()
        self._live: dict[str, _Live] = {}
        self._db = self._open()

    # ------------------------------------------------------------------------------------ connection
    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ParameterError(f"catalog {str(self.path)!r} cannot be opened ({exc})") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "meta" not in tables:
                raise ParameterError(f"catalog {str(self.path)!r} is an SQLite database but not a latentstudio "
                                     f"catalog (tables: {', '.join(sorted(tables))})")
            db.executescript(_SCHEMA)                       # idempotent; each statement commits alone
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", [
                ("format", FORMAT), ("schema_version", str(SCHEMA_VERSION)), ("uuid", uuid.uuid4().hex)])
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            db.execute("COMMIT")
        except ParameterError:
            db.close()
            raise
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ParameterError(f"catalog {str(self.path)!r} is not a readable SQLite database ({exc})") from None
        if meta.get("format") != FORMAT or int(meta.get("schema_version", 0)) > SCHEMA_VERSION:
            db.close()
            raise ParameterError(f"catalog {str(self.path)!r} has format {meta.get('format')!r} version "
                                 f"{meta.get('schema_version')!r}; this latentstudio reads {FORMAT} "
                                 f"version <= {SCHEMA_VERSION}")
        self.uuid = meta["uuid"]
        return db

    def close(self) -> None:
        """Save the FAISS indexes that changed, then close the database."""
        with self._lock:
            if self._db is None:
                return
            self.flush()
            self._db.close()
            self._db = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise ParameterError(f"catalog {str(self.path)!r} is closed")
        return self._db

    # --------------------------------------------------------------------------------------- reading
    @staticmethod
    def _item(row) -> Item:
        return Item(id=row[0], path=Path(row[1]), hash=row[2], size=row[3], kind=row[5], duration=row[6],
                    tags=tuple(codec.loads(row[7])), analysis=codec.loads(row[8]), added=row[9], updated=row[10])

    def _row(self, ref) -> tuple | None:
        db = self._conn()
        if isinstance(ref, Item):
            ref = ref.id
        if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
            return db.execute(f"SELECT {_COLS} FROM items WHERE id=?", (int(ref),)).fetchone()
        if isinstance(ref, (str, Path)):
            key = str(Path(ref).expanduser().resolve())
            return db.execute(f"SELECT {_COLS} FROM items WHERE path=?", (key,)).fetchone()
        raise ParameterError(f"item reference {ref!r} must be an id, a path or an Item")

    def get(self, ref) -> Item | None:
        """The item with this id, path or Item, or None."""
        with self._lock:
            row = self._row(ref)
        return None if row is None else self._item(row)

    def find_hash(self, content_hash: str) -> Item | None:
        """The item whose file content has this SHA-256, or None."""
        with self._lock:
            row = self._conn().execute(f"SELECT {_COLS} FROM items WHERE hash=? ORDER BY id LIMIT 1",
                                       (str(content_hash),)).fetchone()
        return None if row is None else self._item(row)

    def items(self, kind: str | None = None, *, tag: str | None = None) -> list[Item]:
        """Every item (of ``kind``, with ``tag``), in the order they were added."""
        with self._lock:
            rows = self._conn().execute(f"SELECT {_COLS} FROM items" + (" WHERE kind=?" if kind else "")
                                        + " ORDER BY id", (kind,) if kind else ()).fetchall()
        out = [self._item(r) for r in rows]
        return [it for it in out if tag in it.tags] if tag is not None else out

    def __len__(self) -> int:
        with self._lock:
            return self._conn().execute("SELECT COUNT(*) FROM items").fetchone()[0]

    def __contains__(self, ref) -> bool:
        return self.get(ref) is not None

    def spaces(self) -> dict[str, SpaceInfo]:
        """Every vector space: its dimension, metric, vector count and generation."""
        with self._lock:
            rows = self._conn().execute(
                "SELECT s.name, s.dim, s.metric, s.generation, (SELECT COUNT(*) FROM vectors v "
                "WHERE v.space=s.name) FROM spaces s ORDER BY s.name").fetchall()
        return {r[0]: SpaceInfo(name=r[0], dim=r[1], metric=r[2], generation=r[3], count=r[4]) for r in rows}

    def vector(self, ref, space: str) -> np.ndarray | None:
        """The stored (un-normalised) vector of an item in ``space``, or None."""
        with self._lock:
            item = self.get(ref)
            row = None if item is None else self._conn().execute(
                "SELECT vec FROM vectors WHERE space=? AND item_id=?", (space, item.id)).fetchone()
        return None if row is None else codec.blob_to_vector(row[0])

    def vectors(self, space: str) -> tuple[np.ndarray, np.ndarray]:
        """All vectors of ``space`` as ``(ids (n,) int64, vectors (n, d) float32)``, by id."""
        with self._lock:
            info = self._space(space)
            rows = self._conn().execute("SELECT item_id, vec FROM vectors WHERE space=? ORDER BY item_id",
                                        (space,)).fetchall()
        return _id_vector_rows(rows, info[0])

    def _space(self, space: str) -> tuple[int, str, int]:
        codec.check_space(space)
        row = self._conn().execute("SELECT dim, metric, generation FROM spaces WHERE name=?", (space,)).fetchone()
        if row is None:
            known = [r[0] for r in self._conn().execute("SELECT name FROM spaces ORDER BY name")]
            raise ParameterError(f"space={space!r} has no vectors in {str(self.path)!r}; "
                                 f"spaces: {', '.join(known) or 'none'}")
        return row

    # --------------------------------------------------------------------------------------- writing
    def _check_vectors(self, vectors) -> dict[str, np.ndarray | None]:
        if vectors is None:
            return {}
        if not isinstance(vectors, dict):
            raise ParameterError(f"vectors must be a dict of space name -> vector, got {type(vectors).__name__}")
        out = {}
        for space, vec in vectors.items():
            codec.check_space(space)
            row = self._conn().execute("SELECT dim FROM spaces WHERE name=?", (space,)).fetchone()
            out[space] = None if vec is None else codec.as_vector(vec, space=space, dim=row[0] if row else None)
        return out

    def _write_vectors(self, db, item_id: int, vectors: dict[str, np.ndarray | None],
                       changes: list) -> None:
        """Inside a transaction: replace/delete vectors and bump each touched space's generation."""
        for space, vec in vectors.items():
            row = db.execute("SELECT dim, generation FROM spaces WHERE name=?", (space,)).fetchone()
            if row is None:
                if vec is None:
                    continue
                db.execute("INSERT INTO spaces VALUES (?, ?, ?, 0)", (space, vec.shape[0], self.metric))
                row = (vec.shape[0], 0)
            elif vec is not None and vec.shape[0] != row[0]:
                raise ParameterError(f"vectors[{space!r}] has {vec.shape[0]} dims but space {space!r} holds "
                                     f"{row[0]}-dim vectors")
            had = db.execute("DELETE FROM vectors WHERE space=? AND item_id=?", (space, item_id)).rowcount
            if vec is not None:
                db.execute("INSERT INTO vectors VALUES (?, ?, ?)", (space, item_id, codec.vector_to_blob(vec)))
            if had or vec is not None:
                db.execute("UPDATE spaces SET generation=generation+1 WHERE name=?", (space,))
                changes.append((space, row[1], item_id, bool(had), vec))

    def _transaction(self, body: Callable[[sqlite3.Connection, list], Any]) -> Any:
        """Run ``body(db, changes)`` in one IMMEDIATE transaction, then mirror the vector changes into
        the live FAISS indexes (or drop those that another writer moved on)."""
        with self._lock:
            db = self._conn()
            changes: list = []
            db.execute("BEGIN IMMEDIATE")
            try:
                result = body(db, changes)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._mirror(changes)
            return result

    def _mirror(self, changes: list) -> None:
        for space, gen_before, item_id, had, vec in changes:
            live = self._live.get(space)
            if live is None:
                continue
            if live.generation != gen_before:
                self._live.pop(space)                       # someone else wrote: rebuild on next search
                continue
            metric = self._conn().execute("SELECT metric FROM spaces WHERE name=?", (space,)).fetchone()[0]
            if had and not fidx.remove(live.index, [item_id]):
                self._live.pop(space)
                continue
            if vec is not None:
                fidx.add(live.index, vec, [item_id], metric=metric)
            live.generation = gen_before + 1

    def add(self, path, *, kind: str, duration: float | None = None, tags: Iterable[str] = (),
            analysis: dict | None = None, vectors: dict | None = None, content_hash: str | None = None) -> Item:
        """Add a file (or return the existing item when its content is already catalogued).

        Parameters
        ----------
        path : the media file; stored as an absolute path
        kind : what it is (``"audio"``, ``"image"``, ``"track"`` ...)
        duration : seconds, for time media
        tags : labels (strings)
        analysis : JSON-able dict (numpy arrays allowed) of analysis results
        vectors : ``{space: (d,) vector}``; a new space takes the vector's dimension, later vectors must match
        content_hash : the file's SHA-256 if already known (skips reading the file again)

        Returns
        -------
        Item : the new item; the existing one when the same content is already here (re-adding an
            unchanged file is a no-op). A file changed in place is re-catalogued under its id.

        Raises
        ------
        ParameterError : missing file, bad kind/tags/analysis, wrong vector dimension (names both)
        """
        p = _check_file(path)
        if not isinstance(kind, str) or not kind:
            raise ParameterError(f"kind={kind!r} must be a non-empty string")
        tags = self._check_tags(tags)
        analysis_text = codec.dumps(analysis if analysis is not None else {}, name="analysis")
        if duration is not None:
            duration = self._check_duration(duration)
        with self._lock:
            vecs = self._check_vectors(vectors)
            size, mtime = codec.file_stat(p)
            row = self._conn().execute(f"SELECT {_COLS} FROM items WHERE path=?", (str(p),)).fetchone()
            if row is not None and (row[3], row[4]) == (size, mtime):
                return self._item(row)                          # unchanged since last seen: no hashing
            h = content_hash or codec.hash_file(p)

            def body(db, changes):
                now = time.time()
                same_path = db.execute(f"SELECT {_COLS} FROM items WHERE path=?", (str(p),)).fetchone()
                if same_path is not None and same_path[2] == h:
                    db.execute("UPDATE items SET size=?, mtime_ns=? WHERE id=?", (size, mtime, same_path[0]))
                    return same_path[0]
                if same_path is None:
                    same_hash = db.execute(f"SELECT {_COLS} FROM items WHERE hash=? ORDER BY id LIMIT 1",
                                           (h,)).fetchone()
                    if same_hash is not None:
                        if not Path(same_hash[1]).exists():         # the file moved: follow it
                            db.execute("UPDATE items SET path=?, size=?, mtime_ns=?, updated=? WHERE id=?",
                                       (str(p), size, mtime, now, same_hash[0]))
                        return same_hash[0]
                    cur = db.execute("INSERT INTO items (path, hash, size, mtime_ns, kind, duration, tags, "
                                     "analysis, added, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
                                     (str(p), h, size, mtime, kind, duration, codec.dumps(list(tags)),
                                      analysis_text, now, now))
                    item_id = cur.lastrowid
                else:                                               # same path, new content
                    item_id = same_path[0]
                    db.execute("UPDATE items SET hash=?, size=?, mtime_ns=?, kind=?, duration=?, tags=?, "
                               "analysis=?, updated=? WHERE id=?", (h, size, mtime, kind, duration,
                                                                    codec.dumps(list(tags)), analysis_text,
                                                                    now, item_id))
                    stale = [r[0] for r in db.execute("SELECT space FROM vectors WHERE item_id=?", (item_id,))]
                    vecs_all = {s: None for s in stale}
                    vecs_all.update(vecs)
                    self._write_vectors(db, item_id, vecs_all, changes)
                    return item_id
                self._write_vectors(db, item_id, vecs, changes)
                return item_id

            return self.get(self._transaction(body))

    @staticmethod
    def _check_tags(tags) -> tuple[str, ...]:
        if isinstance(tags, str):
            tags = (tags,)
        try:
            tags = tuple(tags)
        except TypeError:
            raise ParameterError(f"tags={tags!r} must be a list of strings") from None
        bad = [t for t in tags if not isinstance(t, str)]
        if bad:
            raise ParameterError(f"tags must be strings, got {bad!r}")
        return tuple(dict.fromkeys(tags))

    @staticmethod
    def _check_duration(duration) -> float:
        try:
            d = float(duration)
        except (TypeError, ValueError):
            raise ParameterError(f"duration={duration!r} must be a number of seconds") from None
        if not np.isfinite(d) or d < 0:
            raise ParameterError(f"duration={duration!r} must be a finite number of seconds >= 0")
        return d

    def update(self, ref, *, kind: str = _UNSET, duration: float | None = _UNSET, tags: Iterable[str] = _UNSET,
               analysis: dict = _UNSET, merge_analysis: bool = False, vectors: dict | None = None) -> Item:
        """Change an item's fields; only the arguments given change.

        ``vectors`` maps spaces to new vectors, or to None to delete the item's vector there.
        ``merge_analysis=True`` updates the stored analysis dict key by key instead of replacing it.

        Raises
        ------
        ParameterError : unknown item, bad values, wrong vector dimension
        """
        with self._lock:
            item = self.get(ref)
            if item is None:
                raise ParameterError(f"item {ref!r} is not in catalog {str(self.path)!r}")
            sets: dict[str, Any] = {}
            if kind is not _UNSET:
                if not isinstance(kind, str) or not kind:
                    raise ParameterError(f"kind={kind!r} must be a non-empty string")
                sets["kind"] = kind
            if duration is not _UNSET:
                sets["duration"] = None if duration is None else self._check_duration(duration)
            if tags is not _UNSET:
                sets["tags"] = codec.dumps(list(self._check_tags(tags)))
            if analysis is not _UNSET:
                if not isinstance(analysis, dict):
                    raise ParameterError(f"analysis must be a dict, got {type(analysis).__name__}")
                sets["analysis"] = codec.dumps({**item.analysis, **analysis} if merge_analysis else analysis,
                                               name="analysis")
            vecs = self._check_vectors(vectors)

            def body(db, changes):
                sets["updated"] = time.time()
                db.execute(f"UPDATE items SET {', '.join(f'{k}=?' for k in sets)} WHERE id=?",
                           (*sets.values(), item.id))
                self._write_vectors(db, item.id, vecs, changes)

            self._transaction(body)
            return self.get(item.id)

    def remove(self, ref) -> bool:
        """Remove an item (by id, path or Item) with its vectors; False when it was not there."""
        with self._lock:
            item = self.get(ref)
            if item is None:
                return False

            def body(db, changes):
                spaces = [r[0] for r in db.execute("SELECT space FROM vectors WHERE item_id=?", (item.id,))]
                self._write_vectors(db, item.id, {s: None for s in spaces}, changes)
                db.execute("DELETE FROM items WHERE id=?", (item.id,))

            self._transaction(body)
            return True

    # ------------------------------------------------------------------------------------ FAISS side
    def _index_path(self, space: str) -> Path:
        return self.path.with_name(f"{self.path.stem}.{space}.faiss")

    def _target_kind(self, n: int) -> str:
        if self.index_kind != "auto":
            return self.index_kind
        return "ivfpq" if n > self.pq_threshold else "ivf" if n > self.ivf_threshold else "flat"

    def _needs_rebuild(self, index, built_n: int) -> bool:
        kind = fidx.index_kind(index)
        if self.index_kind == "auto" and kind in ("flat", "ivf") and self._target_kind(index.ntotal) != kind:
            return True                                           # grew past a threshold: go IVF, then IVF-PQ
        return kind in ("ivf", "ivfpq") and index.ntotal > 4 * max(built_n, 1)   # lists sized for far fewer

    def _vectors_of(self, space: str, ids) -> dict[int, np.ndarray]:
        """``{id: vector}`` of the given item ids in ``space`` (read in chunks)."""
        ids = [int(i) for i in ids]
        out: dict[int, np.ndarray] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = self._conn().execute(f"SELECT item_id, vec FROM vectors WHERE space=? AND item_id IN "
                                        f"({','.join('?' * len(chunk))})", (space, *chunk)).fetchall()
            out.update((r[0], codec.blob_to_vector(r[1])) for r in rows)
        return out

    def _build_sharded(self, space: str, dim: int, metric: str):
        """IVF-PQ over ``space`` without loading its vectors at once: train on a sample, add shard by shard."""
        db = self._conn()
        ids = np.fromiter((r[0] for r in db.execute("SELECT item_id FROM vectors WHERE space=? ORDER BY item_id",
                                                     (space,))), dtype=np.int64)
        if len(ids) < 256:                                     # too few to train PQ codes: exact
            found = self._vectors_of(space, ids)
            return fidx.build_index(np.stack([found[int(i)] for i in ids]) if len(ids) else np.zeros((0, dim)),
                                    kind="flat", metric=metric, ids=ids)
        index = fidx.empty_ivfpq(dim, n=len(ids), metric=metric)
        index.cp.seed = 0
        size = fidx.pq_training_size(len(ids), index.nlist)
        sample = np.sort(np.random.default_rng(0).choice(ids, size, replace=False))
        found = self._vectors_of(space, sample)
        index.train(fidx.prepare(np.stack([found[int(i)] for i in sample]), metric))
        del found
        last = -1
        while True:
            rows = db.execute("SELECT item_id, vec FROM vectors WHERE space=? AND item_id>? ORDER BY item_id LIMIT ?",
                              (space, last, SHARD_SIZE)).fetchall()
            if not rows:
                break
            shard_ids, vecs = _id_vector_rows(rows, dim)
            fidx.add(index, vecs, shard_ids, metric=metric)
            last = int(shard_ids[-1])
        return index

    def _live_index(self, space: str) -> _Live:
        """The in-memory index of ``space``: kept while fresh, else loaded from disk, else rebuilt."""
        dim, metric, gen = self._space(space)
        live = self._live.get(space)
        if live is not None and live.generation == gen and not self._needs_rebuild(live.index, live.built_n):
            return live
        count = self._conn().execute("SELECT COUNT(*) FROM vectors WHERE space=?", (space,)).fetchone()[0]
        if live is None or live.generation != gen:
            expect = {"db_uuid": self.uuid, "space": space, "generation": gen, "ntotal": count, "dim": dim,
                      "metric": metric}
            loaded = fidx.load(self._index_path(space), expect)
            if loaded is not None:
                index, meta = loaded
                live = _Live(index, gen, int(meta.get("built_n", count)), saved_generation=gen)
                if not self._needs_rebuild(live.index, live.built_n):
                    self._live[space] = live
                    return live
        if self._target_kind(count) == "ivfpq":
            index = self._build_sharded(space, dim, metric)
        else:
            ids, vecs = self.vectors(space)
            index = fidx.build_index(vecs, kind=self.index_kind, metric=metric, ids=ids,
                                     threshold=self.ivf_threshold)
        live = _Live(index, gen, int(index.ntotal))
        self._live[space] = live
        self._save(space, live)
        return live

    def _save(self, space: str, live: _Live) -> None:
        dim, metric, _ = self._space(space)
        meta = {"db_uuid": self.uuid, "space": space, "generation": live.generation, "dim": dim,
                "metric": metric, "kind": fidx.index_kind(live.index), "built_n": live.built_n}
        if meta["kind"] in ("ivf", "ivfpq"):
            meta["nprobe"] = int(live.index.nprobe)
        try:
            fidx.save(live.index, self._index_path(space), meta)
            live.saved_generation = live.generation
        except OSError as exc:  # a read-only folder or a full disk: the index stays in memory, and the user is told
            import logging

            logging.getLogger(__name__).warning("catalog %s: the %r vector index could not be saved (%s); "
                                                "it stays in memory and is rebuilt next time", self.path, space, exc)

    def flush(self) -> None:
        """Write every in-memory FAISS index that changed since it was last saved."""
        with self._lock:
            for space, live in list(self._live.items()):
                if live.saved_generation != live.generation:
                    self._save(space, live)

    def rebuild_index(self, space: str) -> SpaceInfo:
        """Rebuild a space's FAISS index from SQLite now (e.g. after changing ``index_kind``)."""
        with self._lock:
            self._live.pop(space, None)
            fidx.remove_files(self._index_path(space))
            self._live_index(space)
            return self.spaces()[space]

    def verify(self) -> dict:
        """Check the catalog: SQLite's integrity, vectors left without an item (must be 0), and each space's
        FAISS index holding exactly that space's vectors (a stale index is rebuilt on the way).

        Returns ``{"integrity": "ok", "items": n, "orphan_vectors": 0,
        "spaces": {name: {"sqlite": n, "faiss": n}}}``.
        """
        with self._lock:
            db = self._conn()
            out = {"integrity": db.execute("PRAGMA integrity_check").fetchone()[0], "items": len(self),
                   "orphan_vectors": db.execute("SELECT COUNT(*) FROM vectors WHERE item_id NOT IN "
                                                "(SELECT id FROM items)").fetchone()[0], "spaces": {}}
            for name, info in self.spaces().items():
                out["spaces"][name] = {"sqlite": info.count, "faiss": int(self._live_index(name).index.ntotal)}
        return out

    def contents(self) -> list[tuple]:
        """Every item row (id, path, hash, size, kind, duration, tags, analysis: no times) and every vector row
        (space, item id, bytes), in a fixed order: catalogs built from the same input compare equal, whichever
        backend built them (``python -m bench scale``, the cluster tests)."""
        with self._lock:
            db = self._conn()
            return (db.execute("SELECT id, path, hash, size, kind, duration, tags, analysis FROM items ORDER BY id")
                    .fetchall() + db.execute("SELECT space, item_id, vec FROM vectors ORDER BY space, item_id")
                    .fetchall())

    def __repr__(self) -> str:
        return f"Catalog({str(self.path)!r})"

    def search(self, space: str, query_vectors, *, k: int = 10) -> list[list[tuple[Item, float]]]:
        """Nearest items to each query vector in ``space``.

        Parameters
        ----------
        space : vector space name (``"soundscape"``, ``"dj"`` ...)
        query_vectors : ``(d,)`` or ``(m, d)``
        k : neighbours per query

        Returns
        -------
        One list per query of ``(Item, score)``, best first. Scores are cosine similarities by default
        (inner products for ``"ip"``, squared distances for ``"l2"``).

        Raises
        ------
        ParameterError : unknown space, query dims that do not match the space (names both), k < 1
        """
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ParameterError(f"k={k!r} must be a positive integer")
        with self._lock:
            dim, metric, _ = self._space(space)
            q = codec.as_queries(query_vectors, space=space, dim=dim)
            live = self._live_index(space)
            if live.index.ntotal == 0:
                return [[] for _ in range(len(q))]
            if fidx.index_kind(live.index) == "ivfpq":
                scores, ids = self._reranked(space, live.index, q, int(k), metric)
            else:
                scores, ids = fidx.search(live.index, q, k=int(k), metric=metric)
            wanted = sorted({int(i) for i in ids.ravel() if i >= 0})
            found: dict[int, Item] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                rows = self._conn().execute(f"SELECT {_COLS} FROM items WHERE id IN "
                                            f"({','.join('?' * len(chunk))})", chunk).fetchall()
                found.update((r[0], self._item(r)) for r in rows)
        return [[(found[int(i)], float(s)) for s, i in zip(srow, irow) if int(i) in found]
                for srow, irow in zip(scores, ids)]

    def _reranked(self, space: str, index, q: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """IVF-PQ candidates (:func:`~.index.rerank_candidates` of them) re-scored with the exact vectors."""
        _, cand = fidx.search(index, q, k=fidx.rerank_candidates(k, index.ntotal), metric=metric)
        exact = self._vectors_of(space, sorted({int(i) for i in cand.ravel() if i >= 0}))
        qp = fidx.prepare(q, metric)
        kk = min(k, max(index.ntotal, 1))
        scores = np.full((len(q), kk), np.inf if metric == "l2" else -np.inf, dtype=np.float32)
        ids = np.full((len(q), kk), -1, dtype=np.int64)
        for r, row in enumerate(cand):
            row = np.array([i for i in row if i >= 0 and int(i) in exact], dtype=np.int64)
            if not len(row):
                continue
            sc = fidx.exact_scores(qp[r:r + 1], np.stack([exact[int(i)] for i in row]), metric=metric)[0]
            order = np.argsort(sc if metric == "l2" else -sc, kind="stable")[:kk]
            scores[r, :len(order)], ids[r, :len(order)] = sc[order], row[order]
        return scores, ids

    # ---------------------------------------------------------------------------- caches and ingest
    def cached_analysis(self, path, key: str, compute_fn: Callable[[Path], Any]) -> Any:
        """``compute_fn(path)``, computed once per file content and ``key`` and kept in the catalog.

        The cache is keyed by the file's SHA-256, so a renamed or copied file hits it and an edited file
        misses it. Values may be JSON values or numpy arrays (nested in dicts/lists too).

        Example
        -------
        >>> import tempfile
        >>> from latentstudio import assets
        >>> cat = Catalog(tempfile.mkdtemp())
        >>> cat.cached_analysis(assets.sample_image("moon"), "size", lambda p: p.stat().st_size) > 0
        True
        """
        p = _check_file(path)
        if not isinstance(key, str) or not key:
            raise ParameterError(f"key={key!r} must be a non-empty string")
        h = codec.hash_file(p)
        with self._lock:
            row = self._conn().execute("SELECT value FROM analysis_cache WHERE hash=? AND key=?", (h, key)).fetchone()
        if row is not None:
            return codec.loads(row[0])
        value = compute_fn(p)
        text = codec.dumps(value, name=f"cached_analysis[{key!r}]")
        with self._lock:
            self._conn().execute("INSERT OR REPLACE INTO analysis_cache VALUES (?, ?, ?, ?)",
                                 (h, key, text, time.time()))
        return codec.loads(text)

    def ingest(self, paths: Iterable, fn: Callable[[Path], dict], *,
               progress: Callable[..., Any] | None = None, workers: int = 1,
               cluster: str | None = None) -> IngestReport:
        """Catalogue many files: ``fn(path)`` returns the keyword arguments of :meth:`add`
        (``kind``, ``duration``, ``tags``, ``analysis``, ``vectors``).

        Files already catalogued (same path and size/mtime, or same content) are skipped without calling
        ``fn``, so an interrupted ingest resumes where it stopped. Files that are missing or that ``fn``
        cannot read are reported in ``failed`` and the ingest goes on. Each item is committed on its own,
        as soon as its analysis is done.

        Parameters
        ----------
        paths : files to catalogue
        fn : analysis function; raise ParameterError/OSError/ValueError for unreadable files. With
            ``workers > 1`` or a cluster it must be picklable (a module-level function or class instance;
            an optional ``fn.setup(device)`` runs once per worker, see :mod:`latentstudio.catalog.batch`)
        progress : called as ``progress(1)`` after each file (the CLI's progress ``advance``)
        workers, cluster : where ``fn`` runs (see :func:`latentstudio.catalog.batch.map_items`)
        """
        from latentstudio.catalog.batch import map_items

        report = IngestReport()
        todo: list[tuple[Path, str]] = []
        for raw in paths:
            try:
                p = _check_file(raw)
                size, mtime = codec.file_stat(p)
                with self._lock:
                    row = self._conn().execute(f"SELECT {_COLS} FROM items WHERE path=?", (str(p),)).fetchone()
                if row is not None and (row[3], row[4]) == (size, mtime):
                    report.skipped.append(self._item(row))
                else:
                    h = codec.hash_file(p)
                    same = self.find_hash(h)
                    if same is None:
                        todo.append((p, h))
                        continue
                    report.skipped.append(self.add(p, kind=same.kind, content_hash=h))   # touched, copied, moved
            except INGEST_ERRORS as exc:
                report.failed.append((Path(str(raw)), f"{type(exc).__name__}: {exc}"))
            if progress is not None:
                progress(1)
        for out in map_items(_PathJob(fn), [str(p) for p, _ in todo], cluster=cluster, workers=workers,
                             progress=progress):
            p, h = todo[out.index]
            if not out.ok:
                report.failed.append((p, out.error))
                continue
            try:
                kwargs = out.value
                if not isinstance(kwargs, dict) or "kind" not in kwargs:
                    raise ParameterError(f"ingest fn must return a dict with 'kind' (and optional duration, "
                                         f"tags, analysis, vectors); got {type(kwargs).__name__}")
                report.added.append(self.add(p, content_hash=h, **kwargs))
            except INGEST_ERRORS as exc:
                report.failed.append((p, f"{type(exc).__name__}: {exc}"))
        self.flush()
        return report
