"""The wire format: one request per line out, one well-formed response per line back, anything else refused."""

from __future__ import annotations

import json

import pytest

from bluum_readiness.protocol.wire import ProtocolViolation, Response, RpcError, decode_response, encode_request


def test_a_request_is_one_line_of_json_rpc_even_with_newlines_in_its_params():
    line = encode_request(7, "create_investor", {"profile": {"name": "A\nB", "city": "Zürich"}})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "create_investor",
        "params": {"profile": {"name": "A\nB", "city": "Zürich"}},
    }


def test_results_and_errors_are_decoded():
    assert decode_response(b'{"jsonrpc":"2.0","id":3,"result":"inv_1"}') == Response(3, result="inv_1")
    assert decode_response(b'{"jsonrpc":"2.0","id":3,"result":null}') == Response(3, result=None)
    error = b'{"jsonrpc":"2.0","id":4,"error":{"code":-32000,"message":"no","data":{"status":422}}}'
    assert decode_response(error) == Response(4, error=RpcError(-32000, "no", {"status": 422}))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"Starting server on :3000", "not JSON"),
        (b"[1, 2]", "a JSON list"),
        (b'{"id": 1, "result": 2}', '"jsonrpc" is None'),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "log", "params": {}}', "only the suite sends requests"),
        (b'{"jsonrpc": "2.0", "id": "1", "result": 2}', "integer id"),
        (b'{"jsonrpc": "2.0", "id": true, "result": 2}', "integer id"),
        (b'{"jsonrpc": "2.0", "id": 1}', "exactly one of"),
        (b'{"jsonrpc": "2.0", "id": 1, "result": 1, "error": {}}', "exactly one of"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": "boom"}', "must be an object"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": {"code": "E1", "message": "x"}}', "must be an integer"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": {"code": 1}}', "must be a string"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": {"code": 1, "message": "m", "data": [1]}}', "must be an object"),
        (b'{"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "parse error"}}', "could not read"),
        (b"\xff\xfe{}", "not JSON"),
    ],
)
def test_anything_but_a_response_is_a_violation_that_says_why(line, reason):
    with pytest.raises(ProtocolViolation, match=reason):
        decode_response(line)
