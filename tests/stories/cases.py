"""Story test sets in English, Indonesian, German and Chinese.

Each language has one wire story and its copies (a headline edit with a byline and site
boilerplate, a different lead sentence, a short item), the same names in a different
event, and a follow-up a day later that reuses background. The wire story is the same
event in every language: translations must stay separate stories.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    story: str  # cases with the same story are copies of one story
    title: str
    text: str


def _copies(lang: str, title: str, paras: list[str], **variants: tuple[str, str]) -> list[Case]:
    """The wire copy, plus: `edited` (title, byline+boilerplate), `lead` (title, new lead),
    `short` (title): the first paragraph alone."""
    story = f"{lang}:wire"
    byline, boiler = variants["boiler"]
    out = [
        Case(f"{lang}:wire", story, title, "\n".join(paras)),
        Case(f"{lang}:edited", story, variants["edited"][0], "\n".join([byline, *paras, boiler])),
        Case(
            f"{lang}:lead",
            story,
            variants["lead"][0],
            "\n".join([variants["lead"][1], *paras[1:], variants["site"][0]]),
        ),
        Case(f"{lang}:short", story, variants["short"][0], paras[0]),
    ]
    return out


EN = [
    "Huawei Technologies will supply its Ascend 910B artificial intelligence chips to ByteDance, "
    "the owner of TikTok, under an agreement worth several billion dollars, three people "
    "familiar with the matter said on Tuesday.",
    "The deal would make ByteDance one of the largest buyers of Huawei's AI processors as "
    "Chinese technology companies look for alternatives to Nvidia's products, which are "
    "restricted by United States export controls.",
    "ByteDance plans to use the chips to train its large language models and to run its Doubao "
    "chatbot, one of the sources said, adding that the first shipments were expected before "
    "the end of the year.",
    "Huawei and ByteDance did not respond to requests for comment. Shares of Chinese chip "
    "suppliers rose more than four percent in Shanghai after the report.",
]
ID = [
    "Huawei Technologies akan memasok cip kecerdasan buatan Ascend 910B kepada ByteDance, "
    "pemilik TikTok, berdasarkan perjanjian senilai beberapa miliar dolar, kata tiga orang yang "
    "mengetahui masalah tersebut pada Selasa.",
    "Kesepakatan itu akan menjadikan ByteDance salah satu pembeli terbesar prosesor AI Huawei "
    "karena perusahaan teknologi China mencari alternatif bagi produk Nvidia yang dibatasi oleh "
    "kontrol ekspor Amerika Serikat.",
    "ByteDance berencana menggunakan cip tersebut untuk melatih model bahasa besarnya dan "
    "menjalankan chatbot Doubao, kata salah satu sumber, seraya menambahkan bahwa pengiriman "
    "pertama diperkirakan tiba sebelum akhir tahun.",
    "Huawei dan ByteDance tidak menanggapi permintaan komentar. Saham pemasok cip China naik "
    "lebih dari empat persen di Shanghai setelah laporan tersebut.",
]
DE = [
    "Huawei Technologies wird seine KI-Chips vom Typ Ascend 910B an ByteDance liefern, den "
    "Eigentümer von TikTok, im Rahmen einer Vereinbarung im Wert von mehreren Milliarden Dollar, "
    "sagten drei mit der Angelegenheit vertraute Personen am Dienstag.",
    "Das Geschäft würde ByteDance zu einem der größten Abnehmer von Huaweis KI-Prozessoren "
    "machen, da chinesische Technologiekonzerne nach Alternativen zu den Produkten von Nvidia "
    "suchen, die durch US-Exportkontrollen beschränkt sind.",
    "ByteDance will die Chips nutzen, um seine großen Sprachmodelle zu trainieren und seinen "
    "Chatbot Doubao zu betreiben, sagte eine der Quellen und fügte hinzu, dass die ersten "
    "Lieferungen vor Jahresende erwartet würden.",
    "Huawei und ByteDance reagierten nicht auf Anfragen nach einer Stellungnahme. Die Aktien "
    "chinesischer Chipzulieferer stiegen in Shanghai nach dem Bericht um mehr als vier Prozent.",
]
ZH = [
    "据三位知情人士周二透露，华为技术有限公司将根据一项价值数十亿美元的协议，向抖音母公司字节跳动供应昇腾910B人工智能芯片。",
    "在美国出口管制限制英伟达产品的背景下，中国科技公司正在寻找替代方案，这笔交易将使字节跳动成为华为人工智能处理器的最大买家之一。",
    "其中一位消息人士表示，字节跳动计划利用这些芯片训练其大语言模型并运行豆包聊天机器人，首批货物预计将在年底前交付。",
    "华为和字节跳动均未回应置评请求。报道发布后，中国芯片供应商的股价在上海上涨超过百分之四。",
]

CASES: list[Case] = [
    *_copies(
        "en",
        "Huawei to supply AI chips to ByteDance in multi-billion dollar deal",
        EN,
        edited=("ByteDance to buy billions of dollars of Huawei AI chips - sources", ""),
        boiler=(
            "By Staff Writer, Technology Desk",
            "Reporting by the Beijing newsroom; editing by Jane Doe. Our Standards: the Trust "
            "Principles. Share this article on Facebook, X and LinkedIn.",
        ),
        lead=(
            "Huawei wins ByteDance as buyer of its Ascend chips",
            "SHANGHAI - Chinese telecoms giant Huawei has landed one of the biggest customers "
            "yet for its home-grown AI processors, according to people briefed on the talks.",
        ),
        site=("Read more technology news. Subscribe to our newsletter for daily updates.", ""),
        short=("Huawei to supply chips to ByteDance - sources", ""),
    ),
    Case(
        "en:profit",
        "en:profit",
        "Huawei reports record profit as ByteDance spending lifts cloud unit",
        "Huawei Technologies reported a record annual profit on Friday, helped by strong demand "
        "for its cloud services from customers including ByteDance, the owner of TikTok. Net "
        "profit rose 60 percent to 87 billion yuan, the Shenzhen-based company said in its "
        "annual report, while revenue from its consumer business recovered on sales of new "
        "smartphones. Rotating chairman Eric Xu told reporters the company would keep "
        "investing heavily in research despite United States sanctions.",
    ),
    Case(
        "en:followup",
        "en:followup",
        "Huawei begins shipping Ascend chips to ByteDance, first batch smaller than planned",
        "Huawei has started delivering Ascend 910B processors to ByteDance, but the first batch "
        "is only a fraction of the volume the TikTok owner ordered, two people with knowledge of "
        "the shipments said on Wednesday, citing production bottlenecks at its chip partner. "
        "ByteDance has asked Huawei to prioritise chips for its Doubao chatbot, one of them "
        "said. " + EN[1] + " Huawei declined to comment on the delivery schedule.",
    ),
    *_copies(
        "id",
        "Huawei pasok cip AI ke ByteDance dalam kesepakatan miliaran dolar",
        ID,
        edited=("ByteDance beli cip AI Huawei senilai miliaran dolar", ""),
        boiler=(
            "JAKARTA, KOMPAS.com -",
            "Baca juga: Saham teknologi menguat. Simak berita pilihan dan breaking news kami "
            "langsung di ponselmu. Pilih saluran andalanmu untuk mengakses kanal WhatsApp.",
        ),
        lead=(
            "Huawei gaet ByteDance sebagai pembeli cip Ascend",
            "Raksasa telekomunikasi China Huawei mendapatkan salah satu pelanggan terbesarnya "
            "untuk prosesor AI buatan dalam negeri, menurut sumber yang mengetahui pembicaraan.",
        ),
        site=("Editor: Redaksi. Ikuti kami di Google News untuk berita terbaru.", ""),
        short=("Huawei akan pasok cip ke ByteDance", ""),
    ),
    Case(
        "id:profit",
        "id:profit",
        "Huawei cetak laba rekor berkat belanja ByteDance",
        "Huawei Technologies membukukan laba tahunan tertinggi sepanjang sejarah pada Jumat, "
        "didorong permintaan layanan komputasi awan dari pelanggan seperti ByteDance, pemilik "
        "TikTok. Laba bersih naik 60 persen menjadi 87 miliar yuan, kata perusahaan yang "
        "berbasis di Shenzhen itu dalam laporan tahunannya, sementara pendapatan bisnis "
        "konsumen pulih berkat penjualan ponsel pintar baru.",
    ),
    Case(
        "id:followup",
        "id:followup",
        "Huawei mulai kirim cip Ascend ke ByteDance, gelombang pertama lebih kecil",
        "Huawei mulai mengirimkan prosesor Ascend 910B kepada ByteDance, tetapi gelombang "
        "pertama hanya sebagian kecil dari volume yang dipesan pemilik TikTok itu, kata dua "
        "orang yang mengetahui pengiriman tersebut pada Rabu, dengan alasan hambatan produksi. "
        + ID[1]
        + " Huawei menolak berkomentar mengenai jadwal pengiriman.",
    ),
    *_copies(
        "de",
        "Huawei liefert KI-Chips an ByteDance in Milliardengeschäft",
        DE,
        edited=("ByteDance kauft KI-Chips von Huawei für Milliarden", ""),
        boiler=(
            "Von unserer Redaktion (dpa-AFX)",
            "Mehr zum Thema: Technologie. Dieser Artikel wurde automatisch übernommen. "
            "Folgen Sie uns auf Facebook und Instagram. Anzeige",
        ),
        lead=(
            "Huawei gewinnt ByteDance als Chip-Kunden",
            "PEKING - Der chinesische Telekomkonzern Huawei hat einen seiner bisher größten "
            "Kunden für seine eigenen KI-Prozessoren gewonnen, wie Insider berichten.",
        ),
        site=("Alle Angaben ohne Gewähr. Jetzt den Newsletter abonnieren.", ""),
        short=("Insider: Huawei liefert Chips an ByteDance", ""),
    ),
    Case(
        "de:profit",
        "de:profit",
        "Huawei meldet Rekordgewinn - ByteDance treibt Cloud-Geschäft",
        "Huawei Technologies hat am Freitag einen Rekordgewinn gemeldet, getragen von einer "
        "starken Nachfrage nach Cloud-Diensten von Kunden wie ByteDance, dem Eigentümer von "
        "TikTok. Der Nettogewinn stieg um 60 Prozent auf 87 Milliarden Yuan, teilte der Konzern "
        "aus Shenzhen in seinem Jahresbericht mit. Das Verbrauchergeschäft erholte sich dank "
        "neuer Smartphones.",
    ),
    Case(
        "de:followup",
        "de:followup",
        "Huawei beginnt mit Chip-Lieferungen an ByteDance - erste Tranche kleiner als geplant",
        "Huawei hat mit der Auslieferung von Ascend-910B-Prozessoren an ByteDance begonnen, "
        "doch die erste Lieferung umfasst nur einen Bruchteil der bestellten Menge, sagten zwei "
        "mit den Lieferungen vertraute Personen am Mittwoch unter Verweis auf Engpässe in der "
        "Produktion. " + DE[1] + " Huawei wollte sich zum Zeitplan nicht äußern.",
    ),
    *_copies(
        "zh",
        "华为将向字节跳动供应人工智能芯片 交易额达数十亿美元",
        ZH,
        edited=("消息人士：字节跳动将采购数十亿美元华为AI芯片", ""),
        boiler=(
            "本报记者 北京报道",
            "责任编辑：张三。本文来源于网络，版权归原作者所有。关注我们的公众号获取更多科技资讯。",
        ),
        lead=(
            "华为拿下字节跳动大单 昇腾芯片再获大客户",
            "中国电信设备巨头华为的国产人工智能处理器迎来了迄今最大的客户之一，知情人士透露了相关谈判细节。",
        ),
        site=("更多科技新闻请下载客户端。", ""),
        short=("华为将向字节跳动供应芯片", ""),
    ),
    Case(
        "zh:profit",
        "zh:profit",
        "华为利润创历史新高 字节跳动推动云业务增长",
        "华为技术有限公司周五公布创纪录的年度利润，得益于包括抖音母公司字节跳动在内的客户对其云服务的强劲需求。"
        "这家总部位于深圳的公司在年报中表示，净利润增长百分之六十至八百七十亿元人民币，消费者业务收入也因新款智能手机的销售而回升。",
    ),
    Case(
        "zh:followup",
        "zh:followup",
        "华为开始向字节跳动交付昇腾芯片 首批数量低于预期",
        "两位了解交付情况的人士周三表示，华为已开始向字节跳动交付昇腾910B处理器，但由于生产瓶颈，首批货物仅为订单量的一小部分。"
        + ZH[1]
        + "华为拒绝就交付时间表置评。",
    ),
]
