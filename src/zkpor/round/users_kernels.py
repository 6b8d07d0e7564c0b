"""Numba kernels behind the users-file loader: raw bytes in, integer base units out.

Nothing here allocates per cell or raises: a kernel reports the first problem as an error code plus
where it is (line, column, byte range), and users.py turns that into an InputError. The amount
grammar is the one in decimal_text.py; ``tests/round`` checks the two agree.
"""

from __future__ import annotations

import numpy as np

from zkpor.field.jit import njit

# What a CSV column (or a JSONL cell) holds.
ROLE_UID = 0
ROLE_EQUITY = 1
ROLE_DEBT = 2
ROLE_NET = 3  # signed net balance: negative goes to debt, positive to equity

MAX_UID_BYTES = 128

# Error codes. OK must stay 0.
OK = 0
E_EMPTY_AMOUNT = 1
E_MALFORMED_NUMBER = 2
E_NEGATIVE = 3
E_TOO_MANY_DECIMALS = 4
E_OVER_BOUND = 5
E_TOO_FEW_FIELDS = 6
E_TOO_MANY_FIELDS = 7
E_EMPTY_UID = 8
E_UID_TOO_LONG = 9
E_UID_NOT_UTF8 = 10
E_UID_CONTROL_CHARACTER = 11
E_UID_SPACE = 12
E_UNTERMINATED_QUOTE = 13
E_TEXT_AFTER_QUOTE = 14
E_STRAY_QUOTE = 15
E_BLANK_LINE = 16
E_TOO_MANY_ROWS = 17
E_LINE_TOO_LONG = 18

# Layout of the int64 ``status`` array the CSV kernel reads its position from and reports into.
S_POS = 0  # in: where to start in buf; out: start of the first line not yet parsed
S_ROW = 1  # rows filled so far
S_LINE = 2  # 1-based line number of the line at S_POS
S_UID_USED = 3  # bytes used in uid_bytes
S_BLANK_LINE = 4  # line number of a blank line not yet followed by data (0: none)
S_ERROR = 5
S_ERROR_LINE = 6
S_ERROR_COLUMN = 7  # 0-based column, -1 for the whole line
S_ERROR_START = 8  # byte range of the offending text in buf
S_ERROR_END = 9
STATUS_SIZE = 10

