"""The fault book on its own: what arms a fault, which requests it matches, how it is used up or runs out."""

from __future__ import annotations

import pytest

from standin.faults import FaultBook


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def book(clock: Clock) -> FaultBook:
    return FaultBook(clock)


def test_a_fault_fires_for_the_next_n_matching_requests_then_is_gone(book: FaultBook) -> None:
    book.add(method="post", path=r"/api/items/.*", status=503, times=2)
    assert book.take("POST", "/api/items/a") is not None
    assert book.snapshot()[0]["remaining"] == 1
    assert book.take("POST", "/api/items/b") is not None
    assert book.take("POST", "/api/items/c") is None
    assert book.snapshot() == []


def test_a_fault_matches_its_method_and_the_whole_path_only(book: FaultBook) -> None:
    book.add(method="GET", path=r"/api/items", status=500)
    assert book.take("POST", "/api/items") is None
    assert book.take("GET", "/api/items/a") is None  # a prefix is not a match
    assert book.take("GET", "/x/api/items") is None
    assert book.take("get", "/api/items") is not None


def test_any_method_matches_a_star_fault(book: FaultBook) -> None:
    book.add(path=r"/api/.*", times=3)
    assert [book.take(m, "/api/x") is not None for m in ("GET", "DELETE", "PATCH")] == [True] * 3


def test_a_timed_fault_fires_for_every_match_until_its_seconds_run_out(book: FaultBook, clock: Clock) -> None:
    book.add(path=r"/api/.*", status=429, times=1, seconds=2.0)
    assert all(book.take("GET", "/api/x") is not None for _ in range(10))  # `times` does not apply
    assert book.snapshot()[0]["seconds_left"] == 2.0
    clock.now += 2.0
    assert book.snapshot() == []
    assert book.take("GET", "/api/x") is None


def test_the_first_armed_matching_fault_fires_first(book: FaultBook) -> None:
    book.add(path=r"/api/.*", status=502)
    book.add(path=r"/api/.*", status=504)
    fault = book.take("GET", "/api/x")
    assert fault is not None
    assert fault.status == 502
    second = book.take("GET", "/api/x")
    assert second is not None
    assert second.status == 504


@pytest.mark.parametrize(
    ("retry_after", "header"), [(None, {}), (2, {"Retry-After": "2"}), (0.5, {"Retry-After": "0.5"})]
)
def test_retry_after_becomes_a_header_in_whole_seconds_where_it_can(
    book: FaultBook, retry_after: float | None, header: dict[str, str]
) -> None:
    assert book.add(path=".*", retry_after=retry_after).answer_headers() == header


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"status": 200}, "HTTP error status"),
        ({"status": 600}, "HTTP error status"),
        ({"times": 0}, "times must be at least 1"),
        ({"seconds": 0}, "seconds must be positive"),
        ({"retry_after": -1}, "retry_after must not be negative"),
        ({"path": "("}, "not a valid regular expression"),
        ({"cut_after": -1}, "cut_after must be a byte count"),
        ({"cut_after": 10, "after": True}, "cannot be combined with after"),
    ],
)
def test_a_fault_that_cannot_work_is_refused_with_a_reason(
    book: FaultBook, options: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        book.add(**{"path": r"/api/.*", **options})  # type: ignore[arg-type]
    assert book.snapshot() == []


def test_a_cut_needs_no_error_status(book: FaultBook) -> None:
    fault = book.add(path=r"/api/.*", status=200, cut_after=10)
    assert fault.cut_after == 10


def test_the_snapshot_shows_every_option_of_an_armed_fault(book: FaultBook) -> None:
    book.add(method="get", path="/a", status=502, times=3, retry_after=1, message="gone", after=True)
    assert book.snapshot() == [
        {
            "method": "GET",
            "path": "/a",
            "status": 502,
            "remaining": 3,
            "retry_after": 1,
            "message": "gone",
            "after": True,
            "seconds_left": None,
            "cut_after": None,
        }
    ]


def test_clear_disarms_every_fault(book: FaultBook) -> None:
    book.add(path=".*", times=5)
    book.add(path=".*", seconds=10)
    book.clear()
    assert book.take("GET", "/anything") is None
