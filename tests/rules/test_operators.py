"""Every operator, in English, Indonesian, German, Turkish, Chinese, Japanese, Arabic and
Russian: the evaluator and the index must both give the expected answer."""

from __future__ import annotations

import pytest

from rules import Document, RuleIndex, evaluate, parse

EN = Document(
    title="Huawei unveils Ascend-910B chip",
    text="The company said its AI accelerator rivals Nvidia. Analysts at the café were sceptical.",
    url="https://www.reuters.com/tech/huawei-ascend",
    feed="Reuters Technology https://www.reuters.com/rss",
    lang="en-US",
)
ID = Document(
    title="ByteDance dan Huawei jajaki kerja sama",
    text="Perusahaan induk TikTok berunding soal pusat data di Jakarta dan Surabaya.",
    lang="id",
)
DE = Document(
    title="Großer Streik an der Hauptstraße",
    text="Die Gewerkschaft fordert höhere Löhne für Bäcker in München.",
    lang="de",
)
TR = Document(
    title="İstanbul'da yapay zekâ zirvesi",
    text="Türkiye'nin ılık kış günlerinde ISPARTA ve Iğdır temsilcileri katıldı.",
    lang="tr",
)
ZH = Document(
    title="华为公司发布新芯片",
    text="字节跳动与华为在北京签署合作协议。Ｈｕａｗｅｉ Mate 60",
    lang="zh-CN",
)
JA = Document(
    title="ソフトバンクがＡＩ投資を発表", text="東京で孫正義氏は半導体への投資を語った。", lang="ja"
)
AR = Document(
    title="هواوي تطلق شريحة جديدة", text="قالت الشَّرِكَة إن المعالج الجديد ينافس إنفيديا", lang="ar"
)
TH = Document(title="ข่าวเศรษฐกิจ", text="นายกรัฐมนตรีเดินทางไปกรุงเทพมหานครวันนี้", lang="th")
RU = Document(
    title="Ёлка на Красной площади",
    text="Компания «Яндекс» объявила о запуске нового сервиса в Москве.",
    lang="ru",
)

