"""The Content-Security-Policy in a real browser: our modules run, injected inline script does not."""


def test_an_injected_inline_script_is_refused(open_console):
    """Script text put into the page (as an XSS would) does not run, and the browser says why."""
    page = open_console("ana@example.com")
    ran = page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.pwned = true';
        document.body.append(script);
        return window.pwned === true;
    }""")
    assert ran is False
    page.wait_for_timeout(200)
    assert any("script-src" in text for text in page.context.csp_violations)
    page.context.csp_violations.clear()  # the refusal this test provoked is the expected one


def test_the_weekly_reports_print_button_works_from_its_module(open_console, live_server):
    """The report's Print button, once an inline onclick, is wired by static/js/pages/report.js."""
    page = open_console("sam@example.com")
    page.add_init_script("window.print = () => { window.printed = true; };")
    page.goto(f"{live_server}/reports/weekly")
    page.click("#print-report")
    page.wait_for_function("() => window.printed === true")
