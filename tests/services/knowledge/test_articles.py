"""Help articles: admins manage them over the API, agents search and read published ones, hostile Markdown renders
harmless, folders and Discourse exports import (again changes nothing), and macros link to articles by slug."""

import json
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Agent, ApiToken, Article, Author, Channel, Conversation, Message

HOSTILE = """# Hi
<script>alert(1)</script> <img src=x onerror=alert(2)>
[click](javascript:alert(3)) [mail](mailto:help@example.com) [site](https://example.com/help)
![tracker](https://evil.example/pixel.png)
<a href="https://evil.example" onclick="alert(4)">raw link</a>
**bold** and `code`
"""


@pytest.fixture
def people(app, channel):
    """Ada (admin) and Ana (agent) with tokens: {"Ada": headers, "Ana": headers}."""
    headers = {}
    with app.app_context():
        for name, role in (("Ada", "admin"), ("Ana", "agent")):
            agent = Agent(email=f"{name.lower()}@example.com", name=name, role=role)
            row, secret = ApiToken.issue(agent, "tests")
            db.session.add_all([agent, row])
            headers[name] = {"Authorization": f"Bearer {secret}"}
        db.session.commit()
    return headers


def create(client, people, **fields):
    return client.post("/api/v1/articles", json=fields, headers=people["Ada"])


def test_admins_write_agents_read_published_and_search(client, people):
    """Create (slug from the title), publish, search by words (title first), drafts hidden from agents."""
    response = create(client, people, title="Refund policy", body="Refunds reach your card in 5 days.",
                      tags=["Billing", "refund"], queue="billing", status="published",
                      external_url="https://help.example.com/refunds")
    assert response.status_code == 201
    refund = response.get_json()
    assert (refund["slug"], refund["tags"], refund["queue"]) == ("refund-policy", ["billing", "refund"], "billing")
    draft = create(client, people, title="Card delivery", body="Cards take a week; refund of fees on request.")
    assert draft.get_json()["status"] == "draft"
    found = client.get("/api/v1/articles?q=refund", headers=people["Ana"]).get_json()["data"]
    assert [a["slug"] for a in found] == ["refund-policy"]
    found = client.get("/api/v1/articles?q=refund", headers=people["Ada"]).get_json()["data"]
    assert [a["slug"] for a in found] == ["refund-policy", "card-delivery"]
    assert client.get(f"/api/v1/articles/{draft.get_json()['id']}", headers=people["Ana"]).status_code == 404
    assert create(client, people, title="Other", slug="refund-policy").status_code == 400
    assert create(client, people, title="Bad", external_url="javascript:alert(1)").status_code == 400
    assert create(client, people, title="Nowhere", queue="nope").status_code == 404
    assert client.post("/api/v1/articles", json={"title": "x"}, headers=people["Ana"]).status_code == 403
    changed = client.patch(f"/api/v1/articles/{refund['id']}", json={"title": "Refunds"}, headers=people["Ada"])
    assert changed.get_json()["title"] == "Refunds"
    assert client.delete(f"/api/v1/articles/{refund['id']}", headers=people["Ada"]).status_code == 204
    assert client.get(f"/api/v1/articles/{refund['id']}", headers=people["Ada"]).status_code == 404


def test_hostile_markdown_renders_harmless(client, people):
    """Scripts, event handlers, javascript: links, images and raw HTML never reach the HTML; formatting and
    http(s)/mailto links do, opened safely."""
    article = create(client, people, title="Hostile", body=HOSTILE, status="published").get_json()
    html = client.get(f"/api/v1/articles/{article['id']}", headers=people["Ana"]).get_json()["body_html"]
    elements = parse(html)
    assert {tag for tag, _ in elements} <= {"h1", "p", "a", "strong", "code"}
    assert all(not name.startswith("on") and name in ("href", "rel") for _, attrs in elements for name, _ in attrs)
    links = sorted(dict(attrs)["href"] for tag, attrs in elements if tag == "a")
    assert links == ["https://example.com/help", "mailto:help@example.com"]
    assert all(dict(attrs)["rel"] == "noopener noreferrer nofollow" for tag, attrs in elements if tag == "a")
    assert "&lt;script&gt;" in html  # shown as text, never run
    assert article["excerpt"].startswith("Hi <script>")  # plain text for a reply, never parsed as HTML


