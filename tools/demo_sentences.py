#!/usr/bin/env python3
"""Sentence generator and split for the demo corpus (python3 standard library only).

  demo_sentences.py sentences COUNT SEED   -> COUNT unique lines "text|normalized text" on stdout
  demo_sentences.py split FRACTION SEED    -> reads ids (one a line) on stdin, prints the held-out ids, sorted

A seeded template grammar: subjects, verbs, objects, numbers, places and times, mostly 4-9 words, a vocabulary
that uses every letter of the alphabet. The text column keeps digits and abbreviations (Dr., Mr., Mrs.) the way
LJSpeech's first column does; the normalized column spells them out, and that is what espeak-ng speaks.
"""
import random
import sys

NAMES = ["Anna", "Ben", "Clara", "David", "Ella", "Felix", "Grace", "Hugo", "Iris", "Jack", "Kate", "Leo",
         "Maya", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tess", "Uma", "Victor", "Wendy", "Xavier",
         "Yara", "Zoe"]
TITLES = [("Dr.", "Doctor"), ("Mr.", "Mister"), ("Mrs.", "Missus")]
SURNAMES = ["Jones", "Baker", "Quill", "Fox", "Vance", "Zimmer", "Hale", "Knox"]
ADJECTIVES = ["old", "quiet", "bright", "heavy", "small", "lazy", "brave", "jolly", "warm", "dark", "fuzzy",
              "golden", "velvet", "quick", "empty", "wooden", "cold", "gentle", "noisy", "yellow"]
NOUNS = ["box", "kettle", "jacket", "zebra", "lamp", "garden", "violin", "ladder", "basket", "window",
         "puzzle", "wagon", "quilt", "hammer", "engine", "mirror", "oyster", "pillow", "rocket", "banjo",
         "fox", "kitten", "letter", "map", "bridge", "candle", "yacht", "jar"]
PLURALS = {"box": "boxes", "kettle": "kettles", "jacket": "jackets", "zebra": "zebras", "lamp": "lamps",
           "garden": "gardens", "violin": "violins", "ladder": "ladders", "basket": "baskets",
           "window": "windows", "puzzle": "puzzles", "wagon": "wagons", "quilt": "quilts",
           "hammer": "hammers", "engine": "engines", "mirror": "mirrors", "oyster": "oysters",
           "pillow": "pillows", "rocket": "rockets", "banjo": "banjos", "fox": "foxes", "kitten": "kittens",
           "letter": "letters", "map": "maps", "bridge": "bridges", "candle": "candles", "yacht": "yachts",
           "jar": "jars"}
VERBS_PAST = ["found", "carried", "painted", "fixed", "moved", "watched", "bought", "sold", "opened",
              "lifted", "mixed", "cleaned", "juggled", "packed", "wrapped", "dropped", "chose", "squeezed"]
VERBS_BASE = ["find", "carry", "paint", "fix", "move", "watch", "buy", "sell", "open", "lift", "mix",
              "clean", "pack", "wrap", "choose", "visit"]
PLACES = ["in the kitchen", "near the river", "at the market", "by the lake", "on the hill",
          "in the village", "under the bridge", "at the zoo", "in the quarry", "behind the barn",
          "at the harbour", "in the valley", "near the jungle", "on the boat"]
TIMES = ["today", "yesterday", "at noon", "last week", "every morning", "on Monday", "on Friday",
         "in June", "at dawn", "tonight", "in winter"]
EXCLAIM = ["Look at the", "Bring me the", "Please close the", "Never touch the", "Quickly grab the"]

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n):
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    raise ValueError(n)


def person(rng):
    if rng.random() < 0.2:
        title, spoken = rng.choice(TITLES)
        surname = rng.choice(SURNAMES)
        return f"{title} {surname}", f"{spoken} {surname}"
    name = rng.choice(NAMES)
    return name, name


def sentence(rng):
    """Returns (text, normalized). Parts are (written, spoken) pairs."""
    kind = rng.randrange(10)
    adj, noun, noun2 = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(NOUNS)
    if kind == 0:
        who = person(rng)
        parts = [who, (rng.choice(VERBS_PAST),) * 2, ("the",) * 2, (adj,) * 2, (noun,) * 2]
        if rng.random() < 0.5:
            parts.append((rng.choice(TIMES),) * 2)
        end = "."
    elif kind == 1:
        n = rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 17, 20, 24, 30, 42, 56, 75, 99, 100, 250])
        parts = [(str(n), number_words(n)), (PLURALS[noun],) * 2, ("were",) * 2, (rng.choice(VERBS_PAST),) * 2,
                 (rng.choice(PLACES),) * 2]
        end = "."
    elif kind == 2:
        who = person(rng)
        parts = [("Did",) * 2, who, (rng.choice(VERBS_BASE),) * 2, ("the",) * 2, (noun,) * 2]
        if rng.random() < 0.4:
            parts.append((rng.choice(PLACES),) * 2)
        end = "?"
    elif kind == 3:
        parts = [("The",) * 2, (adj,) * 2, (noun,) * 2, ("is",) * 2, (rng.choice(PLACES),) * 2]
        end = "."
    elif kind == 4:
        parts = [(rng.choice(EXCLAIM),) * 2, (adj,) * 2, (noun,) * 2]
        end = "!"
    elif kind == 5:
        who = person(rng)
        n = rng.randrange(2, 13)
        parts = [who, ("has",) * 2, (str(n), number_words(n)), (rng.choice(ADJECTIVES),) * 2, (PLURALS[noun2],) * 2]
        end = "."
    elif kind == 7:
        who = person(rng)
        parts = [who, (rng.choice(VERBS_PAST),) * 2, ("the",) * 2, (noun,) * 2]
        end = "."
    elif kind == 8:
        parts = [("The",) * 2, (noun,) * 2, ("looks",) * 2, (adj,) * 2]
        end = "."
    elif kind == 9:
        n = rng.randrange(2, 20)
        parts = [(str(n), number_words(n)), (adj,) * 2, (PLURALS[noun],) * 2, (rng.choice(TIMES),) * 2]
        end = "."
    else:
        parts = [("We",) * 2, (rng.choice(VERBS_PAST),) * 2, ("a",) * 2, (noun,) * 2, ("and",) * 2,
                 ("a",) * 2, (noun2,) * 2]
        if rng.random() < 0.3:
            parts.append((rng.choice(TIMES),) * 2)
        end = "."
    written = " ".join(p[0] for p in parts) + end
    spoken = " ".join(p[1] for p in parts) + end
    spoken = spoken[0].upper() + spoken[1:]
    # "a" before a vowel sound
    for vowel in "aeiou":
        written = written.replace(f" a {vowel}", f" an {vowel}")
        spoken = spoken.replace(f" a {vowel}", f" an {vowel}")
    return written, spoken


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "sentences":
        count, rng = int(sys.argv[2]), random.Random(int(sys.argv[3]))
        seen = set()
        while len(seen) < count:
            text, spoken = sentence(rng)
            if text in seen:
                continue
            seen.add(text)
            print(f"{text}|{spoken}")
    elif len(sys.argv) == 4 and sys.argv[1] == "split":
        fraction, rng = float(sys.argv[2]), random.Random(int(sys.argv[3]))
        ids = [line.strip() for line in sys.stdin if line.strip()]
        k = max(1, round(len(ids) * fraction))
        for i in sorted(rng.sample(ids, k)):
            print(i)
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
