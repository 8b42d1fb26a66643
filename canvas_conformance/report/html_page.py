"""report.html: the one page a person reads, self-contained (inline CSS, images inlined).

Why one file with no external assets: it gets attached to tickets and certification
submissions and opened offline; nothing may break when the folder is moved or the
network is gone. Why <details> and no script: every rule expands to its evidence in
any browser, with JavaScript disabled, and prints.

Everything that came from the target (bodies, headers, messages) is escaped:
a hostile answer must not be able to inject markup into the page.
"""
from __future__ import annotations

import base64
import json
import mimetypes
import re
from datetime import datetime
from html import escape
from pathlib import Path

from .. import catalogue
from ..client import Exchange
from ..results import FAILING, MANUAL_MARKER, STATUSES, Scenario, exchange_line
from .curl import curl_command
from .rows import RuleRow, Run, failing, summary

MAX_BODY = 20_000  # characters of a body shown before it is cut (the full body is in conformance.json)
MAX_INLINE_IMAGE = 5 * 1024 * 1024

CSS = """
:root{--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--err:#9a6700;--err-bg:#fff8c5;
--man:#0969da;--man-bg:#ddf4ff;--skip:#57606a;--skip-bg:#eaeef2;--line:#d0d7de}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#1f2328}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}td.id{white-space:nowrap}
.badge{display:inline-block;min-width:4.5em;text-align:center;border-radius:1em;padding:0 .6em;font-weight:600;font-size:.85em}
.passed{color:var(--ok);background:var(--ok-bg)}.failed{color:var(--bad);background:var(--bad-bg)}
.error{color:var(--err);background:var(--err-bg)}.manual{color:var(--man);background:var(--man-bg)}
.skipped,.not-run{color:var(--skip);background:var(--skip-bg)}.partial{color:var(--err);background:var(--err-bg)}
.verdict{font-size:1.1rem;font-weight:700;padding:.5rem .8rem;border-radius:.4rem;display:inline-block}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0}dl.meta dt{font-weight:600}dl.meta dd{margin:0}
details{border:1px solid var(--line);border-radius:.4rem;margin:.4rem 0;padding:.2rem .6rem}
details>summary{cursor:pointer;padding:.2rem 0}details.rule>summary{font-weight:600}
details.scenario{background:#fbfcfd}details.exchange{background:#fff}
pre{background:#f6f8fa;border:1px solid var(--line);padding:.5rem;overflow:auto;white-space:pre-wrap;word-break:break-word;max-height:30rem}
.steps{margin:.3rem 0 .3rem 1.2rem;padding:0}.steps li{margin:.1rem 0}.kw{font-weight:700}
.reason{white-space:pre-wrap}.muted{color:#57606a}.cols{display:grid;grid-template-columns:1fr 1fr;gap:.6rem}
@media (max-width:800px){.cols{grid-template-columns:1fr}}
img.shot{max-width:100%;border:1px solid var(--line)}figure{margin:.5rem 0}
.verdict a{color:inherit}ol.manual{margin:.3rem 0 .3rem 1.4rem;padding:0}
@media print{details::details-content{display:contents;content-visibility:visible}
details:not([open])>*{display:block}details>summary{list-style:none}pre{max-height:none}}
"""


