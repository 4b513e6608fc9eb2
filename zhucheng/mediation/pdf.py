"""The mediation agreement (人民调解协议书) as a Chinese PDF, drawn with reportlab's built-in CID font STSong-Light.

Layout follows the Ministry of Justice's model text: title and number, the parties (ID numbers
and phones masked with ``core.masking``; names in full, as they sign), the facts and matters in
dispute, the agreed terms with amounts and performance deadlines, the standard clauses (effect,
copies, judicial confirmation), and places for the parties' and the mediator's signatures, the
committee's seal and the date. No font file is needed: the reader supplies the CID font.
"""

from __future__ import annotations

import io
from datetime import date
from html import escape
from typing import Any

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from zhucheng.core.masking import mask_id_number, mask_phone

FONT = "STSong-Light"
_CN_NUMERALS = "零一二三四五六七八九十"


def _register() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=0)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=22, leading=30, alignment=TA_CENTER, spaceAfter=4 * mm),
        "sub": ParagraphStyle("sub", parent=base, fontSize=12, alignment=TA_CENTER),
        "number": ParagraphStyle("number", parent=base, alignment=TA_RIGHT, spaceAfter=4 * mm),
        "heading": ParagraphStyle("heading", parent=base, fontSize=13, leading=22, spaceBefore=3 * mm),
        "body": base,
        "indent": ParagraphStyle("indent", parent=base, firstLineIndent=24),
        "small": ParagraphStyle("small", parent=base, fontSize=10, leading=14),
    }


