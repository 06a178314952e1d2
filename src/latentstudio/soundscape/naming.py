"""A sound's label from its name: folder and file names -> words -> one WordNet noun synset.

Game and sample-pack sounds are named like ``wolf-growl-3.ogg``, ``drum_cymbal_open.flac`` or
``"Steam train station departure"``. :func:`name_words` splits such names; :func:`label_synset` picks the
word that names the sound's *source* and maps it to a WordNet noun sense:

* compounds first (``alarm clock``, ``snare drum``), then single words, file name before folders;
* action and size words (``hit``, ``miss``, ``die``, ``big``) and sample-pack jargon are skipped, a few
  abbreviations are spelled out (``bd`` -> bass drum, ``guit`` -> guitar);
* an abbreviation glued to the next word is split off (``hovmove`` -> hovercraft, ``mgheavy`` -> machine gun);
* among a word's senses the senses seen in use (WordNet's tagged corpus) compete, with any animal sense,
  when one of them is concrete (an animal, an artifact, a natural phenomenon or event ...): ``thunder`` is
  thunder, not a slang artifact; a word seen in use only as an adjective (``electric``) names nothing;
  among the words, animals and artifacts beat phenomena, and those beat people and acts, so
  ``horse-canter`` is a horse and ``ship-horn`` a ship; a word of the package's own glossary
  (:data:`PACKAGE_WORDS`) beats them all, as the package says what it is (Warzone's ``cyber-move`` in its
  ``vehicle`` folder is a cyborg walking, though a cyborg is a person to WordNet and a vehicle an artifact).

:data:`SENSES` fixes the sense of a few words whose most frequent sense is not the one a sound library
means (a ``bow`` that shoots, a ``horn`` that is blown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from latentstudio.zoo.wordnet import WordNet

#: Words that never name a sound's source (actions, sizes, takes, sample-pack jargon).
STOP_WORDS = frozenset("""
a an and the of in on at to with by for from into out off up down over under after before
sound sounds sfx fx effect effects sample samples loop loops audio stereo mono data core ogg wav flac oga
hit hits miss die dies death attack strike fire fired firing shoot small big puny large little huge soft hard
open closed close lo hi high low mid short long new old start stop end begin ending fast slow
left right front rear center centre side one two three four five six seven eight nine ten
misc generic extra variant alt version take edit edited original raw mix remix
good bad excellent well done ambi elec perc glitch mehackit vinyl dark light heavy
cartoon photo toy toys kick year mr magic road modern comedy toyland tropical early mach fuzz lumber final
hop jump grow hurt kill flip flop fall lowercase uppercase filled outline outlined german umlaut eszett
hobbies household dishes tools arttools music string percussion seasonal christmas halloween hanukkah newyears
red white golden interfce buffers rand stream no ss xing symbols alphabets alphabet letters numbers
""".split())

#: Abbreviations of sample packs, spelled out.
ABBREVIATIONS = {"bd": "bass drum", "sn": "snare drum", "guit": "guitar", "tabla": "drum", "cym": "cymbal",
                 "hh": "hi hat", "firetruck": "fire engine", "tom": "drum", "blackcat": "cat", "santahat": "hat", "rubberduck": "duck",
                 "lightningbolt": "lightning", "drumkit": "drum", "mountaingoat": "mountain goat",
                 "tucan": "toucan", "dreydl": "dreidel", "apollo": "spacecraft", "lander": "spacecraft",
                 "gryphon": "griffin", "naga": "snake", "mermen": "merman", "tusker": "elephant", "lich": "skeleton",
                 "ghoul": "zombie", "thunderstick": "gun", "dragonstick": "gun", "vtol": "airplane", "hov": "hovercraft",
                 "expl": "explosion", "explons": "explosion", "mg": "machine gun", "flmthrow": "flamethrower",
                 "bldg": "building", "richet": "ricochet", "tux": "penguin", "pengwin": "penguin"}

#: Word -> WordNet synset id, where the most frequent sense is not the sound's.
SENSES = {"bow": "n02879718",        # the weapon for shooting arrows, not the knot
          "horn": "n03110669",       # the brass instrument, not the party noisemaker
          "club": "n03053474", "staff": "n04296261", "sling": "n04239639", "spear": "n04270891",
          "net": "n03819994", "bell": "n02824448", "drum": "n03249569", "gold": "n13371760",
          "chest": "n03014705", "bat": "n02139199", "crow": "n01579028", "fly": "n02190166",
          "tree": "n13104059", "cow": "n02403454", "tiger": "n02129604", "dolphin": "n02068974",
          "wind": "n11525955",
          "peacock": "n01806143",    # the bird that calls, not the (silent) butterfly
          "cock": "n01792158",       # the rooster, not a stopcock
          "bass": "n02803349",       # the lowest instrument of a family, not the fish
          "pop": "n07390400",        # the sharp sound, not a father
          "pike": "n03935450"}       # the pole weapon, not a turnpike

#: Words one package uses in its own sense (Wesnoth's drakes are dragons, its woses walking trees; Warzone 2100's
#: sound table calls its construction droids, Trucks in the game, ``con``, its transport blimp ``t``, its
#: cyborgs ``cyber``; 0 A.D. names footsteps ``fs``/``hstep``, cavalry hooves ``mstep``, its siege ram ``ram``,
#: and its ``water`` folder (rivers, waves, a waterfall), ``wood`` surfaces (arrows in wood, steps on it) and
#: ``gather`` actions name no source). A word glossed as '' is dropped.
PACKAGE_WORDS = {"wesnoth-1.16-data": {"drake": "dragon", "wose": "tree"},
                 "warzone2100-data": {"con": "truck", "t": "blimp", "cyber": "cyborg"},
                 "0ad-data": {"fs": "footstep", "hstep": "footstep", "mstep": "horse", "ram": "battering ram",
                              "water": "", "wood": "", "gather": ""}}

#: Separator between the words of different names (see :func:`name_words`).
SEP = "|"

_PRIORITY = {"animal": 0, "artifact": 1, "phenomenon": 2, "event": 2, "object": 2, "substance": 2, "food": 2,
             "plant": 2, "body": 3, "person": 3, "act": 4, "communication": 4, "process": 4, "group": 4}


def name_words(*names: str, separate: bool = False) -> list[str]:
    """Lower-case words of names, file name first: ``("wolf-growl-3", "sounds")`` -> ``['wolf', 'growl', 'sounds']``.

    CamelCase is split, digits and one-letter words are dropped. ``separate=True`` puts :data:`SEP`
    between the words of different names, so that no compound is read across a folder boundary.

    Example
    -------
    >>> name_words("drum_cymbal_open", "fireTruck2")
    ['drum', 'cymbal', 'open', 'fire', 'truck']
    """
    out = []
    for i, name in enumerate(names):
        name = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
        if i and out and out[-1] != SEP:
            out.append(SEP)
        out += [w for w in re.split(r"[^a-z]+", name.lower()) if len(w) > 1]
    return [w for w in out if w != SEP] if not separate else out


@dataclass(frozen=True)
class Label:
    """A sound's label: the WordNet synset, the words it came from, and the synset's first lemma."""

    synset: str
    words: str
    name: str


def _sense(wn: WordNet, word: str) -> tuple[int, str] | None:
    """(priority, synset) of the concrete noun sense of ``word``; None when WordNet has none.

    Only senses seen in use (WordNet's tagged corpus) compete when one of them is concrete: a rare
    sense never seen in use does not beat them for being an artifact (``thunder`` is thunder, not the
    slang for heroin; ``zombie`` the creature, not the cocktail; ``wood`` the material, not a woodwind).
    An animal sense always competes (a ``whale`` in a sound library is the animal, not a large person).
    A word seen in use only as an adjective names no source (``electric`` sparking is no electric car).
    """
    if word in SENSES and SENSES[word] in wn:
        sid = SENSES[word]
        return _PRIORITY.get(wn.lexname(sid), 5), sid
    senses = wn.synsets(word)
    tagged = wn.tagged_senses(word)
    if not tagged and wn.adjective_tagged_senses(word):
        return None
    if any(_PRIORITY.get(wn.lexname(sid)) is not None for sid in senses[:tagged]):
        senses = senses[:tagged] + [sid for sid in senses[tagged:] if wn.lexname(sid) == "animal"]
    best = None
    for sid in senses:
        pri = _PRIORITY.get(wn.lexname(sid))
        if pri is not None and (best is None or pri < best[0]):
            best = (pri, sid)
        if best is not None and best[0] <= 1:
            break
    return best


def _split_glued(word: str, wn: WordNet, own: dict[str, str]) -> list[str]:
    """``word``, or its two parts when it is an abbreviation glued to a word (``hovmove``, ``vtolland``).

    Only a word that is neither a WordNet noun nor a known abbreviation is split, and only after an
    abbreviation (:data:`ABBREVIATIONS`, the package's own words) followed by 3 letters or more:
    ``hovmove`` -> ``hov move`` (hovercraft), ``vtolland`` -> ``vtol land``, ``mgheavy`` -> ``mg heavy``.
    Two dictionary words glued together are left alone: splitting them guesses too often
    (``sparking`` is no ``spar king``, ``wardrums`` no ``ward rums``).
    """
    if word == SEP or len(word) < 4 or word in STOP_WORDS or word in own or word in ABBREVIATIONS or wn.synsets(word):
        return [word]
    for i in range(len(word) - 3, 0, -1):                 # the longest abbreviation first
        if word[:i] in own or word[:i] in ABBREVIATIONS:
            return [word[:i], word[i:]]
    return [word]


def label_synset(words: list[str], wn: WordNet, *, package: str = "") -> Label | None:
    """The label of a sound named by ``words`` (file name words first, then folder words); None if none maps.

    Example
    -------
    >>> from latentstudio.zoo.wordnet import wordnet
    >>> label_synset(name_words("horse-canter"), wordnet()).name        # doctest: +SKIP
    'horse'
    """
    expanded: list[str] = []
    own = PACKAGE_WORDS.get(package, {})
    glossed: set[int] = set()                         # positions spelled out by the package's own glossary
    for w in words:
        for part in _split_glued(w, wn, own):
            spelled = own.get(part, ABBREVIATIONS.get(part, part)).split()
            if part in own:
                glossed.update(range(len(expanded), len(expanded) + len(spelled)))
            expanded += spelled
    cands: list[tuple[int, int, str, str]] = []       # (priority, position, synset, words)
    for i in range(len(expanded) - 1):                # compounds: "snare drum", "alarm clock"
        a, b = expanded[i], expanded[i + 1]
        if SEP in (a, b) or (a in STOP_WORDS and b in STOP_WORDS):
            continue
        hit = _sense(wn, f"{a}_{b}")
        if hit is not None:                           # a glossary's compound ("battering ram") ranks as its words
            cands.append((-1 if {i, i + 1} <= glossed else hit[0], i, hit[1], f"{a} {b}"))
    for i, w in enumerate(expanded):
        if w in STOP_WORDS or w == SEP or any(c[1] in (i, i - 1) for c in cands):
            continue
        hit = _sense(wn, w)
        if hit is not None:                           # the package's own word for a thing names the source
            cands.append((-1 if i in glossed else hit[0], i, hit[1], w))
    if not cands:
        return None
    pri, _, sid, used = min(cands, key=lambda c: (c[0], c[1]))
    return Label(synset=sid, words=used, name=wn.name(sid))


__all__ = ["name_words", "label_synset", "Label", "STOP_WORDS", "ABBREVIATIONS", "SENSES", "PACKAGE_WORDS"]
