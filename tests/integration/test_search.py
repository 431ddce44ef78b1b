"""GET /api/calls/search on both databases: phrases and ranking, unicode, exact numbers and ids,
organisation isolation, filters, and the index kept in step by every write (ingest, a transcript fetched
on a read, deletion, redaction)."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, text

from tests.audio import tone
from tests.conftest import auth
from tests.factories import make_call
from tests.fakes import senders
from tests.fakes.elevenlabs import ElevenLabsFake, conversation
from tests.jobs import until
from tether_relay.api.routes.search import SearchResponse
from tether_relay.calls.models import Call, Recording, SearchDocument
from tether_relay.calls.search_repository import COUNTED, RANKED, SearchRepository
from tether_relay.organizations.models import Organization
from tether_relay.runtime import Runtime
from tether_relay.search.query import text_query
from tether_relay.search.terms import indexed, search_scope

ORG, OTHER = "org-a", "org-b"
MP3 = b"ID3\x04\x00\x00" + bytes(range(256)) * 20


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ingest_rate_limit_per_minute": 1000, "jobs_in_process": True, "job_retry_first_seconds": 0.2}


def said(*messages: str) -> list[dict[str, Any]]:
    return [
        {"role": "user" if i % 2 else "agent", "message": m, "timestamp": 2.0 * i, "end": 2.0 * i + 1.5}
        for i, m in enumerate(messages)
    ]


async def ingest(client: httpx.AsyncClient, *messages: str, organization: str = ORG, **fields: Any) -> str:
    """A call through the ingest API (the write path customers use), saying `messages`."""
    keys: dict[str, str] = client.__dict__.setdefault("api_keys", {})  # asking again makes a new key
    if organization not in keys:
        answer = await client.get("/api/user/api-key", headers=auth(organization))
        keys[organization] = answer.json()["data"]["apiKey"]
    api_key = keys[organization]
    body = {
        "direction": "inbound",
        "fromNumber": "+14165550100",
        "toNumber": "+14165550199",
        "duration": 30,
        "status": "completed",
        "transcript": said(*messages),
        "summary": "A call.",
        "recording": base64.b64encode(MP3).decode(),
        "callStartTime": "2026-11-20T10:00:00Z",
        **fields,
    }
    response = await client.post(
        "/api/calls/ingest", json=body, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["callId"])


async def search(
    client: httpx.AsyncClient, q: str, organization: str = ORG, role: str = "ADMIN", **params: Any
) -> dict[str, Any]:
    response = await client.get(
        "/api/calls/search", params={"q": q, **params}, headers=auth(organization, role)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    SearchResponse.model_validate(body)  # what the route renders is what its model documents
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [hit["call"]["callId"] for hit in body["hits"]]


async def test_words_anywhere_match_and_the_phrase_ranks_first(client: httpx.AsyncClient) -> None:
    together = await ingest(client, "Hello, how can I help?", "I want to cancel my subscription, please.")
    apart = await ingest(client, "Cancel the order.", "My subscription renews monday.", "Is that all?")
    unrelated = await ingest(client, "Where is my parcel?", "It left the depot.")

    body = await search(client, "cancel my subscription")

    assert ids(body) == [together, apart]
    assert body["total"] == 2
    assert unrelated not in ids(body)
    hit = body["hits"][0]
    assert hit["matchedOn"] == "transcript"
    assert hit["matchCount"] == 1
    match = hit["matches"][0]
    assert (match["index"], match["role"], match["timestamp"]) == (1, "user", 2.0)
    assert match["snippet"] == "I want to <mark>cancel my subscription</mark>, please."
    start, end = match["highlights"][0]
    assert match["message"][start:end] == "cancel my subscription"
    # In quotes, the words must be said together, in one utterance.
    assert ids(await search(client, '"cancel my subscription"')) == [together]
    assert ids(await search(client, '"subscription is that"')) == []  # not across two utterances
    assert ids(await search(client, '"monday is"')) == []  # two words: PostgreSQL asks for their pair


async def test_a_hit_carries_the_call_as_the_call_read_answers_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The same document, its recordings oldest first, however many it has and whatever order they were
    stored in."""
    call_id = await ingest(client, "kilo lima")
    other = await ingest(client, "kilo lima mike")
    first = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    async with runtime.sessions.begin() as session:
        for id_, minutes in (("rec-later", 5), ("rec-earliest", -5), ("rec-between", 1)):
            session.add(Recording(id=id_, call_id=call_id, created_at=first + timedelta(minutes=minutes)))

    hits = {hit["call"]["callId"]: hit["call"] for hit in (await search(client, "kilo lima"))["hits"]}

    for each in (call_id, other):
        read = await client.get(f"/api/calls/{each}", headers=auth(ORG))
        assert hits[each] == read.json()["call"]
    assert [r["recordingId"] for r in hits[call_id]["recordings"]][:1] == ["rec-earliest"]
    assert len(hits[call_id]["recordings"]) == 4