def render(run: Run, *, strict: bool = False, base_dir: Path | None = None) -> str:
    """The page as text. ``base_dir``: the report folder, where screenshot paths are resolved."""
    failures = failing(run, strict=strict)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Conformance report: {_e(run.target.get('base_url') or 'target')}</title>",
        f"<style>{CSS}</style></head><body>",
        _header(run, failures, strict),
        _failing_first(run, failures, base_dir),
        _summary(run),
    ]
    shown_first = {r.id for r in run.rules if r.id in failures}
    for kind, blurb in (
        ("documented", "Stated by the source document. A target that breaks one of these is not conformant."),
        ("inferred", "Not stated by the source document: implied by FHIR R4 REST conventions or Canvas's current "
                     "public docs. A failure here means the target differs from what FHIR/Canvas usually do."),
    ):
        rows = [r for r in run.rules if r.kind == kind]
        parts.append(f'<section id="{kind}"><h2>{kind.capitalize()} rules ({len(rows)})</h2>'
                     f'<p class="muted">{_e(blurb)}</p>')
        parts.append(_rules_table(rows))
        parts.extend(_rule_details(row, base_dir) if row.id not in shown_first else
                     f'<p class="muted">{_e(row.id)}: see <a href="#rule-{_e(row.id)}">Failing rules</a> above</p>'
                     for row in rows)
        parts.append("</section>")
    if run.unmatched:
        parts.append('<section id="unmatched"><h2>Scenarios outside the catalogue</h2>'
                     '<p class="muted">Tagged with no known rule ID: they count towards the exit code '
                     'but belong to no rule row.</p>')
        parts.extend(_scenario(s, base_dir) for s in run.unmatched)
        parts.append("</section>")
    parts.append('<footer><h2>Files of this report</h2><ul>'
                 '<li><code>conformance.json</code>: every rule, its status and evidence, for machines</li>'
                 '<li><code>junit.xml</code>: one test case per scenario, for CI dashboards</li>'
                 '<li><code>cucumber.json</code>: the scenarios in the cucumber JSON format</li>'
                 '<li><code>testreport.json</code>: a FHIR R4 TestReport resource, one test per rule</li>'
                 '<li><code>results.json</code>: the raw results the suite wrote</li></ul>'
                 '<p class="muted">Secrets (client secret, bearer tokens) are replaced by [REDACTED].</p>'
                 "</footer></body></html>")
    return "\n".join(parts) + "\n"


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _badge(status: str) -> str:
    css = status.replace(" ", "-")
    return f'<span class="badge {css}">{_e(status)}</span>'


def _header(run: Run, failures: list[str], strict: bool) -> str:
    target = run.target
    if run.interrupted:
        cut = run.interrupted
        verdict = (f'<p class="verdict error">Run interrupted by {_e(cut.get("signal"))}: '
                   f'{_e(cut.get("scenarios_not_run"))} selected scenario(s) not run; this page shows what ran'
                   f'{": " + _e(", ".join(failures[:12])) + " failing so far" if failures else ""}</p>')
    elif failures:
        verdict = _failing_verdict(run, failures, strict)
    else:
        verdict = '<p class="verdict passed">No rule failed or errored' + \
                  (" and none was left manual or skipped (strict)" if strict else "") + "</p>"
    mock = "yes (embedded reference mock)" if target.get("embedded_mock") else "no"
    meta = [
        ("Target", target.get("base_url")),
        ("Embedded mock", mock),
        ("Mock clock control", "yes" if target.get("mock_controls") else "no"),
        ("Started (UTC)", run.started),
        ("Finished (UTC)", run.finished),
        ("Duration", _duration(run.started, run.finished)),
        ("Tool", f"canvas-conformance {run.tool_version}"),
        ("Profile", f"{run.profile}: {catalogue.profile_info(run.profile).source_title}"),
        ("Rules from", catalogue.source(run.profile)),
        *_provenance(run.provenance),
        ("Strict", "yes: manual, skipped and partly checked rules fail the run (rules not selected do not)"
         if strict else "no"),
        ("Selection", run.selection or "every scenario"),
    ]
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v if v not in (None, '') else '—')}</dd>" for k, v in meta)
    return (f"<header><h1>Canvas Communication create: conformance report</h1>{verdict}"
            f'<dl class="meta">{rows}</dl></header>')


def _failing_verdict(run: Run, failures: list[str], strict: bool) -> str:
    """What fails the run, counted by status and each ID a link to its evidence; never cut short."""
    tally = {st: sum(1 for r in run.rules if r.id in failures and r.status == st) for st in STATUSES}
    outside = [f for f in failures if f not in {r.id for r in run.rules}]
    counts = f"{tally['failed']} failed, {tally['error']} error"
    if strict and (tally["manual"] or tally["skipped"]):
        counts += f", {tally['manual']} manual, {tally['skipped']} skipped (strict)"
    if outside:
        counts += f", {len(outside)} scenario(s) outside the catalogue"
    head = "Run failed" if tally["failed"] else "Run did not pass"
    links = ", ".join(f'<a href="#rule-{_e(f)}">{_e(f)}</a>' if f not in outside else _e(f) for f in failures)
    css = "failed" if tally["failed"] else "error"
    return f'<p class="verdict {css}">{head}: {counts}</p><p class="failing-ids">{links}</p>'


def _failing_first(run: Run, failures: list[str], base_dir: Path | None) -> str:
    """The rules that fail the run, with their evidence open, before everything else."""
    rows = [r for r in run.rules if r.id in failures]
    if not rows:
        return ""
    return ('<section id="failing"><h2>Failing rules</h2>'
            '<p class="muted">Each opens to the scenario that decided it and the exchange that shows it.</p>'
            + "".join(_rule_details(r, base_dir) for r in rows) + "</section>")