def parse(html: str) -> list[tuple[str, list]]:
    """Every element of an HTML fragment as (tag, attributes)."""
    elements = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            elements.append((tag, attrs))

    Collector().feed(html)
    return elements


def test_a_folder_of_markdown_imports_and_again_changes_nothing(app, runner, tmp_path, client, people):
    """Front matter sets the fields, the first heading the title, the file name the slug; a second run updates."""
    (tmp_path / "kb" / "billing").mkdir(parents=True)
    (tmp_path / "kb" / "billing" / "refund-policy.md").write_text(
        "---\ntags: [billing, refund]\nurl: https://help.example.com/refunds\n---\n# Refund policy\n\nFive days.\n")
    (tmp_path / "kb" / "password-reset.md").write_text("Use the link on the sign-in page.\n")
    result = runner.invoke(args=["articles", "import-folder", str(tmp_path / "kb")])
    assert result.exit_code == 0 and "2 created, 0 updated" in result.output, result.output
    result = runner.invoke(args=["articles", "import-folder", str(tmp_path / "kb")])
    assert "0 created, 2 updated" in result.output
    found = {a["slug"]: a for a in client.get("/api/v1/articles", headers=people["Ana"]).get_json()["data"]}
    assert found["refund-policy"]["title"] == "Refund policy" and found["refund-policy"]["tags"] == ["billing",
                                                                                                    "refund"]
    assert found["refund-policy"]["external_url"] == "https://help.example.com/refunds"
    assert found["password-reset"]["title"] == "Password reset" and found["password-reset"]["source"] == "folder"
    assert runner.invoke(args=["articles", "import-folder", str(tmp_path / "missing")]).exit_code != 0


def test_a_discourse_category_export_imports_each_topic(app, runner, tmp_path):
    """Each topic's first post becomes an article linked to its topic; a malformed export is refused whole."""
    export = {"topics": [
        {"id": 12, "title": "How refunds work", "slug": "how-refunds-work", "tags": ["billing"],
         "posts": [{"post_number": 1, "raw": "Refunds take **five** days."}, {"post_number": 2, "raw": "thanks"}]},
        {"id": 13, "title": "Resetting a password", "posts": [{"post_number": 1, "raw": "Use the link."}]}]}
    path = tmp_path / "category.json"
    path.write_text(json.dumps(export))
    result = runner.invoke(args=["articles", "import-discourse", str(path), "--base-url", "https://forum.example"])
    assert "2 created" in result.output, result.output
    with app.app_context():
        article = db.session.scalar(sa.select(Article).where(Article.slug == "how-refunds-work"))
        assert article.external_url == "https://forum.example/t/how-refunds-work/12"
        assert article.body == "Refunds take **five** days." and article.source == "discourse"
    path.write_text(json.dumps({"topics": [{"title": "no posts"}]}))
    result = runner.invoke(args=["articles", "import-discourse", str(path)])
    assert result.exit_code != 0 and "topic 1" in result.output


def test_a_macro_links_to_an_article_by_slug(app, client, people):
    """`{{ article('refund-policy').url }}` renders the published article's URL; naming a missing one is refused."""
    create(client, people, title="Refund policy", status="published", external_url="https://help.example.com/r")
    template = "Details: {{ article('refund-policy').url }} ({{ article('refund-policy').title }})"
    response = client.post("/api/v1/macros", json={"name": "Refund link", "template": template, "scope": "global",
                                                   "actions": [{"type": "reply"}]}, headers=people["Ada"])
    assert response.status_code == 201, response.get_json()
    macro_id = response.get_json()["id"]
    refused = client.post("/api/v1/macros", json={"name": "Broken", "template": "{{ article('nope').url }}",
                                                  "scope": "global"}, headers=people["Ada"])
    assert refused.status_code == 400 and "nope" in refused.get_json()["error"]["message"]
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel))
        author = Author(channel=channel, external_id="u1", handle="maya", name="Maya")
        conversation = Conversation(channel=channel, author=author, queue_id=2, status="open", subject="")
        db.session.add_all([author, conversation, Message(conversation=conversation, channel_id=channel.id,
                                                          author=author, text="refund?")])
        db.session.commit()
        conversation_id = conversation.id
    preview = client.post(f"/api/v1/macros/{macro_id}/preview", json={"conversation_id": conversation_id},
                          headers=people["Ada"]).get_json()
    assert preview["reply"] == "Details: https://help.example.com/r (Refund policy)"
