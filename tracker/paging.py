"""One way to page a list, for the pages and the API alike.

A page is `per_page` items of an ordered query, numbered from 1, with the totals a reader
needs to walk on. Past the last page it is empty (never an error), and its items are not
even queried. The pages read the number from the query string (anything but a whole
number of at least 1 is page 1) and show `PER_PAGE` items; the API validates its `page` and
`per_page` arguments against the same bounds and answers `Page` as its JSON envelope
``{"items", "page", "per_page", "total", "pages", "total_exact"}``. A list of tasks, a
search's too, is counted up to `LIST_COUNTED` (or this page's end): past that, the page
says "more than".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

from tracker.extensions import db

PER_PAGE = 50  # a page of any list on the web, and the API's default
MAX_PER_PAGE = 200  # the most an API client may ask for at once
MAX_PAGE = 100_000  # the API refuses page numbers beyond (the web shows them empty)
LIST_COUNTED = 10_000  # how many tasks of a list are counted, at most (the nation's million:
# the dashboard has the exact totals)


@dataclass(frozen=True)
class Page:
    """One page of a list; the attributes the templates and the API's envelope read."""

    items: Sequence[Any]
    page: int
    per_page: int
    total: int
    # False when the list was counted only up to a bound (a search that finds a great
    # many): `total` is then one more than `counted_to`, and the list goes on past it.
    total_exact: bool = True

    @property
    def counted_to(self) -> int:
        """The number a reader is told: the total, or "more than" this when not exact."""
        return self.total if self.total_exact else self.total - 1

    @property
    def pages(self) -> int:
        """How many pages there are (0 for an empty list)."""
        return -(-self.total // self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def with_items(self, items: Sequence[Any]) -> Page:
        """The same page holding other items (e.g. the rows its ids name)."""
        return replace(self, items=items)


def requested_page() -> int:
    """The page number the request's query string asks for; page 1 for anything but a
    whole number of at least 1."""
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return max(page, 1)


def count_rows(query: Select, page: int, per_page: int = PER_PAGE, *,
               count_at_most: int | None = None) -> tuple[int, bool]:
    """How many rows `query` has, and whether that is exact: with `count_at_most`, counted
    only up to that many, or up to page `page`'s end if it lies further (a search of the
    nation's tasks for a common word finds a hundred thousand, and counting them all would
    cost more than the page itself); past it, one more than the bound, not exact."""
    counting, bound = _counting(query, page, per_page, count_at_most)
    total = db.session.scalar(counting)
    return total, total != bound


def _counting(query: Select, page: int, per_page: int,
              count_at_most: int | None) -> tuple[Select, int | None]:
    """The statement that counts `query`'s rows as `count_rows` says, and its bound."""
    counted = query.options(lazyload("*")).order_by(None)
    bound = None if count_at_most is None \
        else max(count_at_most, min(page, MAX_PAGE) * per_page) + 1
    if bound is not None:
        counted = counted.limit(bound)
    return select(func.count()).select_from(counted.subquery()).correlate(None), bound


def paginate_counted(query: Select, page: int, per_page: int = PER_PAGE, *,
                     count_at_most: int | None = None) -> Page:
    """`paginate(query, …)` in one statement: the count (`count_rows`) is a subquery of the
    page's, which the database works out once and sends with each row — one round trip,
    and one statement to build, where the count and the page were two. A page past the
    end has no row to carry it: it is then counted on its own (and has no items)."""
    if page > MAX_PAGE:  # an offset no database need be asked for: empty, as `paginate` says
        return paginate(query, page, per_page, count_at_most=count_at_most)
    counting, bound = _counting(query, page, per_page, count_at_most)
    offset = (page - 1) * per_page
    rows = db.session.execute(query.add_columns(counting.scalar_subquery())
                              .limit(per_page).offset(offset)).unique().all()
    if not rows and offset:
        return paginate(query, page, per_page, count_at_most=count_at_most)
    total = rows[0][-1] if rows else 0
    return Page(items=[row[0] for row in rows], page=page, per_page=per_page, total=total,
                total_exact=total != bound)


def paginate(query: Select, page: int, per_page: int = PER_PAGE, *,
             total: int | None = None, total_exact: bool = True,
             count_at_most: int | None = None) -> Page:
    """Page `page` of `query`, which is already ordered. Its rows are counted
    (`count_rows`) unless the caller already knows `total` (and whether it is exact)."""
    if total is None:
        total, total_exact = count_rows(query, page, per_page, count_at_most=count_at_most)
    offset = (page - 1) * per_page
    items = [] if offset >= total else \
        db.session.scalars(query.limit(per_page).offset(offset)).unique().all()
    return Page(items=items, page=page, per_page=per_page, total=total,
                total_exact=total_exact)
