"""WordNet nouns (Princeton WordNet 3.0 from Debian's ``wordnet-base``) and the ImageNet classes in it.

ImageNet's 1000 classes *are* WordNet noun synsets (``n02123045`` = the synset at byte offset 2123045 of
``data.noun``: tabby, tabby cat). This reader parses the noun database directly (no NLTK): lemmas and
their senses in WordNet's frequency order, hypernyms (``@`` and instance ``@i``), the lexicographer file
(``noun.animal``, ``noun.artifact`` ...), and the path measures that tell how related two synsets are.

Synsets are identified by their ImageNet-style id ``"n%08d" % offset``.

Example
-------
>>> wn = wordnet()                                   # doctest: +SKIP
>>> wn.synsets("dogs")[0], wn.name(wn.synsets("dogs")[0])
('n02084071', 'dog')
>>> wn.is_a(imagenet_wnids()[281], wn.synsets("cat")[0])   # tabby cat is a cat
True
"""

from __future__ import annotations

import functools
import os
import re
from collections import deque
from importlib import resources
from pathlib import Path

from latentstudio.errors import AssetMissingError, ModelError, ParameterError

WORDNET_DIRS = ("/usr/share/wordnet",)

#: The noun lexicographer files of WordNet 3.0, by number (03 .. 28).
NOUN_LEXNAMES = {3: "Tops", 4: "act", 5: "animal", 6: "artifact", 7: "attribute", 8: "body", 9: "cognition",
                 10: "communication", 11: "event", 12: "feeling", 13: "food", 14: "group", 15: "location",
                 16: "motive", 17: "object", 18: "person", 19: "phenomenon", 20: "plant", 21: "possession",
                 22: "process", 23: "quantity", 24: "relation", 25: "shape", 26: "state", 27: "substance",
                 28: "time"}


def wordnet_dir() -> Path:
    """Folder of the WordNet database (``$LATENTSTUDIO_WORDNET`` or ``/usr/share/wordnet``)."""
    env = os.environ.get("LATENTSTUDIO_WORDNET")
    for d in ([env] if env else []) + list(WORDNET_DIRS):
        p = Path(d)
        if (p / "data.noun").is_file() and (p / "index.noun").is_file():
            return p
    raise AssetMissingError("WordNet (data.noun, index.noun) not found; install it: apt-get install wordnet-base")