def _provenance(p: dict) -> list[tuple[str, str | None]]:
    """The header lines that say what the verdicts rest on (nothing for a results file without them)."""
    if not p:
        return []
    cat, suite = p.get("catalogue") or {}, p.get("suite") or {}
    return [
        ("Catalogue", f"{cat.get('source')} ({cat.get('edition')}), sha256 {cat.get('sha256')}" if cat else None),
        ("Explored cases", f"seed {p.get('seed')}, depth {p.get('depth')}"),
        ("Suite", f"{suite.get('source')}: {suite.get('files')} files, sha256 {suite.get('sha256')}"
         if suite else None),
    ]


def _duration(started: str | None, finished: str | None) -> str | None:
    try:
        seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return None
    return f"{seconds:.2f} s"


def _summary(run: Run) -> str:
    s = summary(run)
    head = "".join(f'<th>{_badge(st)}</th>' for st in STATUSES)
    lines = []
    for label, key in (("Documented rules", "documented"), ("Inferred rules", "inferred"),
                       ("All rules", "rules"), ("Scenarios", "scenarios")):
        cells = "".join(f'<td class="n{" " + st if s[key][st] else ""}">{s[key][st]}</td>' for st in STATUSES)
        lines.append(f"<tr><th>{label}</th>{cells}<td class=\"n\">{s[key]['total']}</td></tr>")
    legend = ("passed: every scenario of the rule passed · failed: the target broke the rule · "
              "error: the check could not finish (timeout, connection, unexpected answer) · "
              "manual: a person must check it, steps given · skipped: not checked (reason given)")
    return (f'<section id="summary"><h2>Summary</h2><table class="summary"><tr><th></th>{head}<th>total</th></tr>'
            f'{"".join(lines)}</table><p class="muted">{_e(legend)}</p></section>')


def _status(row: RuleRow) -> str:
    """The rule's badge, marked "partly" when some of its scenarios were skipped or manual."""
    return _badge(row.status) + (' <span class="badge partial">partly</span>' if row.partial else "")


def _rules_table(rows: list[RuleRow]) -> str:
    body = "".join(
        f'<tr><td class="id"><a href="#rule-{_e(r.id)}">{_e(r.id)}</a></td><td>{_status(r)}</td>'
        f"<td>{_e(r.section)}</td><td>{_e(r.title)}</td><td class=\"n\">{len(r.scenarios)}</td></tr>"
        for r in rows)
    return ('<table class="rules"><thead><tr><th>ID</th><th>Status</th><th>Section</th><th>Rule</th>'
            f"<th>Scenarios</th></tr></thead><tbody>{body}</tbody></table>")


def _rule_details(row: RuleRow, base_dir: Path | None) -> str:
    opened = " open" if row.status in FAILING else ""
    reason = f'<p class="reason"><b>Why:</b> {_e(row.reason)}</p>' if row.reason else ""
    seen = ""
    if row.observations:
        seen = ('<div class="observations"><p><b>Also seen while checking other rules</b> (evidence against this '
                "rule; those scenarios are error)</p><ul>" + "".join(
                    f"<li>also seen while checking {_e('/'.join(o.seen_while))} "
                    f"(<i>{_e(o.scenario)}</i>): {_e(o.message)}</li>" for o in row.observations) + "</ul></div>")
    scenarios = "".join(_scenario(s, base_dir) for s in row.scenarios)
    return (f'<details class="rule" id="rule-{_e(row.id)}"{opened}><summary>{_status(row)} '
            f"{_e(row.id)} · {_e(row.title)}</summary>"
            f'<p class="muted">{_e(row.kind)} · {_e(row.surface)} · section “{_e(row.section)}”</p>'
            f"{reason}{seen}{scenarios}</details>")


