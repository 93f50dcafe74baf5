"""The county's dashboard in Chromium, on the demo city: every chart drawn (ECharts on a
canvas, served by the app), a table link and a bar each open the ledger list with
the same total, the phone layout and the print layout, no script or CSP error.
Screenshots: ``dashboard``, ``dashboard-phone``, ``dashboard-print``."""

from __future__ import annotations

import re

from browser_fixtures import PHONE, demo_session
from playwright.sync_api import expect

#: the pixel, inside the chart's box, of the middle of bar ``index`` of series 0
BAR_MIDDLE = """([el, index]) => {
  const chart = window.echarts.getInstanceByDom(el);
  const value = chart.getOption().series[0].data[index];
  return chart.convertToPixel({seriesIndex: 0}, [index, value / 2]);
}"""


def wait_for_charts(page) -> int:
    """Wait until every chart has drawn; returns how many there are."""
    expect(page.locator("#dash-status .dash-chart canvas")).to_have_count(1)
    charts = page.locator(".dash-chart")
    n = charts.count()
    expect(page.locator(".dash-chart[data-rendered='1']")).to_have_count(n)
    for i in range(n):
        expect(charts.nth(i).locator("canvas")).to_have_count(1)
    return n


def list_total(page) -> int:
    expect(page.locator(".total")).to_be_visible()
    return int(re.search(r"共 ([\d,]+) 条", page.locator(".total").inner_text())
               .group(1).replace(",", ""))


def test_the_county_dashboard_draws_its_charts_and_every_bar_opens_its_list(
        demo_server, browser, screenshot):
    context, page, errors = demo_session(browser, demo_server, "county1")
    page.get_by_role("link", name="看板", exact=True).click()
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    expect(page.locator("#refreshed")).to_contain_text("数据更新于")
    assert wait_for_charts(page) >= 4
    assert page.locator("#dash-rates .dash-chart canvas").count() == 1
    screenshot(page, "dashboard")
    screenshot(page, "dashboard-top", full_page=False)

    # a number of the table: the first township's rectified items
    link = page.locator("table[data-table='rates'] tbody tr").first.locator("td a").nth(1)
    expected = int(link.inner_text().replace(",", ""))
    link.click()
    page.wait_for_url(re.compile(r".*/ledger/\?.*outcome=rectified.*"))
    assert list_total(page) == expected
    expect(page.locator(".active-filter[data-filter='outcome']")).to_contain_text("已整改销号")

    # a bar of the status chart: the tallest, clicked on the canvas
    page.go_back()
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    wait_for_charts(page)
    chart = page.locator("#dash-status .dash-chart")
    chart.scroll_into_view_if_needed()
    counts = [int(c.replace(",", "")) for c in page.locator(
        "table[data-table='status'] tbody tr td").all_inner_texts()[:-1]]
    tallest = counts.index(max(counts))
    x, y = chart.evaluate(BAR_MIDDLE.replace("([el, index])", "(el)")
                          .replace("data[index]", f"data[{tallest}]")
                          .replace("[index, value", f"[{tallest}, value"))
    box = chart.bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(re.compile(r".*/ledger/\?.*status=\w+.*"))
    assert list_total(page) == counts[tallest]

    # the print layout: no menu, the unit and the date in the header
    page.go_back()
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    wait_for_charts(page)
    page.emulate_media(media="print")
    expect(page.locator(".print-header")).to_be_visible()
    assert not page.locator(".sanhu-bar").is_visible()
    assert "工作看板" in page.locator(".print-header").inner_text()
    screenshot(page, "dashboard-print")
    page.emulate_media(media="screen")
    assert not errors, errors
    context.close()


def test_the_dashboard_fits_a_phone(demo_server, browser, screenshot):
    context, page, errors = demo_session(browser, demo_server, "county1", viewport=PHONE)
    page.goto(f"{demo_server}/dashboard/")
    wait_for_charts(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    box = page.locator("#dash-rates .dash-chart canvas").bounding_box()
    assert box["width"] <= PHONE["width"]
    table = page.locator("#dash-rates table").bounding_box()
    assert table["y"] > box["y"]  # the table below its chart
    screenshot(page, "dashboard-phone")
    assert not errors, errors
    context.close()
