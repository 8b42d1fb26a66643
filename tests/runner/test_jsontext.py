"""The report files' JSON text is what ``json.dumps(value, indent=2, ensure_ascii=False)`` writes."""
import json

from hypothesis import given, settings, strategies as st

from canvas_conformance import jsontext

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(), st.text(min_size=jsontext.LONG, max_size=jsontext.LONG + 40))
keys = st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5), st.tuples(inner, inner),
                                                       st.dictionaries(keys, inner, max_size=5)), max_leaves=30)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(values)
def test_the_text_is_json_dumps_own(value):
    assert jsontext.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_a_repeated_long_string_is_written_each_time():
    body = json.dumps({"entry": [{"text": "é \" \\ \n"}] * 40})
    value = {"exchanges": [{"response_body": body}, {"response_body": body}]}
    assert jsontext.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)
    assert json.loads(jsontext.dumps(value)) == value


def test_what_json_cannot_write_is_refused_alike():
    for bad in ({"x": object()}, {(1, 2): 3}):
        try:
            json.dumps(bad, indent=2)
        except TypeError:
            pass
        else:
            raise AssertionError("json.dumps wrote it")
        try:
            jsontext.dumps(bad)
        except TypeError:
            continue
        raise AssertionError(f"jsontext wrote {bad!r}")
