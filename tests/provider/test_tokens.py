"""Resumption tokens: signed and refused when tampered with, for another verb, expired or foreign; the generated
secret stored once and shared; idempotent; walks that neither skip nor repeat while records change."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.db import utcnow
from gateway.models import PublicationChange, Published, Setting
from gateway.provider.tokens import Position, TokenCodec
from tests.conftest import make_config
from tests.provider.responses import NS, PAGE, error_codes, expected, first_token, identifiers, oai, stamp, token_of
from tests.support.provider_fixtures import BASE, Seeded, add_published, make_source


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_bad_token(client: Any, verb: str, token: str) -> None:
    root = oai(client, {"verb": verb, "resumptionToken": token})
    assert error_codes(root) == ["badResumptionToken"], token
    assert not root.findall(".//o:header", NS) and not root.findall(".//o:set", NS)


def test_tampered_tokens_are_refused(client: Any) -> None:
    token = first_token(client, set="source")
    head, sig = token.split(".")
    payload = json.loads(_unb64(head))
    # Widening the selection, rewinding or editing counts all break the signature.
    for change in (
        {"set_spec": None},
        {"last": 0},
        {"metadata_prefix": "jpcoar_2.0"},
        {"exp": payload["exp"] + 10**6},
        {"verb": "ListRecords"},
    ):
        forged = _b64(json.dumps({**payload, **change}, separators=(",", ":"), sort_keys=True).encode())
        assert_bad_token(client, "ListIdentifiers", f"{forged}.{sig}")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert_bad_token(client, "ListIdentifiers", f"{head}.{flipped}")
    for garbage in ("garbage", "abc.def", head, f"{head}.", f".{sig}", token + "x", "x" + token, "%%%", "1.2.3"):
        assert_bad_token(client, "ListIdentifiers", garbage)
    # The untouched token still works.
    root = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token}, prefix="oai_dc")
    assert not error_codes(root)


def test_wrong_verb_tokens_are_refused(client: Any) -> None:
    identifiers_token = first_token(client, "ListIdentifiers")
    records_token = first_token(client, "ListRecords")
    sets_token = first_token(client, "ListSets")
    assert_bad_token(client, "ListRecords", identifiers_token)
    assert_bad_token(client, "ListIdentifiers", records_token)
    assert_bad_token(client, "ListRecords", sets_token)
    assert_bad_token(client, "ListSets", records_token)
    for verb in ("Identify", "GetRecord", "ListMetadataFormats"):
        root = oai(client, {"verb": verb, "resumptionToken": records_token})
        assert set(error_codes(root)) == {"badArgument"}


def test_expired_and_foreign_tokens_are_refused(engine: Engine, db_url: str, seeded: Seeded) -> None:
    cfg = make_config(db_url, page_size=PAGE, token_secret="one secret", token_lifetime=60)
    client = create_app(cfg, engine).test_client()
    position = Position("ListRecords", "oai_dc", None, None, None, 5, 5, 18)
    codec = TokenCodec(b"one secret", 60)
    fresh, _ = codec.encode(position, utcnow())
    assert not error_codes(oai(client, {"verb": "ListRecords", "resumptionToken": fresh}, prefix="oai_dc"))
    expired, _ = codec.encode(position, utcnow() - timedelta(seconds=61))
    assert_bad_token(client, "ListRecords", expired)
    foreign, _ = TokenCodec(b"another secret", 60).encode(position, utcnow())
    assert_bad_token(client, "ListRecords", foreign)
    # A token from another gateway (other secret) is refused even when its content is plausible.
    other = create_app(make_config(db_url, page_size=PAGE, token_secret="two secret"), engine).test_client()
    assert_bad_token(other, "ListRecords", fresh)
    # Signed but nonsensical payloads are refused, not crashed on.
    for odd in (
        Position("ListRecords", None, None, None, None, 5, 5, 18),
        Position("ListRecords", "oai_dc", None, "not a date", None, 5, 5, 18),
        Position("ListRecords", "oai_dc", None, None, None, "text", 5, 18),
        Position("ListSets", None, None, None, None, 7, 5, 18),
    ):
        token, _ = codec.encode(odd, utcnow())
        assert_bad_token(client, odd.verb, token)


def test_generated_secret_is_stored_and_shared(engine: Engine, db_url: str, seeded: Seeded) -> None:
    first = create_app(make_config(db_url, page_size=PAGE), engine).test_client()
    token = first_token(first, "ListRecords")
    with Session(engine) as session:
        secret = session.get(Setting, "token_secret").value
    assert len(secret) >= 32
    second = create_app(make_config(db_url, page_size=PAGE), engine).test_client()
    root = oai(second, {"verb": "ListRecords", "resumptionToken": token}, prefix="oai_dc")
    assert not error_codes(root)
    with Session(engine) as session:
        assert session.get(Setting, "token_secret").value == secret


def test_tokens_are_idempotent(client: Any) -> None:
    token = first_token(client, "ListRecords", metadataPrefix="jpcoar_2.0")
    one = identifiers(oai(client, {"verb": "ListRecords", "resumptionToken": token}, prefix="jpcoar_2.0"))
    two = identifiers(oai(client, {"verb": "ListRecords", "resumptionToken": token}, prefix="jpcoar_2.0"))
    assert one == two and len(one) == PAGE


def test_changes_during_a_walk_skip_and_repeat_nothing(client: Any, seeded: Seeded, engine: Engine) -> None:
    root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    seen = identifiers(root)
    token = token_of(root).text
    root = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token}, prefix="oai_dc")
    seen += identifiers(root)
    token = token_of(root).text
    served, pending = seen[0], expected(seeded, "oai_dc")[len(seen) + 2]
    # Both records change (datestamp bumped to now), and new records are published, while the harvester waits.
    with Session(engine) as session:
        touch(session, [served, pending])
        source = make_source(session, "weko")
        added = [add_published(session, source, n, utcnow()) for n in (101, 102)]
        session.commit()
    while token:
        root = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token}, prefix="oai_dc")
        seen += identifiers(root)
        token = (token_of(root).text if token_of(root) is not None else None) or None
    assert len(seen) == len(set(seen))
    assert seen == expected(seeded, "oai_dc") + added


def touch(session: Session, identifiers: list[str]) -> None:
    """Change published records as a publication does: a new datestamp and a new change number."""
    mark = PublicationChange(made_at=utcnow())
    session.add(mark)
    session.flush()
    session.execute(
        update(Published).where(Published.oai_identifier.in_(identifiers)).values(datestamp=utcnow(), change=mark.id)
    )


def test_record_changed_out_of_range_during_a_walk(client: Any, seeded: Seeded, engine: Engine) -> None:
    until = stamp(BASE + timedelta(days=5))
    root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": until})
    seen = identifiers(root)
    token = token_of(root).text
    in_list = expected(seeded, "oai_dc", lambda i: seeded.datestamps[i] <= BASE + timedelta(days=5))
    beyond = expected(seeded, "oai_dc", lambda i: seeded.datestamps[i] > BASE + timedelta(days=5))
    assert beyond and len(in_list) > len(seen) + 1
    moved, served_moved = in_list[-1], in_list[0]
    # The last record of the list and one already served change (new datestamp: now, far past `until`), records
    # outside the range change too, and a record is added, while the harvester waits.
    with Session(engine) as session:
        changed = [moved, served_moved, beyond[0]]
        touch(session, changed)
        added = add_published(session, make_source(session, "weko"), 101, utcnow())
        session.commit()
    while token:
        root = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token}, prefix="oai_dc")
        seen += identifiers(root)
        token = (token_of(root).text if token_of(root) is not None else None) or None
    # Every record of the list when the walk began is served exactly once, the changed one with its new datestamp;
    # records outside the range that changed during the walk (never in the list) may come along; new ones do not.
    assert len(seen) == len(set(seen))
    assert set(in_list) <= set(seen) <= set(in_list) | {beyond[0]}
    assert added not in seen
    assert [i for i in seen if i in in_list] == in_list
    # A walk begun after the changes uses the range as it is now (the first page is counted exactly).
    root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": until})
    assert token_of(root).get("completeListSize") == str(len(in_list) - 2)


def test_secret_creation_is_race_safe(engine: Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from gateway.db import session_factory
    from gateway.provider.tokens import server_secret

    sessions = session_factory(engine)
    with ThreadPoolExecutor(max_workers=6) as pool:
        secrets = set(pool.map(lambda _: server_secret(sessions, None), range(12)))
    assert len(secrets) == 1
    with Session(engine) as session:
        assert session.get(Setting, "token_secret").value.encode() == secrets.pop()
    assert server_secret(sessions, "configured") == b"configured"