async def test_a_long_phrase_is_found_after_a_word_said_hundreds_of_times(
    client: httpx.AsyncClient,
) -> None:
    """PostgreSQL's tsvector keeps a word's first 256 positions only: a phrase of three words said after
    "the" for the 300th time is still found, as on SQLite; its pairs said apart are not the phrase."""
    late = await ingest(client, *["hmm the"] * 300, "I want the gnu now please.")
    apart = await ingest(client, "I want the cat, the gnu now.", *["hmm the"] * 300)

    for q in ('"want the gnu"', '"the gnu now please"', "want the gnu"):
        assert ids(await search(client, q)) == ([late] if q.startswith('"') else [late, apart]), q
    assert ids(await search(client, '"want the cat the gnu"')) == [apart]


async def test_equal_scores_are_ordered_as_the_history_orders_calls(client: httpx.AsyncClient) -> None:
    """Newest call first, whatever order they were stored (indexed) in."""
    later = await ingest(client, "kilo lima", callStartTime="2026-11-20T10:00:00Z")
    earlier = await ingest(client, "kilo lima", callStartTime="2026-11-10T10:00:00Z")

    body = await search(client, "kilo lima")

    assert ids(body) == [later, earlier]
    assert body["hits"][0]["score"] == body["hits"][1]["score"]


async def test_more_mentions_rank_higher_and_words_are_stemmed_and_folded(client: httpx.AsyncClient) -> None:
    once = await ingest(client, "I need a refund for the blue one.", "Sure, one moment.")
    thrice = await ingest(client, "Refund, refund, I need a refund.", "Sure, one moment.")

    assert ids(await search(client, "refund")) == [thrice, once]
    assert ids(await search(client, "REFUNDED")) == [thrice, once]  # stemmed, case-folded
    cancelled = await ingest(client, "They cancelled it.")
    assert ids(await search(client, "cancelling")) == [cancelled]


@pytest.mark.parametrize(
    ("message", "query"),
    [
        ("Je m'appelle José Núñez.", "jose nunez"),
        ("Je m'appelle José Núñez.", "JOSÉ"),
        ("我想取消订阅\uff0c谢谢。", "取消订阅"),  # written without spaces: any run of characters
        ("ありがとうございます", "ございます"),
        ("मुझे अपना ऑर्डर रद्द करना है", "ऑर्डर रद्द"),  # combining vowel signs stay in their word
        ("Straße und Maß", "strasse"),
        ("Order \uff21\uff22\uff23\uff11\uff12\uff13 please", "abc123"),  # full-width letters and digits
        ("Ελληνικά: Σωκράτης", "σωκρατης"),
        ("emoji 🎉 party time", "party"),
        ("שלום עולם", "עולם"),
    ],
)
async def test_unicode_is_found_as_people_type_it(
    client: httpx.AsyncClient, message: str, query: str
) -> None:
    call_id = await ingest(client, "Hello.", message)
    await ingest(client, "Nothing alike here.")

    body = await search(client, query)

    assert ids(body) == [call_id]
    marked = body["hits"][0]["matches"][0]
    assert marked["message"] == message
    assert marked["highlights"]


