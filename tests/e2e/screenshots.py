"""Screenshots of the main pages for the README, taken from the Quảng Ninh demo.

    .venv/bin/python -m tests.e2e.screenshots            # docs/screenshots/*.png
    .venv/bin/python -m tests.e2e.screenshots --extra    # also more pages, for review,
                                                         # under artifacts/screenshots/pages

The demo is loaded into a throw-away SQLite database with the clock fixed on a Wednesday
afternoon (so the countdown shows 1 h 40 min to the cutoff), the missed cutoffs are
caught up, and the app is served and photographed in Debian's Chromium, as in the
browser tests. Nothing outside the output folders is touched.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from tests.e2e.harness import DESKTOP, PHONE, ROOT, LiveServer, browser_missing, launch, log_in
from tests.factories import ict

WALL = {"width": 1920, "height": 1080}  # an operations room's screen
NOW = ict(2026, 11, 18, 14, 20)  # Wednesday 18/11/2026, 14:20 ICT
PASSWORD = "screenshot-demo"


def build_app(folder: Path):
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    os.environ["TRACKER_DEMO_PASSWORD"] = PASSWORD
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.clock import FixedClock
    from tracker.demo.history import judge_past_days
    from tracker.demo.loader import load_demo
    from tracker.extensions import db

    app = create_app({
        "SECRET_KEY": "screenshots",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}",
        "CLOCK": FixedClock(NOW),
        "TRACKER_ARGON2_PROFILE": "CHEAPEST",
    })
    with app.app_context():
        upgrade()
        load_demo(now=NOW)
        db.session.commit()
        judge_past_days(NOW)
        _supervision_in_progress()
        db.session.commit()
        db.session.remove()
    return app


def _supervision_in_progress() -> None:
    """A few red items already being worked: an acknowledgement, an extension request."""
    from sqlalchemy import select

    from tracker.auth.models import User
    from tracker.extensions import db
    from tracker.tasks.lifecycle import request_extension
    from tracker.tasks.models import Task
    from tracker.tasks.service import add_comment

    red = db.session.scalars(select(Task).where(Task.colour == "red").order_by(Task.id)).all()
    if len(red) < 2:
        return
    supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
    add_comment(supervisor, red[1], "Đã làm việc với đơn vị; chờ Sở Tài chính thẩm định "
                "phương án xử lý tài sản.", now=NOW, kind="acknowledge")
    member = db.session.scalar(select(User).where(User.unit_id == red[0].lead_unit_id,
                                                  User.role == "member"))
    request_extension(member, red[0], new_deadline=date(2026, 12, 15),
                      reason="Chờ kết quả kiểm kê tài sản của Sở Tài chính.", now=NOW)


def shoot(page, path: Path, *, full_page: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    print(path.relative_to(ROOT))


def shoot_wall(browser, live, app, out: Path, options: dict) -> None:
    """The 16:00 wall on a 1920×1080 screen: the demo province's leader (its communes),
    then a national viewer's map of the 34 provinces (only Quảng Ninh has tasks)."""
    screen = browser.new_context(viewport=WALL, **options)
    page = screen.new_page()
    log_in(page, live, "viewer", PASSWORD)
    page.goto(live.url("/wall"))
    page.get_by_test_id("tile").first.wait_for()
    shoot(page, out / "wall.png", full_page=False)
    screen.close()
    with app.app_context():
        from vietnam_provinces import Province

        from tracker.auth.service import create_user
        from tracker.extensions import db
        from tracker.units.importer import import_units
        from tracker.units.models import Unit

        import_units(list(Province.iter_all()))
        nation = db.session.scalar(db.select(Unit).where(Unit.parent_id.is_(None)))
        create_user(None, username="nation", password=PASSWORD, role="viewer", unit=nation,
                    full_name="Lãnh đạo Trung ương")
        db.session.commit()
        db.session.remove()
    screen = browser.new_context(viewport=WALL, **options)
    page = screen.new_page()
    log_in(page, live, "nation", PASSWORD)
    page.goto(live.url("/wall"))
    page.get_by_test_id("tile").nth(33).wait_for()
    shoot(page, out / "wall-map.png", full_page=False)
    screen.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--extra", action="store_true", help="also shoot more pages")
    parser.add_argument("--only", choices=["wall"], help="shoot only these pages")
    args = parser.parse_args(argv)
    reason = browser_missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="tracker-screens-") as tmp:
        app = build_app(Path(tmp))
        with LiveServer(app) as live, sync_playwright() as playwright:
            browser = launch(playwright)
            options = {"locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}

            if args.only == "wall":
                shoot_wall(browser, live, app, args.out, options)
                browser.close()
                return 0
            phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                        device_scale_factor=1.5, **options)
            page = phone.new_page()
            log_in(page, live, "ha_long", PASSWORD)
            page.goto(live.url("/today"))
            shoot(page, args.out / "member-today.png")
            if args.extra:
                extra = ROOT / "artifacts" / "screenshots" / "pages"
                page.locator(".quick-update summary").first.click()
                shoot(page, extra / "member-today-open-form.png")
                page.goto(live.url("/today/all"))
                shoot(page, extra / "member-update-all.png")
                first = page.locator("fieldset legend .code").first.inner_text()
                page.goto(live.url("/tasks?q=" + first))
                page.locator(".task-row a").first.click()
                shoot(page, extra / "member-task.png")
                page.locator("a[href$='/complete']").first.click()
                shoot(page, extra / "member-complete.png")
            phone.close()

            desktop = browser.new_context(viewport=DESKTOP, **options)
            page = desktop.new_page()
            log_in(page, live, "supervisor", PASSWORD)
            page.goto(live.url("/supervise/red"))
            shoot(page, args.out / "red-queue.png", full_page=False)
            if args.extra:
                page.locator("[data-testid=red-row] a").first.click()
                shoot(page, extra / "supervisor-task.png")
                page.goto(live.url("/reports/daily"))
                shoot(page, extra / "daily-report.png")
            desktop.close()

            leaders = browser.new_context(viewport=DESKTOP, **options)
            page = leaders.new_page()
            log_in(page, live, "viewer", PASSWORD)
            page.goto(live.url("/dashboard"))
            shoot(page, args.out / "dashboard.png")
            leaders.close()
            shoot_wall(browser, live, app, args.out, options)

            if args.extra:
                small = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                            **options)
                page = small.new_page()
                log_in(page, live, "supervisor", PASSWORD)
                page.goto(live.url("/supervise/red"))
                shoot(page, extra / "red-queue-phone.png")
                page.locator("[data-testid=red-row] a").first.click()
                shoot(page, extra / "supervisor-task-phone.png")
                page.goto(live.url("/reports/daily"))
                shoot(page, extra / "daily-report-phone.png")
                small.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