def cn_ordinal(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (enough for the terms of one agreement)."""
    if n <= 10:
        return _CN_NUMERALS[n]
    tens, ones = divmod(n, 10)
    return (_CN_NUMERALS[tens] if tens > 1 else "") + "十" + (_CN_NUMERALS[ones] if ones else "")


def cn_date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "____年__月__日"


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:,.2f}"


def _text(value: str) -> str:
    """User text as Paragraph markup: escaped, line breaks kept."""
    return "<br/>".join(escape(line) for line in (value or "").splitlines()) or "—"


class SealPlace(Flowable):
    """A dashed circle marking where the committee's seal goes."""

    def __init__(self, label: str, diameter: float = 38 * mm) -> None:
        super().__init__()
        self.label = label
        self.diameter = diameter
        self.width = self.height = diameter

    def draw(self) -> None:
        c = self.canv
        r = self.diameter / 2
        c.setStrokeColor(colors.grey)
        c.setDash(3, 3)
        c.circle(r, r, r)
        c.setDash()
        c.setFont(FONT, 9)
        c.setFillColor(colors.grey)
        c.drawCentredString(r, r - 3, self.label)


def _party_lines(party: Any) -> str:
    side = party.get_side_display()
    id_label = _("统一社会信用代码") if party.is_organisation else _("身份证号码")
    parts = [f"{escape(side)}:{escape(party.name)}"]
    if party.id_number:
        parts.append(f"{id_label}:{mask_id_number(party.id_number)}")
    if party.phone:
        parts.append(_("联系电话：%(phone)s") % {"phone": mask_phone(party.phone)})
    if party.address:
        parts.append(_("住址：%(address)s") % {"address": escape(party.address)})
    line = ",".join(parts) + "。"
    if party.representative_name:
        rep = _("%(role)s:%(name)s") % {
            "role": escape(party.representative_role or _("委托代理人")),
            "name": escape(party.representative_name),
        }
        if party.representative_phone:
            rep += "," + _("联系电话：%(phone)s") % {"phone": mask_phone(party.representative_phone)}
        line += "<br/>" + rep + "。"
    return line


def _term_line(n: int, term: Any) -> str:
    extra = []
    if term.amount_fen is not None:
        extra.append(_("金额：人民币 %(amount)s 元") % {"amount": yuan(term.amount_fen)})
    if term.obligor_id and term.obligor is not None:
        extra.append(_("履行人：%(name)s") % {"name": escape(term.obligor.name)})
    extra.append(
        _("履行期限：%(date)s前") % {"date": cn_date(term.due_on)} if term.due_on else _("履行期限：签订协议时当场履行")
    )
    return f"{cn_ordinal(n)}、{_text(term.text)}({';'.join(extra)})"


def render_agreement(agreement: Any) -> bytes:
    """The agreement's PDF as bytes (the caller stores it)."""
    _register()
    s = _styles()
    dispute = agreement.dispute
    parties = list(dispute.parties.order_by("side", "id"))
    terms = list(agreement.terms.select_related("obligor").order_by("seq"))
    committee = dispute.committee.name if dispute.committee_id and dispute.committee else ""
    mediator = dispute.mediator.name if dispute.mediator_id and dispute.mediator else ""

    story: list[Flowable] = [Paragraph(_("人民调解协议书"), s["title"])]
    if committee:
        story.append(Paragraph(escape(committee), s["sub"]))
    story.append(Paragraph(_("编号：%(number)s") % {"number": escape(agreement.number)}, s["number"]))

    story.append(Paragraph(_("当事人"), s["heading"]))
    story += [Paragraph(_party_lines(p), s["body"]) for p in parties]

    story.append(Paragraph(_("纠纷主要事实、争议事项"), s["heading"]))
    story.append(Paragraph(_text(agreement.facts), s["indent"]))

    story.append(Paragraph(_("经调解，当事人自愿达成如下协议："), s["heading"]))
    story += [Paragraph(_term_line(i, t), s["body"]) for i, t in enumerate(terms, start=1)]

    story.append(Paragraph(_("履行方式、时限"), s["heading"]))
    dated = [t for t in terms if t.due_on]
    if dated:
        for i, t in enumerate(terms, start=1):
            if t.due_on:
                story.append(
                    Paragraph(_("第%(n)s项于%(date)s前履行完毕。") % {"n": cn_ordinal(i), "date": cn_date(t.due_on)}, s["body"])
                )
    else:
        story.append(Paragraph(_("各项协议内容于签订协议时当场履行完毕。"), s["body"]))

    copies = len(parties) + 1
    for clause in (
        _("本协议自各方当事人签名（盖章）、人民调解员签名并加盖人民调解委员会印章之日起生效。"),
        _("本协议一式 %(n)d 份，当事人、人民调解委员会各执一份。") % {"n": copies},
        _("经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。"),
        _("当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。"),
    ):
        story.append(Paragraph(clause, s["indent"]))

    story.append(Spacer(1, 6 * mm))
    rows = [[Paragraph(_("当事人（签名、盖章）"), s["body"]), "", ""]]
    for p in parties:
        rows.append(
            [
                Paragraph(f"{escape(p.get_side_display())}:{escape(p.name)}", s["body"]),
                Paragraph(_("签名：______________"), s["body"]),
                Paragraph(_("日期：____年__月__日"), s["body"]),
            ]
        )
    rows.append(
        [
            Paragraph(_("人民调解员（签名）"), s["body"]),
            Paragraph(escape(mediator) + " ______________", s["body"]),
            Paragraph(_("日期：____年__月__日"), s["body"]),
        ]
    )
    table = Table(rows, colWidths=[62 * mm, 55 * mm, 50 * mm])
    table.setStyle(
        TableStyle(
            [
                ("SPAN", (0, 0), (-1, 0)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story.append(table)
    seal = Table(
        [
            [
                Paragraph(_("人民调解委员会（印章）") + ("<br/>" + escape(committee) if committee else ""), s["body"]),
                SealPlace(_("（盖章处）")),
            ],
            [Paragraph(_("签订日期：%(date)s") % {"date": cn_date(agreement.signed_on)}, s["body"]), ""],
        ],
        colWidths=[110 * mm, 57 * mm],
    )
    seal.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(Spacer(1, 4 * mm))
    story.append(KeepTogether([seal]))

    buf = io.BytesIO()

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 9)
        canvas.drawCentredString(A4[0] / 2, 12 * mm, _("第 %(n)d 页") % {"n": doc.page})
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"{_('人民调解协议书')} {agreement.number}",
        author=committee or "Zhucheng",
        invariant=1,  # the same agreement gives the same bytes (its hash is stored)
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
