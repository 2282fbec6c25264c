"""What a number cell may look like: the patterns the reader parses by and the hints
tell apart (a thousands separator, a decimal comma, a currency sign, a dash for none)."""

from __future__ import annotations

import re

# What arrow reads as a float (its cast is the same parser as the CSV reader's typed columns).
NUMBER = r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|(?i:inf|infinity|nan))$"
PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
NUMBER_WITH_SEPARATOR = re.compile(r"^[+-]?[1-9]\d{0,2}([,.' \u00a0\u202f]\d{3})+(\.\d+)?$")
# The same where the decimal mark is a comma: 1.234  1 234,5
NUMBER_WITH_SEPARATOR_AND_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}([.' \u00a0\u202f]\d{3})+(,\d+)?$")
NUMBER_WITH_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}([.' ]\d{3})+|\d+),\d+$")  # 3,25  1.234,5
# $85,210  12%  (a currency or percent sign)  852,10  1.234,5  (a decimal comma); not
# dates, versions or addresses such as 01.02.2023 and 10.0.0.1
SIGNED_NUMBER = re.compile(r"^[+-]?[$€£¥]\s?[+-]?\d[\d.,' ]*$|^[+-]?\d[\d.,' ]*\s?[%$€£¥]$")  # $85,210  12%
# Cells that mean "no value" without being a missing marker: a dash, dots, a spreadsheet's
# error; told as such when a number column holds them.
GAP_LIKE = re.compile(r"^(-+|\.+|\*+|n\.a\.|k\.\s?a\.|missing|unknown|nil|#value!|#div/0!|#ref!)$", re.IGNORECASE)
COMMA_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$")  # 20,731.00  1,234,567: commas group thousands
ONE_COMMA_GROUP = re.compile(r"^[+-]?\d{1,3},\d{3}$")  # '4,295': a decimal comma, or a thousands one
NUMBER_WITH_SYMBOLS = re.compile(SIGNED_NUMBER.pattern + r"|^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d{1,2}$")
# A number with a currency or percent sign, or a currency's code, before or after it:
# '$1,234.50', '-€ 5', '12.5 %', 'USD 69.37', 'USD-123', '69.37 EUR' (what data.source.strip_signs drops)
# Currency codes as ISO 4217 writes the ones in wide use: three capitals of any other kind
# (ORD in an ID such as ORD-2023000) are no sign around a number.
CURRENCY_CODES = ("USD|EUR|GBP|JPY|CHF|CNY|RMB|INR|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|RON|BGN|TRY|RUB|UAH|BRL|MXN|"
                  "ARS|CLP|COP|PEN|ZAR|NGN|KES|EGP|MAD|ILS|AED|SAR|QAR|KWD|HKD|SGD|TWD|KRW|THB|MYR|IDR|PHP|VND|PKR|"
                  "BDT|LKR|ISK")
AROUND = re.compile(rf"^[+-]?\(?\s*(?P<before>[$€£¥₹]|{CURRENCY_CODES})?\s*[+-]?\d[\d.,' \u00a0\u202f]*?\s*"
                    rf"(?P<after>%|[$€£¥₹]|{CURRENCY_CODES})?\s*[)-]?$")  # (accounting's '($5)', SAP's '5-')


def signs_in(cells) -> list[str]:
    """The signs written around the numbers of ``cells`` ('$', '%', 'USD'), each once in
    the order first found, where more than half of the cells are numbers, with a sign or
    without, and more than a tenth have one ('$383,000' beside 383000: a file written by
    hand, or joined from two); else []. A stray '100%' among plain numbers is no sign to
    drop, but a cell to correct."""
    found: dict[str, None] = {}
    numbers = signed = 0
    for cell in cells:
        match = AROUND.match(cell.strip())
        numbers += bool(match)
        if match and (match["before"] or match["after"]):
            signed += 1
            found.update(dict.fromkeys(sign for sign in (match["before"], match["after"]) if sign))
    return list(found) if signed > len(cells) / 10 and numbers > len(cells) / 2 else []
