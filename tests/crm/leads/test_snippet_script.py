"""The snippet's inline script, run in Node against a minimal stand-in for the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from crm.leads.services import lead_form_snippet

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")

# A page at `href`, arrived at from `referrer`, with the snippet's form; fetch answers
# `answer`. Prints what the script left in the hidden fields and what it sent.
HARNESS = r"""
const [script, href, referrer, answer] = JSON.parse(require("fs").readFileSync(0, "utf8"));
const url = new URL(href);
const fields = {};
for (const name of ["name", "phone", "email", "company", "message", "website", "utm_source", "utm_medium",
                    "utm_campaign", "utm_term", "utm_content", "source_url", "referrer"]) fields[name] = {value: ""};
const status = {textContent: ""};
const errorSlots = {phone: {textContent: ""}};
let submitHandler = null, plainSubmit = false, sent = null;
const form = {
  action: "https://acme.crm.example/forms/KEY/", elements: fields,
  querySelector: (selector) => selector === ".crm-status" ? status
    : errorSlots[(selector.match(/data-error-for="([^"]+)"/) || [])[1]] || null,
  querySelectorAll: () => Object.values(errorSlots),
  addEventListener: (type, handler) => { submitHandler = handler; },
  reset: () => { for (const f of Object.values(fields)) f.value = ""; },
  submit: () => { plainSubmit = true; },
};
const storage = new Map();
global.window = {
  location: {search: url.search, href: url.href, origin: url.origin},
  sessionStorage: {getItem: (k) => storage.has(k) ? storage.get(k) : null, setItem: (k, v) => storage.set(k, v)},
  fetch: true, FormData: true,
};
global.document = {getElementById: () => form, referrer};
global.FormData = function (f) { this.form = f; };
global.fetch = (action, options) => {
  sent = {action, method: options.method, accept: options.headers.Accept};
  if (answer === "network-error") return Promise.reject(new Error("offline"));
  return Promise.resolve({status: answer.status, json: () => Promise.resolve(answer.body)});
};
eval(script);
const hidden = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.value]));
submitHandler({preventDefault: () => {}});
setTimeout(() => console.log(JSON.stringify({hidden, sent, status: status.textContent,
  phoneError: errorSlots.phone.textContent, plainSubmit})), 10);
"""


def run_script(snippet: str, *, href: str, referrer: str, answer) -> dict:
    script = re.search(r"<script>(.*)</script>", snippet, re.S).group(1)
    completed = subprocess.run(
        ["node", "-e", HARNESS],
        input=json.dumps([script, href, referrer, answer]),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(completed.stdout)


@pytest.fixture
def snippet(lead_form):
    return lead_form_snippet(lead_form, "https://acme.crm.example")


def test_script_fills_hidden_fields_from_the_page_and_referrer(snippet):
    result = run_script(
        snippet,
        href="https://www.acme-landing.example/?utm_source=yandex&utm_medium=cpc&utm_term=crm%20setup",
        referrer="https://yandex.ru/search/?text=crm",
        answer={"status": 201, "body": {"message": "Thanks!"}},
    )

    hidden = result["hidden"]
    assert (hidden["utm_source"], hidden["utm_medium"], hidden["utm_term"]) == ("yandex", "cpc", "crm setup")
    assert hidden["source_url"].startswith("https://www.acme-landing.example/?utm_source=yandex")
    assert hidden["referrer"] == "https://yandex.ru/search/?text=crm"


def test_script_sends_with_fetch_asking_for_json_and_shows_the_thank_you(snippet):
    result = run_script(
        snippet,
        href="https://www.acme-landing.example/",
        referrer="",
        answer={"status": 201, "body": {"lead": {"id": 1}, "message": "Thanks!"}},
    )

    assert result["sent"] == {
        "action": "https://acme.crm.example/forms/KEY/",
        "method": "POST",
        "accept": "application/json",
    }
    assert result["status"] == "Thanks!"
    assert result["plainSubmit"] is False


def test_script_shows_field_errors_next_to_the_fields(snippet):
    result = run_script(
        snippet,
        href="https://www.acme-landing.example/",
        referrer="",
        answer={
            "status": 400,
            "body": {"detail": "Some fields need attention.", "errors": {"phone": ["Leave a phone number."]}},
        },
    )

    assert result["phoneError"] == "Leave a phone number."
    assert result["status"] == "Some fields need attention."


def test_script_falls_back_to_an_ordinary_post_when_fetch_fails(snippet):
    result = run_script(snippet, href="https://www.acme-landing.example/", referrer="", answer="network-error")

    assert result["plainSubmit"] is True


def test_own_site_is_not_recorded_as_the_referrer(snippet):
    result = run_script(
        snippet,
        href="https://www.acme-landing.example/contact",
        referrer="https://www.acme-landing.example/",
        answer={"status": 201, "body": {"message": "Thanks!"}},
    )

    assert result["hidden"]["referrer"] == ""