@pytest.mark.parametrize(
    "q",
    [
        '" OR 1=1 --',
        "cancel' OR 'a'='a",
        "NEAR(cancel order) AND NOT x*",
        "a & b | !c <-> d:* \\ ''",
        "subscription)",
        '"""',
        "col:cancel",
        "cancel\u0000order",
    ],
)
async def test_query_syntax_of_either_database_is_just_text(client: httpx.AsyncClient, q: str) -> None:
    await ingest(client, "Please cancel the order now.")
    response = await client.get("/api/calls/search", params={"q": q}, headers=auth(ORG))
    # Either words to search (found or not) or a clear 400: never the database's syntax, never a 500.
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "!!! ... ???"}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "refund", "limit": 0}, "limit"),
        ({"q": "refund", "limit": 101}, "limit"),
        ({"q": "refund", "since": "2026-11-20T10:00:00"}, "since"),  # no zone
        ({"q": "refund", "until": "yesterday"}, "until"),
        ({"q": " ".join(f"w{i}" for i in range(40))}, "q"),
    ],
)
async def test_bad_queries_are_400_in_the_envelope(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/calls/search", params=params, headers=auth(ORG))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "VALIDATION_ERROR"
    assert field in str(body["error"])
    assert (await client.get("/api/calls/search", params={"q": "refund"})).status_code == 401


async def test_a_number_or_an_id_matches_exactly_first(client: httpx.AsyncClient) -> None:
    by_number = await ingest(client, "Hello.", fromNumber="+14155550123", externalCallId="vendor-call-777")
    mentions = await ingest(client, "Call me on 4155550123 tomorrow.", fromNumber="+14165550100")

    for typed in ("+14155550123", "(415) 555-0123", "415.555.0123", "1 415 555 0123"):
        body = await search(client, typed)
        assert ids(body)[0] == by_number, typed
        assert body["hits"][0]["matchedOn"] == "phoneNumber"
    assert ids(await search(client, "4155550123")) == [by_number, mentions]
    # The exact match fills a page of one: the transcript hit is still counted, and is the next page.
    first, second = [await search(client, "4155550123", limit=1, offset=o) for o in (0, 1)]
    assert (ids(first), first["total"], ids(second), second["total"]) == ([by_number], 2, [mentions], 2)
    for ident in (by_number, "vendor-call-777"):
        body = await search(client, ident)
        assert ids(body) == [by_number]
        assert body["hits"][0]["matchedOn"] == "id"


async def test_another_organisations_calls_never_appear(client: httpx.AsyncClient) -> None:
    ours = await ingest(client, "Please cancel my subscription.", fromNumber="+14155550100")
    theirs = await ingest(
        client,
        "Please cancel my subscription.",
        organization=OTHER,
        fromNumber="+14155550199",
        externalCallId="their-call-123",
    )

    mine = await search(client, "cancel my subscription")
    assert ids(mine) == [ours]
    assert mine["total"] == 1
    assert ids(await search(client, "cancel my subscription", OTHER)) == [theirs]
    for q in ("+14155550199", theirs, "their-call-123"):
        body = await search(client, q)
        assert (ids(body), body["total"]) == ([], 0), q


async def test_filters_narrow_the_search_and_the_history(client: httpx.AsyncClient) -> None:
    early = await ingest(client, "Refund please.", callStartTime="2026-11-01T09:00:00Z")
    late = await ingest(client, "Refund please.", callStartTime="2026-11-25T09:00:00Z")
    failed = await ingest(client, "Refund please.", status="failed", callStartTime="2026-11-26T09:00:00Z")

    assert set(ids(await search(client, "refund"))) == {early, late, failed}
    assert ids(await search(client, "refund", since="2026-11-20T00:00:00Z", status="completed")) == [late]
    assert ids(await search(client, "refund", until="2026-11-20T00:00:00+00:00")) == [early]
    assert ids(await search(client, "refund", status="failed")) == [failed]
    # Exact matches pass the same filters: a number and an id.
    assert ids(await search(client, "+14165550100", since="2026-11-20T00:00:00Z")) == [failed, late]
    assert ids(await search(client, "+14165550100", status="failed")) == [failed]
    assert ids(await search(client, early, since="2026-11-20T00:00:00Z")) == []
    assert ids(await search(client, early, until="2026-11-20T00:00:00Z")) == [early]
    history = await client.get(
        "/api/calls/history", params={"since": "2026-11-20T00:00:00Z"}, headers=auth(ORG)
    )
    assert [c["callId"] for c in history.json()["calls"]] == [failed, late]


async def test_paging_goes_through_every_hit_once(client: httpx.AsyncClient) -> None:
    made = {await ingest(client, f"Refund number {i}.", fromNumber="+14155550100") for i in range(7)}

    seen: list[str] = []
    for offset in range(0, 8, 3):
        body = await search(client, "refund", limit=3, offset=offset)
        assert body["total"] == 7
        seen += ids(body)
    assert sorted(seen) == sorted(made)
    exact = [await search(client, "+14155550100", limit=3, offset=o) for o in (0, 3, 6)]
    assert sorted(i for body in exact for i in ids(body)) == sorted(made)


async def test_a_transcript_fetched_on_a_read_is_searchable_at_once(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    await client.post(
        "/api/calls/voice-ai/config",
        headers=auth(ORG, "SUPERADMIN"),
        json={"aiVoiceProvider": "elevenlabs", "elevenlabsApiKey": elevenlabs.api_key},
    )
    elevenlabs.add("conv_01search", direction="inbound")
    call = await make_call(
        runtime, ORG, provider="elevenlabs", provider_call_id="conv_01search", transcription_data=None
    )
    assert ids(await search(client, "shipped this morning")) == []

    assert (await client.get(f"/api/calls/{call.id}/recording", headers=auth(ORG))).status_code == 200

    assert ids(await search(client, "shipped this morning")) == [call.id]


async def test_a_transcript_a_provider_pushes_is_searchable_at_once(client: httpx.AsyncClient) -> None:
    secret = "wsec_" + "c" * 40
    configured = await client.post(
        "/api/calls/voice-ai/config",
        headers=auth(ORG, "SUPERADMIN"),
        json={"elevenlabsWebhookSecret": secret},
    )
    assert configured.status_code == 200, configured.text
    event = senders.elevenlabs_transcription(conversation("conv_pushed", direction="outbound"))
    body, headers = senders.elevenlabs(event, secret)

    delivered = await client.post("/api/webhook/elevenlabs", content=body, headers=headers)

    assert delivered.status_code == 200, delivered.text
    assert ids(await search(client, "shipped this morning")) == [delivered.json()["callId"]]


async def test_turning_redaction_on_makes_copies_of_the_calls_from_before(client: httpx.AsyncClient) -> None:
    """Nobody opens the older calls: the organisation's policy asks for their copies itself, and readers of
    redacted content find them once made."""
    audio = base64.b64encode(tone(seconds=4.0)).decode()
    older = [await ingest(client, "Hello.", f"Please cancel order {i}.", recording=audio) for i in range(3)]
    assert sorted(ids(await search(client, "cancel", role="USER"))) == sorted(older)  # no policy yet

    policy = await client.post("/api/calls/redaction/config", json={"enabled": True}, headers=auth(ORG))
    assert policy.status_code == 200, policy.text

    async def all_found() -> bool:
        return sorted(ids(await search(client, "cancel", role="USER"))) == sorted(older)

    await until(all_found, 60)


async def test_a_deleted_recording_is_not_found_any_more(client: httpx.AsyncClient) -> None:
    call_id = await ingest(client, "Please cancel my subscription.", fromNumber="+14155550100")
    kept = await ingest(client, "Please cancel my subscription.", fromNumber="+14155550100")

    deleted = await client.delete(f"/api/calls/{call_id}/recording", headers=auth(ORG))
    assert deleted.status_code == 200, deleted.text

    assert ids(await search(client, "cancel my subscription")) == [kept]
    # The call's facts stay (the history lists it), so its number still finds it, with nothing said.
    body = await search(client, "+14155550100")
    assert set(ids(body)) == {call_id, kept}
    assert all(hit["matches"] == [] for hit in body["hits"])


async def test_readers_of_redacted_content_search_only_the_redacted_transcript(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async def set_policy(*entities: str) -> None:
        policy = {"enabled": True, "entities": list(entities)} if entities else {"enabled": True}
        response = await client.post("/api/calls/redaction/config", json=policy, headers=auth(ORG))
        assert response.status_code == 200, response.text

    await set_policy("US_SSN")
    call_id = await ingest(
        client,
        "Hello, billing here.",
        "My card is 4111 1111 1111 1111, cancel my subscription.",
        recording=base64.b64encode(tone(seconds=6.0)).decode(),
    )

    async def copy_ready() -> bool:
        response = await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG, "USER"))
        return response.status_code == 200

    assert ids(await search(client, "cancel", role="USER")) == []  # no copy yet: nothing to find
    await until(copy_ready, 30)
    assert ids(await search(client, "4111", role="USER")) == [call_id]  # cards are not redacted yet
    # Cards too, from now on: the copy made under the narrower policy is not searched any more, even
    # before anyone asks for the new one.
    await set_policy()
    assert ids(await search(client, "4111", role="USER")) == []
    await until(copy_ready, 30)
    # The admin searches the original; a USER only the redacted copy.
    assert ids(await search(client, "4111 1111 1111 1111")) == [call_id]
    assert ids(await search(client, "4111", role="USER")) == []
    assert ids(await search(client, "4111 1111 1111 1111", role="USER")) == []
    body = await search(client, "cancel my subscription", role="USER")
    assert ids(body) == [call_id]
    assert "4111" not in str(body)


async def bulk(runtime: Runtime, calls: int, *, oldest: str, rest: str) -> None:
    """`calls` calls from +14155550777 (ids bulk…, a minute apart from 2026-01-01) inserted in bulk, as
    the repository writes them, with their terms: the oldest says `oldest`, the others `rest`."""
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    rows, documents = [], []
    for i in range(calls):
        call_id = f"bulk{i:020d}"
        data = said_as(oldest if i == 0 else rest)
        rows.append(
            {
                "id": call_id,  # the model's attribute (column call_id): an ORM bulk insert
                "organization_id": ORG,
                "provider": "external",
                "provider_call_id": call_id,
                "status": "completed",
                "from_number": "+14155550777",
                "transcription_data": data,
                "transcription_status": "ready",
                "created_at": moment + timedelta(minutes=i),
                "updated_at": moment,
                "sort_time": moment + timedelta(minutes=i),
            }
        )
        documents.append(
            {
                "call_id": call_id,
                "organization_id": ORG,
                "redacted": False,
                "terms": indexed(ORG, False, None, data),
            }
        )
    async with runtime.sessions.begin() as session:
        await session.execute(insert(Organization).values(id=ORG, created_at=moment))
        await session.execute(insert(Call), rows)
        await session.execute(insert(SearchDocument), documents)


async def test_without_filters_the_newest_matches_are_ranked_and_matches_are_counted_up_to_a_cap(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Past RANKED matches only the newest are ranked (a word in every call costs what a rare one does),
    with a filter the newest that pass it; past COUNTED the total says so."""
    await bulk(runtime, COUNTED + 1, oldest="refund refund refund please", rest="a refund please")

    body = await search(client, "refund")
    assert (body["total"], body["totalExact"], body["reachable"]) == (COUNTED, False, RANKED)
    assert ids(body)[0] != "bulk" + "0" * 20  # the oldest is outside the ranked window
    assert (await search(client, "refund", offset=RANKED))["hits"] == []

    every = await search(client, "refund", since="2025-12-31T00:00:00Z")  # a filter every call passes
    assert ids(every)[0] != "bulk" + "0" * 20
    assert (every["total"], every["totalExact"], every["reachable"]) == (COUNTED, False, RANKED)
    assert (await search(client, "refund", since="2025-12-31T00:00:00Z", offset=RANKED))["hits"] == []
    narrowed = await search(client, "refund", until="2026-01-01T00:30:00Z")  # the oldest thirty-odd
    assert ids(narrowed)[0] == "bulk" + "0" * 20  # the newest that pass the filter are ranked
    assert 30 <= narrowed["total"] == narrowed["reachable"] <= 31
    assert narrowed["totalExact"]

    # A number that called more than COUNTED times: counted up to the cap, and said so.
    number = await search(client, "+14155550777", limit=100, offset=COUNTED - 50)
    assert (number["total"], number["totalExact"], number["reachable"]) == (COUNTED, False, COUNTED)
    assert len(number["hits"]) == 50
    assert {hit["matchedOn"] for hit in number["hits"]} == {"phoneNumber"}


async def test_exact_and_transcript_matches_are_counted_together_up_to_the_cap(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """More than COUNTED calls from a number, one more saying it: `total` is capped, not summed."""
    await bulk(runtime, COUNTED + 1, oldest="ring 4155550777", rest="ring 4155550777")

    body = await search(client, "4155550777", limit=100, offset=COUNTED - 50)

    assert (body["total"], body["totalExact"], body["reachable"]) == (COUNTED, False, COUNTED + 1)
    assert [hit["matchedOn"] for hit in body["hits"]] == ["phoneNumber"] * 50 + ["transcript"]


async def test_too_many_words_are_refused_even_in_one_token(client: httpx.AsyncClient) -> None:
    """A run of Chinese characters is one token (so it could be an id) and a word per character: past
    64 of them it is refused, as any query asking for too much is, not looked up as an id."""
    said = "".join(chr(0x4E00 + i) for i in range(70))
    call_id = await ingest(client, said)
    assert ids(await search(client, said[:64])) == [call_id]
    for q in (said[:65], said):
        response = await client.get("/api/calls/search", params={"q": q}, headers=auth(ORG))
        assert response.status_code == 400, q
        assert (response.json()["success"], response.json()["code"]) == (False, "VALIDATION_ERROR")


async def test_both_ways_to_the_matches_answer_alike(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """PostgreSQL walks ids newest first when its statistics say the matches are dense, and reads the
    GIN index otherwise (unanalysed, the index): the answers are the same either way."""
    await bulk(runtime, COUNTED + 1, oldest="refund seldom please", rest="a refund please")
    asked = ["refund", "seldom", '"a refund"', "refund please"]
    before = [await search(client, q) for q in asked]
    async with runtime.sessions.begin() as session:
        await session.execute(text("ANALYZE search_documents"))
        postgresql = (await session.connection()).dialect.name == "postgresql"
    assert [await search(client, q) for q in asked] == before
    assert [body["total"] for body in before] == [COUNTED, 1, COUNTED, COUNTED]
    if postgresql:
        async with runtime.sessions.begin() as session:
            ways = [
                await SearchRepository(session).way_to_matches(
                    text_query(q).tsquery(search_scope(ORG, False))
                )
                for q in asked
            ]
        assert ways == ["walk", "index", "walk", "walk"]


async def test_an_enormous_transcript_answers_a_bounded_excerpt(client: httpx.AsyncClient) -> None:
    """One organisation's transcripts of one word said thousands of times: each match is an excerpt with at
    most 20 highlights, only the start of the transcript is looked at, and the answer stays small."""
    word = " ".join(["quokka"] * 8000)
    made = [await ingest(client, "Hello.", word, f"{word} wombat") for _ in range(3)]

    response = await client.get("/api/calls/search", params={"q": "quokka"}, headers=auth(ORG))

    assert response.status_code == 200
    assert len(response.content) < 60_000
    body = response.json()
    assert sorted(ids(body)) == sorted(made)
    for hit in body["hits"]:
        assert hit["matchesComplete"] is False
        assert hit["matchCount"] == 1  # the first 20,000 characters end inside the first long utterance
        match = hit["matches"][0]
        assert len(match["message"]) <= 400
        assert 1 <= len(match["highlights"]) <= 20
        for start, end in match["highlights"]:
            assert match["message"][start:end] == "quokka"


async def test_an_id_is_found_as_typed_or_upper_cased(client: httpx.AsyncClient) -> None:
    short = await ingest(client, "Hello.", externalCallId="ab#1/x")
    ours = await ingest(client, "Hello.")

    assert ids(await search(client, "ab#1/x")) == [short]
    assert ids(await search(client, ours.upper())) == [ours]


def said_as(message: str) -> list[dict[str, Any]]:
    return [{"role": "user", "message": message, "timestamp": 0.0}]


async def test_a_transcript_of_long_rare_words_stays_within_what_postgresql_indexes(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Unique 40-letter words of four-byte letters: indexed up to the byte cap (each word and each pair a
    lexeme), never past the tsvector's 1 MB, which would fail the write that stores the transcript."""
    rng = random.Random(7)
    words = ["".join(chr(0x10300 + rng.randrange(32)) for _ in range(40)) for _ in range(6000)]
    call = await make_call(
        runtime, ORG, transcription_data=said(" ".join(words[:3000]), " ".join(words[3000:]))
    )

    assert ids(await search(client, words[0])) == [call.id]
    assert ids(await search(client, f'"{words[1]} {words[2]}"')) == [call.id]
