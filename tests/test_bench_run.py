"""bench/run.py's pure parts: reading wrk's output, shares of the ceiling, targets, the table. No load here."""
import pytest

from bench import ceiling, run as bench
from bench.run import CASES, Case, Result

# `wrk -t2 -c8 -d1s --latency -s <TALLY_LUA>` against bench/ceiling.py on this machine.
WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:46165/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.00ms    1.40ms  15.76ms   92.76%
    Req/Sec     1.35k   186.46     1.73k    70.00%
  Latency Distribution
     50%    2.69ms
     75%    3.06ms
     90%    3.80ms
     99%   10.09ms
  2691 requests in 1.00s, 26.68MB read
Requests/sec:   2680.26
Transfer/sec:     26.57MB
status 200 2691
"""

SLOW_WITH_ERRORS = """Running 10s test @ http://127.0.0.1:5000/moderation/
  2 threads and 2 connections
  Latency Distribution
     50%  812.00us
     75%    1.20s
     90%    1.50s
     99%    2.00m
  35 requests in 10.02s, 1.20MB read
  Socket errors: connect 0, read 1, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:      3.49
Transfer/sec:    122.00KB
status 304 30
status 200 1
status 503 4
"""


def result(rps=100.0, p50=10.0, p99=50.0, statuses=None, connections=8) -> Result:
    return Result(requests=int(rps * 10), seconds=10.0, rps=rps, p50_ms=p50, p99_ms=p99,
                  statuses={200: int(rps * 10)} if statuses is None else statuses, connections=connections)


def test_wrk_output_is_read():
    r = bench.parse_wrk(WRK_OUTPUT)
    assert (r.requests, r.seconds, r.rps) == (2691, 1.0, 2680.26)
    assert (r.p50_ms, r.p99_ms) == (2.69, 10.09)
    assert r.statuses == {200: 2691} and r.errors == 0


def test_wrk_units_statuses_and_socket_errors():
    r = bench.parse_wrk(SLOW_WITH_ERRORS)
    assert r.p50_ms == pytest.approx(0.812) and r.p99_ms == 120_000
    assert r.seconds == pytest.approx(10.02) and r.rps == 3.49
    assert r.statuses == {304: 30, 200: 1, 503: 4} and r.errors == 4


@pytest.mark.parametrize("text, ms", [("812.00us", 0.812), ("5.21ms", 5.21), ("1.02s", 1020), ("2.00m", 120_000)])
def test_durations(text, ms):
    assert bench.duration_ms(text) == pytest.approx(ms)


@pytest.mark.parametrize("text", ["", "5", "5 ms", "fast"])
def test_what_is_not_a_duration_is_refused(text):
    with pytest.raises(ValueError):
        bench.duration_ms(text)


def test_output_that_is_not_wrk_is_an_error_not_zeros():
    with pytest.raises(ValueError, match="wrk --latency"):
        bench.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_share_of_the_ceiling():
    assert bench.share(50, 2000) == 2.5
    assert bench.share(3000, 2000) == 150
    assert bench.share(10, 0) is None and bench.share(10, float("nan")) is None


def test_the_ceiling_is_the_mean_of_before_and_after():
    c = bench.mean_result([result(rps=2000, p50=3, p99=10), result(rps=1000, p50=5, p99=20)])
    assert (c.rps, c.p50_ms, c.p99_ms) == (1500, 4, 15)
    assert c.statuses == {200: 30_000} and c.connections == 8


def test_targets_need_the_share_and_the_right_status():
    cached = next(case for case in CASES if case.name == "post-cached")
    top = result(rps=2000)
    assert "met" in bench.verdict(cached, result(rps=1000), top)
    assert "MISSED" in bench.verdict(cached, result(rps=999), top)
    api_304 = next(case for case in CASES if case.name == "api-304")
    fast_but_200 = result(rps=1500)  # as fast as asked, but not what was asked for
    said = bench.verdict(api_304, fast_but_200, top)
    assert "MISSED" in said and "no 304s" in said
    assert bench.verdict(api_304, result(rps=1500, statuses={304: 15_000}), top) == ">= 50% of ceiling: met"
    assert bench.verdict(Case("home", "home page", "/"), result(), top) == ""


def test_queue_target_is_the_p99():
    queue = next(case for case in CASES if case.name == "queue")
    assert queue.connections == 2 and queue.max_p99_ms == 100
    assert bench.verdict(queue, result(rps=5, p99=99.9, connections=2), None) == "p99 < 100 ms: met"
    assert "MISSED" in bench.verdict(queue, result(rps=5, p99=100, connections=2), None)


def test_table_shows_shares_statuses_and_targets():
    cases = {case.name: case for case in CASES}
    rows = [(cases["post-cached"], result(rps=1200, p50=6, p99=12)),
            (cases["post-304"], result(rps=40, p50=200, p99=400, statuses={200: 400}))]
    text = bench.table(rows, {8: result(rps=2400, p50=3, p99=12)})
    cached, conditional = text.splitlines()[2:]
    assert "1200.0" in cached and "50%" in cached and "200%" in cached and "100%" in cached
    assert ">= 50% of ceiling: met" in cached
    assert "1.7%" in conditional and "200×400" in conditional and "no 304s" in conditional


def test_a_case_without_a_ceiling_at_its_connection_count_shows_dashes():
    queue = next(case for case in CASES if case.name == "queue")
    line = bench.table([(queue, result(rps=5, p99=80, connections=2))], {}).splitlines()[2]
    assert " - " in line and "p99 < 100 ms: met" in line


def test_compare_sqlite_with_postgresql():
    sqlite = {"db": "sqlite", "cases": {"home": {"share": 30.0}, "queue": {"share": 1.0}}}
    pg = {"db": "postgresql", "cases": {"home": {"share": 25.0}, "queue": {"share": 0.5}}}
    lines = bench.compare(pg, sqlite)
    assert any("home" in line and "1.20" in line and "met" in line for line in lines)
    assert any("queue" in line and "2.00" in line and "MISSED" in line for line in lines)
    assert "needs one sqlite" in bench.compare(sqlite, sqlite)[-1]


def test_every_case_has_a_unique_name_and_a_path_the_seed_fills_in():
    assert len(set(bench.CASE_NAMES)) == len(CASES)
    for case in CASES:
        path = case.path.format(post="a-post-1", small="b-post-2", category="netzkultur")
        assert path.startswith("/") and "{" not in path
        assert case.who in ("anonymous", "reader", "moderator")
    assert CASES[-1].name == "comment-post"  # the write path last: what it stores goes to the queue


def test_the_ceiling_page_is_ten_kilobytes_of_html():
    assert len(ceiling.PAGE) == 10 * 1024 and ceiling.PAGE.startswith(b"<!doctype html>")
    response = ceiling.app.test_client().get("/")
    assert response.status_code == 200 and response.data == ceiling.PAGE
    assert response.content_type == "text/html; charset=utf-8"
