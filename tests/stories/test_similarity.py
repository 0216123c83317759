"""The pure story core: shingles, band keys and the confirming similarity."""

from __future__ import annotations

import pytest

from stories import BANDS, fingerprint, fingerprints, same_story, similarity
from stories.fingerprint import LEAD_BANDS, LEAD_UNITS, ROWS, SEED, article_shingles, minhash
from stories.shingles import MAX_UNITS, shingles, units
from tests.stories.cases import CASES

BY_NAME = {c.name: c for c in CASES}


def _print(name: str):  # type: ignore[no-untyped-def]
    case = BY_NAME[name]
    return fingerprint(case.title, case.text)


def test_fingerprint_is_stable() -> None:
    """The same text gives the same keys in every process (no per-process hash seed)."""
    case = BY_NAME["en:wire"]
    first = fingerprint(case.title, case.text)
    assert first == fingerprint(case.title, case.text)
    assert len(first.band_keys) > BANDS
    assert all(-(2**63) <= k < 2**63 for k in first.band_keys)


@pytest.mark.parametrize("name", ["en:wire", "zh:short", "de:lead"])
@pytest.mark.parametrize(("lead", "bands"), [(False, BANDS), (True, LEAD_BANDS)])
def test_minhash_is_datasketchs(name: str, lead: bool, bands: int) -> None:
    """The vectorised MinHash gives datasketch's "affine32" values under the first of the
    permutations it draws for `SEED` (40 of them, as keys stored before were made)."""
    from datasketch import MinHash

    case = BY_NAME[name]
    found = article_shingles(case.title, case.text)[lead]
    drawn = MinHash(num_perm=40, seed=SEED, scheme="affine32").permutations
    reference = MinHash(
        num_perm=bands * ROWS,
        seed=SEED,
        hashfunc=int,
        permutations=drawn[:, : bands * ROWS],
        scheme="affine32",
    )
    reference.update_batch(found)
    assert minhash(found, lead=lead).tolist() == reference.hashvalues.tolist()


# The keys this release stores (migration 0011 re-keyed the index to them).
_KEYS = {
    "en:wire": (
        -8701579166764183417, -1399430600616791238, 2919180459603072046, -6758666814973142128,
        -5937418180289058900, -7029696338504314448, 2175662447811329658, 6120014817986083999,
        6014602392361904888, -1007839951919237261, -5374853100174581967, -2056812365420258113,
        -7967393050785195376, -2859873254413428169,
    ),
    "zh:wire": (
        -6156044628205396415, 3479191945028463908, -8376478860166360395, -5739891094720149188,
        -8284872160339233705, -2058522291474804392, -6101530289391041487, 4992687030178589399,
        2597365227883056836, -3688861290176130819, -681634423774195072, 1761354056530992482,
        6007932256437225509, -7010623550453829268,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_KEYS))
def test_keys_are_pinned(name: str) -> None:
    """Keys one release stores, the next looks up: a change to the units, the shingles
    or the keys needs a migration that re-keys the index (as 0011 did), then a new pin."""
    assert _print(name).band_keys == _KEYS[name]


def test_a_lead_is_the_opening_of_the_text_alone() -> None:
    """The lead's shingles are those of `units(text, LEAD_UNITS)`, whatever the title,
    in spaced and unspaced scripts and across a budget that runs out inside a run."""
    for text in [
        " ".join(f"w{n}" for n in range(100)),
        "华为公司" * 30,
        "Huawei 向 字节跳动 供应 芯片。" * 12,
        "a " * 39 + "字节跳动字节跳动",
    ]:
        for title in ("", "A title of a few words"):
            assert fingerprint(title, text).lead == shingles(units(text, LEAD_UNITS))


def test_case_width_and_accents_do_not_matter() -> None:
    """Shingles come from the rules tokeniser: folded case, accents and widths."""
    a = fingerprint("ＨＵＡＷＥＩ Café", "Über den Verkauf berichtete die Zeitung am Montag früh.")
    b = fingerprint("huawei cafe", "uber den verkauf berichtete die zeitung am montag fruh")
    assert a == b


def test_unspaced_scripts_shingle_by_character() -> None:
    """Chinese text gives character 3-grams: a run is split into its characters."""
    assert units("华为公司 ByteDance") == ["华", "为", "公", "司", "bytedance"]


def test_only_the_opening_counts() -> None:
    """The work per article is bounded: only the first units are read."""
    assert len(units("word " * 10_000)) == MAX_UNITS


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("en:wire", "en:edited"),
        ("en:wire", "en:lead"),
        ("en:wire", "en:short"),
        ("id:wire", "id:short"),
        ("de:edited", "de:lead"),
        ("zh:wire", "zh:lead"),
        ("zh:edited", "zh:short"),
    ],
)
def test_copies_are_candidates_and_confirmed(a: str, b: str) -> None:
    """Syndicated copies, different leads and short items share band keys and pass."""
    fa, fb = _print(a), _print(b)
    assert set(fa.band_keys) & set(fb.band_keys)
    assert same_story(fa, fb), similarity(fa.shingles, fb.shingles)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("en:wire", "en:profit"),
        ("en:wire", "en:followup"),
        ("id:edited", "id:followup"),
        ("de:wire", "de:profit"),
        ("zh:wire", "zh:followup"),
        ("zh:short", "zh:profit"),
        ("en:wire", "id:wire"),
        ("de:wire", "en:wire"),
        ("zh:wire", "en:wire"),
    ],
)
def test_different_events_and_translations_are_refused(a: str, b: str) -> None:
    """Same names in another event, a follow-up, a translation: never one story."""
    fa, fb = _print(a), _print(b)
    assert not same_story(fa, fb), similarity(fa.shingles, fb.shingles)


def test_tiny_items_never_merge() -> None:
    """Two headlines that share most words are not evidence enough."""
    a = fingerprint("Huawei reports record profit", "")
    b = fingerprint("Huawei reports record profit again", "")
    assert not same_story(a, b)


def test_a_follow_up_that_contains_the_story_is_refused() -> None:
    """Containment alone is not enough: a follow-up quoting the whole short original
    leads with new facts, where a short item leads like its long copy."""
    original = BY_NAME["en:short"]
    follow_up = fingerprint(
        "Huawei ships first chips to ByteDance",
        "Huawei began shipping the processors on Wednesday, weeks ahead of the schedule "
        "both companies had given investors, a spokesman for the buyer confirmed. The first "
        "batch covers about a tenth of the order and will go to data centres in Ulanqab and "
        "Wuhu, he said, while the rest depends on how fast the contract manufacturer can "
        "raise output at its new plant. Last week's report: " + original.text,
    )
    short = fingerprint(original.title, original.text)
    assert similarity(short.shingles, follow_up.shingles)[1] > 0.7
    assert not same_story(short, follow_up)


def test_empty_article_has_no_keys() -> None:
    assert fingerprint("", "").band_keys == ()


def test_a_batch_fingerprints_each_article_as_alone() -> None:
    """`fingerprints` of a feed's items, empty ones and ones without a lead among them
    (anywhere in the batch, last too), equal each item's own `fingerprint`."""
    texts = [("", ""), *((c.title, c.text) for c in CASES[:6]), ("Only a title here", "")]
    texts += [("", "two words"), (CASES[6].title, CASES[6].text), ("Title, no text", "")]
    batch = fingerprints(texts)
    for (title, text), made in zip(texts, batch, strict=True):
        alone = fingerprint(title, text)
        assert made == alone and made.band_keys == alone.band_keys
    assert not batch[0].band_keys and batch[1].band_keys
    assert len(batch[7].band_keys) == BANDS  # no text, so no lead bands
