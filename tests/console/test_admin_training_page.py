"""Training from an admin's history on the routing page's model section, in a real browser with the real worker:
upload, map labels to queues, create the missing one, and see the trained version with its figures; the section
is axe-clean.
Then the console explains a routed post with its language and the model's confidence in words."""

import re

from routing.features import available
from tests.console.factories import serious_violations
from tests.console.test_console import post_webhook
from tests.factories import make_post
from tests.services.triage.test_classifier_service import labelled_rows


def test_an_admin_uploads_a_history_and_sees_the_trained_version(admin_page, live_server):
    """A CSV whose labels are not queues trains once they are mapped or created; the version lists its figures;
    a Spanish post routed by it shows its language and the confidence in words."""
    page = admin_page
    page.goto(f"{live_server}/admin/routing")
    rows = [(text, {"billing": "Billing issue", "tech": "tech"}[label]) for text, label in labelled_rows(160)]
    rows += [(f"parcel courier delivery tracking late {n}", "shipping") for n in range(10)]
    content = "text,label\n" + "".join(f"{text},{label}\n" for text, label in rows)
    page.set_input_files("#train-upload input[name=history]",
                         {"name": "history.csv", "mimeType": "text/csv", "buffer": content.encode()})
    page.fill("#train-upload textarea[name=mapping]", "Billing issue = billing")
    page.check("#train-upload input[name=create_queues]")
    page.click("#train-upload button[type=submit]")
    page.wait_for_selector("#train-status:has-text('Training on 170 rows (billing 80, shipping 10, tech 80) "
                           "with tfidf features')")
    assert "new queues: shipping" in page.text_content("#train-status")
    for _ in range(120):  # the real worker trains it: ask again until the version is listed
        page.click("#refresh-versions")
        if page.query_selector("#model-table tbody tr[data-version]"):
            break
        page.wait_for_timeout(500)
    cells = page.eval_on_selector_all("#model-table tbody tr:first-child > *",
                                      "cells => cells.map(c => c.textContent)")
    # Version, trained, source, rows, features, accuracy, macro-F1, calibration error, never predicted, status.
    assert cells[2] == "file" and cells[4] == "tfidf" and cells[8] == "none" and cells[9] == "active"
    assert float(cells[5].rstrip("%")) > 90 and 0 <= float(cells[7]) <= 1
    # The features list offers embeddings only where their optional packages are installed.
    embeddings = page.query_selector("#train-upload select[name=features] option[value=embeddings]")
    assert embeddings.is_disabled() == (not available("embeddings"))
    assert page.input_value("#train-upload select[name=features]") == "tfidf"
    assert serious_violations(page, "#model-admin") == []

    conversation_id = post_webhook(live_server, make_post(text="Mi factura tiene un cargo doble del plan, ayuda"))
    for _ in range(60):  # the worker routes it: open it again until the explanation has its language
        page.goto(f"{live_server}/conversations/{conversation_id}")
        page.wait_for_selector("#thread .message.inbound")
        page.click("#why")
        if page.query_selector("#explanation .language"):
            break
        page.wait_for_timeout(500)
    assert page.inner_text("#explanation .language") == "Language: es"
    words = r"(almost certainly right|very likely right|likely right|a toss-up|probably wrong)"
    assert re.search(rf"(billing|tech|shipping) \d+% \({words}\)", page.inner_text("#explanation"))
