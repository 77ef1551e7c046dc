"""Deployment ``sync-catalogue`` (daily): new and changed Linnworks stock items -> products at the 3PL."""

from __future__ import annotations

from prefect import flow

from flows._common import account_for, finish, thread_runner
from lw3pl.core.blocks import Lw3plCredentials
from tasks.catalogue import CATALOGUE_PAGE_SIZE, CataloguePage, count_stock_items, sync_catalogue_page
from tasks.context import Account
from tasks.reporting import Progress, RunReport

__all__ = ["sync_catalogue"]

MAX_PAGES = 5000
"""A bound on the pages one run reads (a million items), so a misbehaving pager cannot loop forever."""


@flow(name="sync-catalogue", task_runner=thread_runner(2))
def sync_catalogue(
    credentials: Lw3plCredentials | None = None, credentials_block: str | None = None
) -> dict[str, int]:
    """Upsert at the 3PL every Linnworks stock item that is new or changed since it was last accepted.

    The item count (Stock/GetStockItems) says how many GetStockItemsFull pages to read side by side; the
    run then reads on, one page at a time, until a page comes back empty, so items added meanwhile (or a
    count that disagrees with the pages) are not missed.

    Args:
        credentials: the seller's ``lw3pl Credentials`` block (a picker in the UI); else credentials_block.
        credentials_block: the block's name (the CLI's ``--credentials-block``); neither: the environment.
    """
    account = account_for(credentials, credentials_block)
    pages = _sync_pages(account)
    report = RunReport()
    for page in pages:
        report = report.merge(page.report)
    return finish(account, report, "sync-catalogue")


def _sync_pages(account: Account) -> list[CataloguePage]:
    total = count_stock_items(account)
    counted_pages = max(1, -(-total // CATALOGUE_PAGE_SIZE))
    progress = Progress(total, "catalogue items checked")
    futures = [sync_catalogue_page.submit(account, number) for number in range(1, counted_pages + 1)]
    pages = [_advance(future.result(), progress) for future in futures]
    while pages[-1].read > 0 and len(pages) < MAX_PAGES:
        pages.append(_advance(sync_catalogue_page(account, len(pages) + 1), progress))
    return pages


def _advance(page: CataloguePage, progress: Progress) -> CataloguePage:
    progress.advance(page.read)
    return page