CASES = [
    # English: words, case, accents, hyphens, operators, fields
    ("en", EN, "huawei", True),
    ("en", EN, "HUAWEI AND nvidia", True),
    ("en", EN, "AI", True),
    ("en", EN, "ai AND NOT said", False),
    ("en", Document(text="he said so"), "AI", False),
    ("en", EN, "Huawei OR Apple", True),
    ("en", EN, "Apple OR Samsung", False),
    ("en", EN, "Huawei -Nvidia", False),
    ("en", EN, "Huawei NOT Apple", True),
    ("en", EN, '"Ascend 910B"', True),
    ("en", EN, '"910B Ascend"', False),
    ("en", EN, "Ascend-910B", True),
    ("en", EN, "cafe", True),
    ("en", EN, "accel*", True),
    ("en", EN, "accelz*", False),
    ("en", EN, "huawei nvidia apple", False),
    ("en", EN, "huawei and apple", False),  # lower-case `and` is a word
    ("en", EN, "(Apple OR Huawei) AND (Nvidia OR AMD)", True),
    ("en", EN, "Apple OR Huawei AND AMD", False),  # AND binds tighter than OR
    ("en", EN, "NOT Apple Huawei", True),  # NOT binds tighter than AND
    ("en", EN, "company NEAR/4 accelerator", True),
    ("en", EN, "company NEAR/3 accelerator", False),
    ("en", EN, "accelerator NEAR/4 company", True),
    ("en", EN, "company ONEAR/4 accelerator", True),
    ("en", EN, "accelerator ONEAR/4 company", False),
    ("en", EN, "huawei NEAR nvidia", False),  # NEAR means NEAR/10
    ("en", EN, "chip NEAR company", True),
    ("en", EN, '"the company" NEAR/5 accelerator', True),
    ("en", EN, '"the company" NEAR/4 accelerator', False),
    ("en", EN, "(nvidia OR amd) NEAR/4 rivals", True),
    ("en", EN, "title:huawei", True),
    ("en", EN, "title:nvidia", False),
    ("en", EN, "text:nvidia", True),
    ("en", EN, 'title:"910B chip"', True),
    ("en", EN, "url:reuters", True),
    ("en", EN, "url:nvidia", False),
    ("en", EN, "feed:technology", True),
    ("en", EN, "feed:bloomberg", False),
    ("en", EN, "lang:en huawei", True),
    ("en", EN, "lang:de huawei", False),
    ("en", EN, "chip ONEAR/1 company", False),  # title and body do not run into each other
    # Indonesian
    ("id", ID, "ByteDance AND Huawei", True),
    ("id", ID, "bytedance huawei -tiktok", False),
    ("id", ID, '"pusat data"', True),
    ("id", ID, '"data pusat"', False),
    ("id", ID, "Jakarta NEAR/2 Surabaya", True),
    ("id", ID, "berund*", True),
    ("id", ID, "lang:id AND tiktok", True),
    ("id", ID, "title:tiktok", False),
    # German: ß folds to ss, umlauts lose their dots
    ("de", DE, "hauptstrasse", True),
    ("de", DE, "Hauptstraße", True),
    ("de", DE, "grosser AND streik", True),
    ("de", DE, "loehne", False),
    ("de", DE, "lohne OR baecker", True),
    ("de", DE, "Muenchen", False),
    ("de", DE, "münchen", True),
    ("de", DE, '"höhere Löhne"', True),
    ("de", DE, "gewerk*", True),
    ("de", DE, "Bäcker ONEAR/2 München", True),
    # Turkish: İ and ı fold to i
    ("tr", TR, "istanbul", True),
    ("tr", TR, "İSTANBUL", True),
    ("tr", TR, "ilik", True),
    ("tr", TR, "ılık", True),
    ("tr", TR, "Isparta AND igdir", True),
    ("tr", TR, "zeka NEAR/2 zirvesi", True),
    ("tr", TR, "turkiye", True),
    ("tr", TR, "title:isparta", False),
    # Chinese: substrings of Han runs
    ("zh", ZH, "华为", True),
    ("zh", ZH, "华为 AND 字节跳动", True),
    ("zh", ZH, "(ByteDance OR 字节跳动) AND (Huawei OR 华为)", True),
    ("zh", ZH, "腾讯", False),
    ("zh", ZH, "华为 -腾讯", True),
    ("zh", ZH, '"华为 公司"', True),
    ("zh", ZH, "title:字节跳动", False),
    ("zh", ZH, "lang:zh 华为", True),
    ("zh", ZH, "lang:zh-TW 华为", False),
    ("zh", ZH, "huawei", True),
    ("zh", ZH, "Ｈｕａｗｅｉ", True),
    ("zh", ZH, '"huawei mate"', True),
    # Inside an unspaced run each character is one position: 华为 is 13 from Mate here.
    ("zh", ZH, "华为 NEAR/3 mate", False),
    ("zh", ZH, "华为 NEAR/13 mate", True),
    ("zh", ZH, "协议 NEAR/3 mate", True),
    # Japanese: kana and kanji runs, full-width Latin
    ("ja", JA, "ソフトバンク", True),
    ("ja", JA, "AI", True),
    ("ja", JA, "半導体 AND 東京", True),
    ("ja", JA, "ｿﾌﾄﾊﾞﾝｸ", True),  # half-width katakana
    ("ja", JA, "トヨタ OR 楽天", False),
    ("ja", JA, "title:孫正義", False),
    # Arabic: harakat are stripped
    ("ar", AR, "هواوي", True),
    ("ar", AR, "الشركة", True),
    ("ar", AR, "هواوي AND إنفيديا", True),
    ("ar", AR, '"شريحة جديدة"', True),
    ("ar", AR, "هواوي -إنفيديا", False),
    # Thai: substrings of runs, tone marks kept
    ("th", TH, "กรุงเทพ", True),
    ("th", TH, "นายกรัฐมนตรี AND เศรษฐกิจ", True),
    ("th", TH, "title:กรุงเทพ", False),
    ("th", TH, "เชียงใหม่", False),
    # Russian: case and ё
    ("ru", RU, "яндекс", True),
    ("ru", RU, "ЯНДЕКС AND москве", True),
    ("ru", RU, "елка", True),
    ("ru", RU, '"красной площади"', True),
    ("ru", RU, "запуск*", True),
    ("ru", RU, "Яндекс ONEAR/3 запуске", True),
    ("ru", RU, "запуске ONEAR/3 Яндекс", False),
    ("ru", RU, "title:яндекс", False),
]


@pytest.mark.parametrize(
    ("language", "doc", "query", "expected"),
    CASES,
    ids=[f"{c[0]}:{c[2]}" for c in CASES],
)
def test_operator(language: str, doc: Document, query: str, expected: bool) -> None:
    """The evaluator and the index agree with the documented meaning of each operator."""
    parsed = parse(query)
    assert evaluate(parsed, doc) is expected
    index = RuleIndex()
    index.add(1, parsed)
    assert [h.rule_id for h in index.match(doc)] == ([1] if expected else [])


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("a NEAR/3 b", "a x x b", True),
        ("a NEAR/3 b", "a x x x b", False),
        ("a NEAR/1 b", "b a", True),
        ("a ONEAR/1 b", "b a", False),
        ("a ONEAR/3 b", "a x x b", True),
        ("a ONEAR/3 b", "b x x a", False),
        ('"a b" NEAR/3 c', "a b x c", True),  # a phrase sits at its first word
        ('"a b" NEAR/2 c', "a b x c", False),
        ("a NEAR/2 b NEAR/2 c", "a x b x c", True),
        ("a NEAR/2 b NEAR/2 c", "a x b x x x c", False),
    ],
)
def test_near_distance_and_order(query: str, text: str, expected: bool) -> None:
    """NEAR/n counts neighbours as 1 apart; ONEAR also needs the left side first."""
    assert evaluate(parse(query), Document(text=text)) is expected
