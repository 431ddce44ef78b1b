"""Recall and false alarms of the redaction detector (redaction/detect.py) on a corpus of our own.

Two parts, reported apart: hand-written utterances as callers say them (tests/data/redaction_corpus.jsonl,
each labelled with what must be found, and sentences that hold none of it), and generated variants
(seeded, so every run measures the same corpus): valid card numbers, SSNs, US phone numbers and e-mail
addresses, written plain, grouped with spaces, dashes or dots, and spoken digit by digit (with "oh" and
"double"), inside sentences. A labelled entity counts as found when one finding of its kind covers all
of it. Run: `uv run python -m bench.redaction_recall` (docs/redaction.md has the last figures)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tether_relay.redaction.detect import ENTITIES, find

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "redaction_corpus.jsonl"
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FRAMES = ["my {} is {} thanks", "it's {}", "the {} is {}, okay", "{}", "uh so {} I think"]


def covered(text: str, said: str, entity: str) -> bool:
    start = text.find(said)
    return any(
        f.entity == entity and f.start <= start and f.end >= start + len(said) for f in find(text, ENTITIES)
    )


def luhn(body: str) -> str:
    total = sum(
        (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d
        for i, d in enumerate(int(c) for c in reversed(body))
    )
    return body + str((10 - total % 10) % 10)


def spoken(digits: str, coin: Callable[[], bool]) -> str:
    """Digit by digit; where `coin()` says so, "oh" for a zero and "double" for a pair (also used by the
    detector's property tests, with Hypothesis drawing the coin)."""
    said: list[str] = []
    i = 0
    while i < len(digits):
        if i + 1 < len(digits) and digits[i] == digits[i + 1] and coin():
            said += ["double", WORDS[int(digits[i])]]
            i += 2
            continue
        said.append("oh" if digits[i] == "0" and coin() else WORDS[int(digits[i])])
        i += 1
    return " ".join(said)


def grouped(digits: str, sizes: list[int], separator: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    parts.append(digits[at:])
    return separator.join(p for p in parts if p)


def generated(rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    """(entity, form, text, the labelled part)."""
    cases = []
    for _ in range(count):
        prefix = rng.choice(["4", "51", "37", "6011"])
        card = luhn(prefix + "".join(rng.choice("0123456789") for _ in range(15 - len(prefix))))
        area = rng.choice([a for a in range(1, 900) if a != 666])
        ssn = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        exchange = f"{rng.randint(2, 9)}{rng.randint(0, 99):02d}"
        phone = (
            f"{rng.randint(2, 9)}{rng.randint(0, 8)}{rng.randint(0, 9)}{exchange}{rng.randint(0, 9999):04d}"
        )
        for entity, digits, sizes, label in (
            ("CREDIT_CARD", card, [4, 4, 4], "card number"),
            ("US_SSN", ssn, [3, 2], "social"),
            ("PHONE_NUMBER", phone, [3, 3], "number"),
        ):
            for form, said in (
                ("plain", digits),
                ("grouped", grouped(digits, sizes, rng.choice([" ", "-", "."]))),
                ("spoken", spoken(digits, lambda: rng.random() < 0.4)),
            ):
                frame = rng.choice(FRAMES)
                text = frame.format(label, said) if frame.count("{}") == 2 else frame.format(said)
                cases.append((entity, form, text, said))
        user = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(3, 8)))
        domain = rng.choice(["gmail", "example", "outlook", "acme"])
        tld = rng.choice(["com", "org", "net", "io"])
        for form, said in (
            ("written", f"{user}@{domain}.{tld}"),
            ("spoken", f"{user} at {domain} dot {tld}"),
        ):
            cases.append(("EMAIL_ADDRESS", form, f"you can mail {said} anytime", said))
    return cases


def main() -> None:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    hand: Counter[str] = Counter()
    hand_found: Counter[str] = Counter()
    false_alarms = clean = 0
    for row in rows:
        if not row["entities"]:
            clean += 1
            false_alarms += bool(find(row["text"], ENTITIES))
        for entity, said in row["entities"]:
            hand[entity] += 1
            hand_found[entity] += covered(row["text"], said, entity)
    print("hand-written corpus (tests/data/redaction_corpus.jsonl)")
    print("| entity | labelled | found | recall |\n|---|---|---|---|")
    for entity in ENTITIES:
        recall = hand_found[entity] / max(hand[entity], 1)
        print(f"| {entity} | {hand[entity]} | {hand_found[entity]} | {recall:.0%} |")
    print(f"sentences holding none: {clean}, with a false alarm: {false_alarms}\n")

    cases = generated(random.Random(15), 200)
    total: Counter[tuple[str, str]] = Counter()
    found: Counter[tuple[str, str]] = Counter()
    for entity, form, text, said in cases:
        total[entity, form] += 1
        found[entity, form] += covered(text, said, entity)
    print("generated variants (seed 15)")
    print("| entity | form | cases | recall |\n|---|---|---|---|")
    for entity, form in sorted(total):
        print(
            f"| {entity} | {form} | {total[entity, form]} | {found[entity, form] / total[entity, form]:.1%} |"
        )


if __name__ == "__main__":
    main()