TEN = np.uint64(10)
ZERO = np.uint64(0)
SAFE_TO_SHIFT = np.uint64((2**64 - 1 - 9) // 10)
COMMA = 44
QUOTE = 34
NEWLINE = 10
CARRIAGE_RETURN = 13
MINUS = 45
DOT = 46
SPACE = 32


@njit(inline="always", cache=True)
def _shift_in_digit(units, digit, max_units):
    """(units·10 + digit, whether that exceeds max_units). No division: this runs once per digit."""
    if units > SAFE_TO_SHIFT:  # units·10 would leave uint64, and is above any bound (< 2^63) anyway
        return units, True
    units = units * TEN + digit
    return units, units > max_units


@njit(cache=True)
def parse_amount(buf, start, end, decimals, max_units, allow_negative):
    """Parse buf[start:end] as ``[-]digits[.digits]`` into base units (``10^-decimals``).

    Returns (error code, units, negative). Checks come in a fixed order — syntax, sign, decimals,
    bound — so a string with several faults gets the most basic complaint.
    """
    if start == end:
        return E_EMPTY_AMOUNT, ZERO, False
    position = start
    negative = buf[position] == MINUS
    if negative:
        position += 1
    units = ZERO
    over_bound = False
    integer_digits = 0
    while position < end and 48 <= buf[position] <= 57:
        if not over_bound:
            units, over_bound = _shift_in_digit(units, np.uint64(buf[position] - 48), max_units)
        integer_digits += 1
        position += 1
    if integer_digits == 0:
        return E_MALFORMED_NUMBER, ZERO, False
    kept_decimals = 0
    nonzero_beyond_precision = False
    if position < end and buf[position] == DOT:
        position += 1
        fraction_digits = 0
        while position < end and 48 <= buf[position] <= 57:
            if kept_decimals < decimals:
                if not over_bound:
                    units, over_bound = _shift_in_digit(units, np.uint64(buf[position] - 48), max_units)
                kept_decimals += 1
            elif buf[position] != 48:
                nonzero_beyond_precision = True
            fraction_digits += 1
            position += 1
        if fraction_digits == 0:
            return E_MALFORMED_NUMBER, ZERO, False
    if position != end:
        return E_MALFORMED_NUMBER, ZERO, False
    if negative and not allow_negative:
        return E_NEGATIVE, ZERO, False
    if nonzero_beyond_precision:
        return E_TOO_MANY_DECIMALS, ZERO, False
    if units != 0:  # scale to base units: append the decimals the text left out
        while kept_decimals < decimals and not over_bound:
            units, over_bound = _shift_in_digit(units, ZERO, max_units)
            kept_decimals += 1
    if over_bound:
        return E_OVER_BOUND, ZERO, False
    return OK, units, negative


@njit(cache=True)
def check_uid(buf, start, end):
    """Error code for buf[start:end] as a uid: 1..MAX_UID_BYTES bytes of UTF-8, no control
    characters, no leading or trailing space."""
    length = end - start
    if length == 0:
        return E_EMPTY_UID
    if length > MAX_UID_BYTES:
        return E_UID_TOO_LONG
    if buf[start] == SPACE or buf[end - 1] == SPACE:
        return E_UID_SPACE
    position = start
    while position < end:
        lead = buf[position]
        if lead < 0x80:
            if lead < 0x20 or lead == 0x7F:
                return E_UID_CONTROL_CHARACTER
            position += 1
            continue
        # Multi-byte sequence: reject overlong forms, surrogates and code points past U+10FFFF.
        if 0xC2 <= lead <= 0xDF:
            needed, low, high = 1, 0x80, 0xBF
        elif 0xE0 <= lead <= 0xEF:
            needed = 2
            low = 0xA0 if lead == 0xE0 else 0x80
            high = 0x9F if lead == 0xED else 0xBF
        elif 0xF0 <= lead <= 0xF4:
            needed = 3
            low = 0x90 if lead == 0xF0 else 0x80
            high = 0x8F if lead == 0xF4 else 0xBF
        else:
            return E_UID_NOT_UTF8
        if position + needed >= end:  # the sequence runs past the field
            return E_UID_NOT_UTF8
        second = buf[position + 1]
        if second < low or second > high:
            return E_UID_NOT_UTF8
        for offset in range(2, needed + 1):
            if not 0x80 <= buf[position + offset] <= 0xBF:
                return E_UID_NOT_UTF8
        position += needed + 1
    return OK


@njit(cache=True)
def store_amount(role, row, asset, units, negative, equity, debt):
    if role == ROLE_EQUITY or (role == ROLE_NET and not negative):
        equity[row, asset] = units
    else:
        debt[row, asset] = units


@njit(cache=True)
def parse_csv_lines(
    buf,
    end,
    final,
    max_line_bytes,
    roles,
    assets,
    decimals,
    max_units,
    equity,
    debt,
    uid_bytes,
    uid_offsets,
    status,
):
    """Parse the complete lines of CSV data in buf[status[S_POS]:end] into the arrays.

    ``roles[c]``/``assets[c]`` say what column c holds; ``decimals``/``max_units`` are per asset.
    A trailing line without a newline is parsed only when ``final`` (end of file); otherwise it stays
    for the next call, which starts where S_POS was left. Lines longer than ``max_line_bytes``
    (newline included) are an error. The caller guarantees room in uid_bytes
    for every byte of buf. On error, status[S_ERROR] is set and the call returns at once.
    """
    n_columns = roles.shape[0]
    capacity = equity.shape[0]
    position = status[S_POS]
    row = status[S_ROW]
    line = status[S_LINE]
    uid_used = status[S_UID_USED]
    blank_line = status[S_BLANK_LINE]
    error = OK
    error_column = -1
    error_start = position
    error_end = position
    while position < end:
        newline = position
        while newline < end and buf[newline] != NEWLINE:
            newline += 1
        if newline - position + (newline < end) > max_line_bytes:  # with its newline, if it has one
            error = E_LINE_TOO_LONG
            break
        if newline == end and not final:
            break
        line_end = newline
        if line_end > position and buf[line_end - 1] == CARRIAGE_RETURN:
            line_end -= 1
        next_position = newline + 1 if newline < end else end
        if line_end == position:
            # Blank lines are fine only at the end of the file, where editors leave them.
            if blank_line == 0:
                blank_line = line
            line += 1
            position = next_position
            continue
        if blank_line != 0:
            error = E_BLANK_LINE
            line = blank_line
            break
        if row >= capacity:
            error = E_TOO_MANY_ROWS
            break

        column = 0
        cursor = position
        while True:
            if column >= n_columns:
                error = E_TOO_MANY_FIELDS
                error_start = cursor
                error_end = line_end
                break
            if cursor < line_end and buf[cursor] == QUOTE:
                field_start = cursor + 1
                closing = field_start
                while closing < line_end and buf[closing] != QUOTE:
                    closing += 1
                if closing == line_end:
                    error = E_UNTERMINATED_QUOTE
                    error_start = cursor
                    error_end = line_end
                    break
                field_end = closing
                cursor = closing + 1
                if cursor < line_end and buf[cursor] != COMMA:
                    error = E_TEXT_AFTER_QUOTE
                    error_start = field_start - 1
                    error_end = cursor + 1
                    break
            else:
                field_start = cursor
                while cursor < line_end and buf[cursor] != COMMA:
                    if buf[cursor] == QUOTE:
                        error = E_STRAY_QUOTE
                        break
                    cursor += 1
                field_end = cursor
                if error != OK:
                    while cursor < line_end and buf[cursor] != COMMA:
                        cursor += 1
                    error_start = field_start
                    error_end = cursor
                    break

            role = roles[column]
            if role == ROLE_UID:
                error = check_uid(buf, field_start, field_end)
                if error == OK:
                    for offset in range(field_start, field_end):
                        uid_bytes[uid_used] = buf[offset]
                        uid_used += 1
            else:
                asset = assets[column]
                error, units, negative = parse_amount(
                    buf, field_start, field_end, decimals[asset], max_units[asset], role == ROLE_NET
                )
                if error == OK:
                    store_amount(role, row, asset, units, negative, equity, debt)
            if error != OK:
                error_start = field_start
                error_end = field_end
                break
            column += 1
            if cursor >= line_end:
                break
            cursor += 1  # the comma; a comma ending the line leaves one more, empty, field

        if error == OK and column < n_columns:
            error = E_TOO_FEW_FIELDS
            error_start = position
            error_end = line_end
        if error != OK:
            error_column = column
            break
        uid_offsets[row + 1] = uid_used
        row += 1
        line += 1
        position = next_position

    status[S_POS] = position
    status[S_ROW] = row
    status[S_LINE] = line
    status[S_UID_USED] = uid_used
    status[S_BLANK_LINE] = blank_line
    status[S_ERROR] = error
    status[S_ERROR_LINE] = line
    status[S_ERROR_COLUMN] = error_column
    status[S_ERROR_START] = error_start
    status[S_ERROR_END] = error_end


@njit(cache=True)
def parse_amount_cells(text, starts, ends, rows, assets, roles, decimals, max_units, equity, debt):
    """Parse amount cells given as byte ranges of ``text`` (the JSONL loader's batches).

    Returns (error code, index of the failing cell), (OK, -1) when every cell parsed.
    """
    for cell in range(starts.shape[0]):
        asset = assets[cell]
        role = roles[cell]
        error, units, negative = parse_amount(
            text, starts[cell], ends[cell], decimals[asset], max_units[asset], role == ROLE_NET
        )
        if error != OK:
            return error, cell
        store_amount(role, rows[cell], asset, units, negative, equity, debt)
    return OK, -1


@njit(cache=True)
def uid_hashes(uid_bytes, uid_offsets):
    """64-bit FNV-1a of every uid: a cheap key to sort by when looking for duplicates."""
    n = uid_offsets.shape[0] - 1
    hashes = np.empty(n, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    for row in range(n):
        value = np.uint64(0xCBF29CE484222325)
        for position in range(uid_offsets[row], uid_offsets[row + 1]):
            value = (value ^ np.uint64(uid_bytes[position])) * prime
        hashes[row] = value
    return hashes


@njit(cache=True)
def _same_uid(uid_bytes, uid_offsets, a, b):
    length = uid_offsets[a + 1] - uid_offsets[a]
    if length != uid_offsets[b + 1] - uid_offsets[b]:
        return False
    for offset in range(length):
        if uid_bytes[uid_offsets[a] + offset] != uid_bytes[uid_offsets[b] + offset]:
            return False
    return True


@njit(cache=True)
def first_duplicate_uid(uid_bytes, uid_offsets, hashes, order):
    """Rows (earlier, later) of the duplicate whose later row comes first in the file; (-1, -1) if
    every uid is distinct. ``order`` sorts ``hashes``; equal hashes are compared byte by byte."""
    best_earlier = -1
    best_later = -1
    n = order.shape[0]
    run_start = 0
    while run_start < n:
        run_end = run_start + 1
        while run_end < n and hashes[order[run_end]] == hashes[order[run_start]]:
            run_end += 1
        for i in range(run_start, run_end):
            for j in range(i + 1, run_end):
                a = order[i]
                b = order[j]
                if _same_uid(uid_bytes, uid_offsets, a, b):
                    earlier = min(a, b)
                    later = max(a, b)
                    if best_later == -1 or later < best_later:
                        best_earlier = earlier
                        best_later = later
        run_start = run_end
    return best_earlier, best_later
