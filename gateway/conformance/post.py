"""The check of POST: the same request sent as GET and as POST must get the same answer."""

from __future__ import annotations

from typing import Any

from lxml import etree

from gateway.conformance.probe import Probe
from gateway.conformance.protocol import Response, q


def post(probe: Probe, prefix: str | None) -> None:
    get = probe.request([("verb", "Identify")])
    post = probe.request([("verb", "Identify")], "POST")
    g, p = get.verb_element("Identify"), post.verb_element("Identify")
    if g is None or p is None:
        probe.add("POST: Identify", False, f"GET: {get.describe()}; POST: {post.describe()}")
    else:
        same = _canonical(g) == _canonical(p)
        probe.add("POST: Identify", same, "" if same else "the POST answer differs from the GET answer")
        probe.schema_check("POST: Identify", post)
    if prefix is None:
        return
    args = [("verb", "ListIdentifiers"), ("metadataPrefix", prefix)]
    get, post = probe.request(args), probe.request(args, "POST")

    def summary(resp: Response) -> tuple[Any, ...]:
        el = resp.verb_element("ListIdentifiers")
        if el is None:
            return ("errors", tuple(resp.errors))
        token = el.find(q("resumptionToken"))
        ids = tuple((h.findtext(q("identifier")) or "").strip() for h in el.findall(q("header")))
        attrs = (
            (token.get("cursor"), token.get("completeListSize"), bool((token.text or "").strip()))
            if token is not None
            else None
        )
        return ids, attrs

    if post.root is None:
        probe.add("POST: ListIdentifiers", False, post.describe())
        return
    same = summary(get) == summary(post)
    probe.add("POST: ListIdentifiers", same, "" if same else f"GET {summary(get)} vs POST {summary(post)}")
    probe.schema_check("POST: ListIdentifiers", post, prefix)


def _canonical(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n")
