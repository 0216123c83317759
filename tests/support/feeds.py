"""Feed documents for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Item:
    guid: str
    title: str
    description: str
    link: str = ""
    published: datetime | None = None


def rss(items: list[Item], *, title: str = "Test feed", language: str = "id") -> bytes:
    """An RSS 2.0 document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.com/</link>",
        f"<language>{language}</language><description>test</description>",
    ]
    for item in items:
        published = format_datetime(item.published or datetime.now(UTC), usegmt=True)
        parts.append(
            f"<item><guid>{escape(item.guid)}</guid><title>{escape(item.title)}</title>"
            f"<link>{escape(item.link or 'https://example.com/' + item.guid)}</link>"
            f"<description>{escape(item.description)}</description>"
            f"<pubDate>{published}</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


BYTEDANCE_HUAWEI = Item(
    guid="berita-1",
    title="ByteDance dan Huawei jajaki kerja sama pusat data di Jakarta",
    description=(
        "Perusahaan induk TikTok, ByteDance, dikabarkan sedang berunding dengan Huawei "
        "untuk membangun pusat data baru di Jakarta. Menurut sumber yang mengetahui "
        "pembicaraan tersebut, kesepakatan itu dapat diumumkan bulan depan."
    ),
    link="https://berita.example.id/teknologi/bytedance-huawei-pusat-data?utm_source=rss",
)

HUAWEI_ONLY = Item(
    guid="berita-2",
    title="Huawei luncurkan ponsel lipat terbaru",
    description="Huawei memperkenalkan ponsel lipat generasi ketiga dengan baterai lebih besar.",
    link="https://berita.example.id/gawai/huawei-ponsel-lipat",
)
