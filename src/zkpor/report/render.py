"""report.json → report.html (Jinja2) and report.pdf (WeasyPrint, from the same HTML).

Numbers are formatted here for reading, from the exact values in report.json: ratios and amounts are
cut towards zero, never rounded up, so 99.9999 % reads "99.99 %", not "100.00 %".
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from zkpor.report.charts import LIABILITIES, PAR, RESERVES, ratio_charts, totals_chart

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


def _cut(value: Decimal, places: int) -> Decimal:
    """`value` cut towards zero to `places` decimals."""
    scaled = value.scaleb(places)
    return Decimal(math.trunc(scaled) if scaled >= 0 else -math.trunc(-scaled)).scaleb(-places)


def percent(ratio: str | None, places: int = 2) -> str:
    """ "1.034999" → "103.49 %" (cut, never rounded up); None → "—"."""
    if ratio is None:
        return "—"
    return f"{_cut(Decimal(ratio) * 100, places):,.{places}f} %"


def signed_percent(change: str | None) -> str:
    if change is None:
        return "—"
    change_value = Decimal(change)
    sign = "-" if change_value < 0 else "+"  # a fall too small to show still reads as a fall
    return f"{sign}{abs(_cut(change_value * 100, 2)):,.2f} %"


def grouped(amount: str | Decimal, places: int = 0) -> str:
    """An amount with thousands separators, cut (not rounded) to `places` decimals."""
    return f"{_cut(Decimal(amount), places):,.{places}f}"


def usd(amount: str | None, places: int = 0) -> str:
    return "—" if amount is None else f"${grouped(amount, places)}"


def coins(amount: str) -> str:
    """Exact whole-coin amount with thousands separators and no trailing zeros."""
    value = Decimal(amount)
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def when(text: str) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return f"{moment:%-d %B %Y, %H:%M} UTC"


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("zkpor.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        percent=percent, signed_percent=signed_percent, usd=usd, coins=coins, when=when
    )
    return environment


def render_html(report: dict[str, Any]) -> str:
    """The self-contained report page: CSS and charts inline, no script, no external resource."""
    css = resources.files("zkpor.report").joinpath("templates", STYLESHEET).read_text(encoding="utf-8")
    history = report["history"]
    symbols = [asset["symbol"] for asset in report["assets"]]
    # The SVG comes from pygal, built from numbers and our own labels: markup to keep, not text to escape.
    charts = {
        "totals": Markup(totals_chart(history)),  # noqa: S704
        "ratios": {symbol: Markup(svg) for symbol, svg in ratio_charts(history, symbols).items()},  # noqa: S704
        "colors": {"reserves": RESERVES, "liabilities": LIABILITIES, "par": PAR},
    }
    return _environment().get_template(TEMPLATE).render(r=report, css=css, charts=charts)


def render_pdf(html: str) -> bytes:
    """The same page printed to PDF (A4, the stylesheet's print rules) by WeasyPrint."""
    try:
        import weasyprint
    except OSError as error:  # WeasyPrint loads the system's Pango when imported
        from zkpor.errors import ZkporError

        raise ZkporError(
            f"cannot write report.pdf: WeasyPrint needs the Pango library ({error}); "
            "on Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        ) from None
    return weasyprint.HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()


def _refuse_fetch(url: str, *_args: object, **_kwargs: object) -> dict:
    # The report is self-contained: a resource to fetch would be a bug, and never a network request.
    raise ValueError(f"report.pdf: refusing to fetch {url!r}; the report must be self-contained")
