"""Answers a phone or a proxy may keep, ask about again, and receive gzipped."""

import gzip

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from services.gateway.http import GZIP_MIN_BYTES, cacheable, compressed, json_response

BODY = '{"items":[],"page":1,"page_size":20,"total":0}'


def request(**headers):
    return Request(EnvironBuilder(path="/api/v1/products", headers=headers).get_environ())


def test_an_anonymous_answer_may_be_kept_by_anyone_for_a_short_stated_time():
    answer = cacheable(request(), BODY, private=False)
    assert answer.status_code == 200 and answer.get_data(as_text=True) == BODY
    assert answer.headers["Cache-Control"] == "public, max-age=30"
    assert answer.headers["ETag"].startswith('W/"')
    assert answer.headers["Vary"] == "Accept-Encoding, Authorization"


def test_an_answer_to_a_member_is_theirs_and_asked_about_before_each_use():
    answer = cacheable(request(), BODY, private=True)
    assert answer.headers["Cache-Control"] == "private, no-cache"


def test_the_same_body_has_the_same_etag_and_another_body_another():
    first, again = cacheable(request(), BODY, False), cacheable(request(), BODY, True)
    other = cacheable(request(), BODY.replace("20", "21"), False)
    assert first.headers["ETag"] == again.headers["ETag"] != other.headers["ETag"]


def test_naming_the_current_etag_gets_a_304_without_a_body():
    etag = cacheable(request(), BODY, False).headers["ETag"]
    for sent in (etag, etag.removeprefix("W/"), f'"other", {etag}', "*"):
        answer = cacheable(request(**{"If-None-Match": sent}), BODY, False)
        assert answer.status_code == 304 and answer.get_data() == b"", sent
        assert answer.headers["ETag"] == etag
    stale = cacheable(request(**{"If-None-Match": 'W/"0000"'}), BODY, False)
    assert stale.status_code == 200 and stale.get_data(as_text=True) == BODY


def big():
    return json_response(200, {"items": [{"name": f"Keripik Tempe {n}"} for n in range(100)]})


def test_json_over_the_threshold_is_gzipped_for_a_client_that_accepts_gzip():
    plain = big().get_data()
    assert len(plain) >= GZIP_MIN_BYTES
    answer = compressed(request(**{"Accept-Encoding": "gzip, deflate"}), big())
    assert answer.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in answer.vary
    assert gzip.decompress(answer.get_data()) == plain
    assert int(answer.headers["Content-Length"]) == len(answer.get_data()) < len(plain)


def test_nothing_is_gzipped_for_a_client_that_does_not_accept_it_but_caches_are_told():
    for headers in ({}, {"Accept-Encoding": "gzip;q=0"}, {"Accept-Encoding": "br"}):
        answer = compressed(request(**headers), big())
        assert "Content-Encoding" not in answer.headers, headers
        assert "Accept-Encoding" in answer.vary, headers


def test_small_answers_not_json_and_304s_go_as_they_are():
    accepts = request(**{"Accept-Encoding": "gzip"})
    small = compressed(accepts, json_response(200, {"status": "ok"}))
    text = compressed(accepts, Response("x" * 5000, mimetype="text/plain"))
    empty = compressed(accepts, Response(status=304, headers={"ETag": 'W/"1"'}))
    for answer in (small, text, empty):
        assert "Content-Encoding" not in answer.headers and "Vary" not in answer.headers