def _scenario(s: Scenario, base_dir: Path | None) -> str:
    opened = " open" if s.status in FAILING else ""
    steps = "".join(
        f'<li>{_badge(st.status)} <span class="kw">{_e(st.keyword)}</span> {_e(st.text)}'
        f' <span class="muted">{st.duration_s * 1000:.0f} ms</span></li>' for st in s.steps)
    parts = [f'<details class="scenario"{opened}><summary>{_badge(s.status)} {_e(s.name)} '
             f'<span class="muted">· {_e(s.feature)} · {s.duration_s:.2f} s</span></summary>',
             f'<p class="muted">{_e(s.feature_file)} · tags: {_e(" ".join("@" + t for t in s.tags))}</p>']
    if steps:
        parts.append(f'<ol class="steps">{steps}</ol>')
    if s.message:
        steps_by_hand = _manual_steps(s.message) if s.status == "manual" else None
        parts.append(steps_by_hand or f'<pre class="message">{_e(s.message)}</pre>')
    if s.observations:
        parts.append("<p><b>Other rules seen broken</b></p><ul>" + "".join(
            f"<li>{_e(o.get('rule'))}: {_e(o.get('message'))}</li>" for o in s.observations) + "</ul>")
    if s.notes:
        parts.append("<p><b>Evidence notes</b></p><ul>" + "".join(f"<li>{_e(n)}</li>" for n in s.notes) + "</ul>")
    parts.extend(_attachment(a, base_dir) for a in s.attachments)
    if s.exchanges:
        parts.append(f"<p><b>HTTP exchanges ({len(s.exchanges)})</b></p>")
        # the last exchange is the answer the failing check read: open it, on screen and on paper
        last = len(s.exchanges) - 1
        parts.extend(_exchange(x, opened=s.status in FAILING and n == last) for n, x in enumerate(s.exchanges))
    parts.append("</details>")
    return "".join(parts)


def _attachment(a: dict, base_dir: Path | None) -> str:
    path, title = str(a.get("path") or ""), a.get("title") or a.get("kind") or "attachment"
    mime = mimetypes.guess_type(path)[0] or ""
    if not mime.startswith("image/"):
        return f"<p>Attachment: {_e(title)} <code>{_e(path)}</code></p>"
    src = _inline_image(path, mime, base_dir) or path
    return (f'<figure><img class="shot" alt="{_e(title)}" src="{_e(src)}">'
            f"<figcaption>{_e(title)} <span class=\"muted\">({_e(path)})</span></figcaption></figure>")


def _inline_image(path: str, mime: str, base_dir: Path | None) -> str | None:
    """A data: URL for an image inside the report folder, so the page stays one file."""
    if base_dir is None or not path:
        return None
    base = base_dir.resolve()
    candidate = (base / path).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    if candidate.stat().st_size > MAX_INLINE_IMAGE:
        return None
    return f"data:{mime};base64,{base64.b64encode(candidate.read_bytes()).decode('ascii')}"


def _manual_steps(message: str) -> str | None:
    """A manual scenario's "MANUAL: 1. ... 2. ..." as a numbered list (None when it is not that shape)."""
    text = message.removeprefix(MANUAL_MARKER).strip()
    steps, n = [], 1
    while text.startswith(f"{n}. "):
        after = text[len(f"{n}. "):]
        cut = re.search(rf"\s{n + 1}\.\s", after)
        steps.append(after[:cut.start()] if cut else after)
        text = after[cut.start() + 1:] if cut else ""
        n += 1
    if not steps or text:
        return None
    items = "".join(f"<li>{_e(step.strip())}</li>" for step in steps)
    return f'<p><b>Steps to check by hand</b></p><ol class="manual">{items}</ol>'


def _exchange(x: Exchange, *, opened: bool = False) -> str:
    """The exchange's one line (``results.exchange_line``) opening to the request and the answer in full."""
    request = _message(f"{x.method} {x.url}", x.request_headers, x.request_body)
    answer_line = f"HTTP {x.status}" if x.status is not None else f"no answer: {x.error or 'unknown'}"
    answer = _message(answer_line, x.response_headers, x.response_body)
    return (f'<details class="exchange"{" open" if opened else ""}><summary>{_e(exchange_line(x))} '
            f'<span class="muted">· {_e(x.started)}</span></summary>'
            f'<div class="cols"><div><b>Request</b><pre>{_e(request)}</pre></div>'
            f"<div><b>Answer</b><pre>{_e(answer)}</pre></div></div>"
            f'<b>Send it again</b><pre class="curl">{_e(curl_command(x._asdict()))}</pre></details>')


def _message(first_line: str, headers: dict, body: str | None) -> str:
    lines = [first_line] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines += ["", _pretty(body)]
    return "\n".join(lines)


def _pretty(body: str) -> str:
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(body)
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY] + f"\n… ({len(text) - MAX_BODY} more characters in conformance.json)"
    return text