def _index_entries(path: Path):
    """The split lines of a WordNet ``index.*`` file, its licence header (lines starting with a space) skipped."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith(" "):
                yield line.split()


def _tagsense_count(parts: list[str]) -> int:
    """``tagsense_cnt`` of an ``index.*`` line (``lemma pos synset_cnt p_cnt [ptr]*p_cnt sense_cnt tagsense_cnt ...``)."""
    try:
        return int(parts[5 + int(parts[3])])
    except (IndexError, ValueError):
        return 0


class WordNet:
    """The noun part of WordNet: senses of a word, hypernyms, lexicographer files, relatedness.

    Parameters
    ----------
    root : folder holding ``data.noun``, ``index.noun`` and ``noun.exc`` (default :func:`wordnet_dir`)
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else wordnet_dir()
        self._hyper: dict[str, tuple[str, ...]] = {}
        self._lex: dict[str, int] = {}
        self._words: dict[str, tuple[str, ...]] = {}
        self._gloss: dict[str, str] = {}
        with open(self.root / "data.noun", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(" "):
                    continue
                body, _, gloss = line.partition("|")
                parts = body.split()
                sid = "n" + parts[0]
                n_words = int(parts[3], 16)
                words = tuple(parts[4 + 2 * i].lower() for i in range(n_words))
                k = 4 + 2 * n_words
                n_ptr = int(parts[k])
                hyper = []
                for j in range(n_ptr):
                    sym, off, pos = parts[k + 1 + 4 * j: k + 4 + 4 * j]
                    if sym in ("@", "@i") and pos == "n":
                        hyper.append("n" + off)
                self._hyper[sid] = tuple(hyper)
                self._lex[sid] = int(parts[1])
                self._words[sid] = words
                self._gloss[sid] = gloss.strip()
        self._index: dict[str, tuple[str, ...]] = {}
        self._tagged: dict[str, int] = {}
        self._adj_tagged: dict[str, int] | None = None
        for parts in _index_entries(self.root / "index.noun"):
            n_syn = int(parts[2])
            self._index[parts[0].lower()] = tuple("n" + o for o in parts[-n_syn:])
            self._tagged[parts[0].lower()] = _tagsense_count(parts)
        self._exc: dict[str, str] = {}
        exc = self.root / "noun.exc"
        if exc.is_file():
            for line in exc.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    self._exc.setdefault(parts[0], parts[1])
        if not self._hyper or not self._index:
            raise ModelError(f"WordNet in {str(self.root)!r} holds no nouns")

    # ------------------------------------------------------------------------------------ lookups
    def __contains__(self, synset: str) -> bool:
        return synset in self._hyper

    def nouns(self) -> list[str]:
        """Every noun synset id, in the order of ``data.noun``."""
        return list(self._gloss)

    def _check(self, synset: str) -> str:
        if synset not in self._hyper:
            raise ParameterError(f"synset={synset!r} is not a WordNet noun synset id like 'n02084071'")
        return synset

    def lemma_forms(self, word: str) -> list[str]:
        """Base forms WordNet would look up for ``word`` (morphology of nouns: exceptions, plural endings)."""
        w = "_".join(word.lower().split()).replace("-", "_")
        forms = [w]
        if w in self._exc:
            forms.append(self._exc[w])
        for suffix, repl in (("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
                             ("men", "man"), ("ies", "y"), ("s", "")):
            if w.endswith(suffix) and len(w) > len(suffix) + 1:
                forms.append(w[: -len(suffix)] + repl)
        return list(dict.fromkeys(forms))

    def synsets(self, word: str) -> list[str]:
        """Noun synsets of ``word`` (or of its base form), most frequent sense first; [] when none."""
        for form in self.lemma_forms(word):
            if form in self._index:
                return list(self._index[form])
        return []

    def tagged_senses(self, word: str) -> int:
        """How many of ``word``'s noun senses (the first ones in :meth:`synsets`) occur in WordNet's tagged corpus.

        The senses after them were never seen in use; 0 when none was (or the word is no noun).
        """
        for form in self.lemma_forms(word):
            if form in self._index:
                return self._tagged.get(form, 0)
        return 0

    def adjective_tagged_senses(self, word: str) -> int:
        """How many adjective senses of ``word`` occur in the tagged corpus (``index.adj``; 0 without it)."""
        if self._adj_tagged is None:
            self._adj_tagged = {}
            path = self.root / "index.adj"
            if path.is_file():
                for parts in _index_entries(path):
                    self._adj_tagged[parts[0].lower()] = _tagsense_count(parts)
        return self._adj_tagged.get("_".join(word.lower().split()), 0)

    def name(self, synset: str) -> str:
        """The first lemma of a synset, with spaces: ``'n02084071'`` -> ``'dog'``."""
        return self._words[self._check(synset)][0].replace("_", " ")

    def lemmas(self, synset: str) -> list[str]:
        return [w.replace("_", " ") for w in self._words[self._check(synset)]]

    def gloss(self, synset: str) -> str:
        return self._gloss[self._check(synset)]

    def lexname(self, synset: str) -> str:
        """The lexicographer file without ``noun.``: ``'animal'``, ``'artifact'`` ..."""
        return NOUN_LEXNAMES.get(self._lex[self._check(synset)], "")

    def hypernyms(self, synset: str) -> tuple[str, ...]:
        return self._hyper[self._check(synset)]

    # ----------------------------------------------------------------------------------- geometry
    @functools.lru_cache(maxsize=65536)  # noqa: B019 (one WordNet per process)
    def ancestors(self, synset: str) -> dict[str, int]:
        """Every hypernym of ``synset`` (itself included, at 0) with its shortest distance upward."""
        dist = {self._check(synset): 0}
        todo = deque([synset])
        while todo:
            s = todo.popleft()
            for h in self._hyper[s]:
                if h not in dist:
                    dist[h] = dist[s] + 1
                    todo.append(h)
        return dist

    def depth(self, synset: str) -> int:
        """Length of the longest hypernym path from ``synset`` up to the root ``entity`` (as NLTK's max_depth)."""
        return self._depth(self._check(synset))

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def _depth(self, synset: str) -> int:
        hyper = self._hyper[synset]
        return 0 if not hyper else 1 + max(self._depth(h) for h in hyper)

    def is_a(self, synset: str, kind: str) -> bool:
        """True when ``kind`` is ``synset`` or one of its hypernyms (a tabby cat is a cat, an animal ...)."""
        return self._check(kind) in self.ancestors(synset)

    def distance(self, a: str, b: str) -> int | None:
        """Shortest path between two synsets through a common hypernym; None when they share none."""
        da, db = self.ancestors(a), self.ancestors(b)
        common = da.keys() & db.keys()
        return min(da[c] + db[c] for c in common) if common else None

    def path_similarity(self, a: str, b: str) -> float:
        """``1 / (1 + shortest path)`` (1 for the same synset, 0 when unrelated)."""
        d = self.distance(a, b)
        return 0.0 if d is None else 1.0 / (1.0 + d)

    def wup_similarity(self, a: str, b: str) -> float:
        """Wu-Palmer: ``2 depth(lcs) / (depth(a) + depth(b))`` with depths counted from 1 at the root."""
        da, db = self.ancestors(a), self.ancestors(b)
        common = da.keys() & db.keys()
        if not common:
            return 0.0
        lcs = max(common, key=lambda c: (self.depth(c), -(da[c] + db[c])))
        d = self.depth(lcs) + 1
        return 2.0 * d / (da[lcs] + d + db[lcs] + d)


@functools.lru_cache(maxsize=2)
def wordnet(root: str | None = None) -> WordNet:
    """The shared :class:`WordNet` (parsed once per process, about two seconds)."""
    return WordNet(root)


#: ImageNet classes whose pictures show a narrower sense than their synset names: class 7 "cock" (WordNet: adult
#: male bird) and class 8 "hen" (adult female bird) are photographs of chickens. They sit at WordNet's rooster
#: and hen (adult female chicken) as well as at their own synsets (:func:`imagenet_ancestors`).
IMAGENET_PICTURED = {"n01514668": "n01792158", "n01514859": "n01792640"}


def imagenet_ancestors(wnid: str, wn: WordNet) -> dict[str, int]:
    """An ImageNet class's WordNet ancestors with their distances, :data:`IMAGENET_PICTURED`'s narrower sense
    included: the ancestors of what its pictures show as well as of its synset."""
    out = dict(wn.ancestors(wnid))
    if wnid in IMAGENET_PICTURED:
        for a, d in wn.ancestors(IMAGENET_PICTURED[wnid]).items():
            out[a] = min(out.get(a, d), d)
    return out


@functools.lru_cache(maxsize=1)
def imagenet_wnids() -> list[str]:
    """The WordNet synset id of each ImageNet class, in class order (``imagenet_wnids()[281] == 'n02123045'``).

    Example
    -------
    >>> imagenet_wnids()[281]
    'n02123045'
    """
    text = resources.files("latentstudio").joinpath("data/imagenet_wnids.txt").read_text(encoding="utf-8")
    ids = [line.strip() for line in text.splitlines() if line.strip()]
    if len(ids) != 1000 or not all(re.fullmatch(r"n\d{8}", i) for i in ids):
        raise ModelError("imagenet_wnids.txt must hold 1000 ids like 'n01440764'")
    return ids


__all__ = ["WordNet", "wordnet", "wordnet_dir", "imagenet_wnids", "imagenet_ancestors", "IMAGENET_PICTURED",
           "NOUN_LEXNAMES"]
