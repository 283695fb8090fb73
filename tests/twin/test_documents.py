"""Documents (§5.3): multipart upload, limits, review to accepted, list/cursor, download, delete, scope."""

from __future__ import annotations

import re

from tests.twin._webhook_helpers import key_client, sandbox

DOC_RE = re.compile(r"^doc_[0-9a-hjkmnp-tv-z]{26}$")
PDF = b"%PDF-1.4\n% test document\n"


def upload(client, content: bytes = PDF, name: str = "passport.pdf", mime: str | None = "application/pdf", **data):
    data.setdefault("document_type", "PASSPORT")
    file = (name, content, mime) if mime else (name, content)
    return client.post("/documents", files={"document": file}, data=data)


def test_upload_returns_the_document(inproc):
    investor = inproc.new_investor()
    r = upload(inproc.client, purpose="KYC", investor_id=investor["id"], metadata='{"ref":"r1"}')
    assert r.status_code == 201, r.text
    doc = r.json()
    assert DOC_RE.match(doc["id"]) and doc["document_id"] == doc["id"]
    assert doc["object"] == "document" and doc["livemode"] is False and doc["metadata"] == {"ref": "r1"}
    assert doc["owner_type"] == "investor" and doc["investor_id"] == investor["id"]
    assert doc["purpose"] == "kyc" and doc["document_type"] == "PASSPORT"
    assert doc["file_name"] == "passport.pdf" and doc["mime_type"] == "application/pdf"
    assert doc["file_size"] == len(PDF) and doc["status"] == "uploaded"
    assert doc["expires_at"] is None and doc["uploaded_at"].endswith("Z")
    assert inproc.client.get(f"/documents/{doc['id']}").json() == doc


def test_tenant_document_and_guessed_mime_type(inproc):
    r = upload(inproc.client, content=b"\x89PNG....", name="scan.png", mime=None, expires_at="2027-01-01T00:00:00Z")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["owner_type"] == "tenant" and doc["investor_id"] is None and doc["purpose"] is None
    assert doc["mime_type"] == "image/png" and doc["expires_at"] == "2027-01-01T00:00:00Z"


def test_upload_is_accepted_after_the_delay_with_an_event(make_inproc):
    t = make_inproc(document_delay_s=5.0)
    doc = upload(t.client).json()
    t.advance(4.9)
    assert t.client.get(f"/documents/{doc['id']}").json()["status"] == "uploaded"
    t.advance(0.1)
    assert t.client.get(f"/documents/{doc['id']}").json()["status"] == "accepted"
    events = sandbox(t.client, "GET", "/events", params={"type": "document.approved"}).json()["data"]
    assert [e["data"]["id"] for e in events] == [doc["id"]]
    assert events[0]["data"]["status"] == "accepted"


def test_awaiting_documents_investor_becomes_active(inproc):
    investor = inproc.new_investor(last_name="Documents")
    assert investor["status"] == "awaiting_documents"
    assert upload(inproc.client, purpose="KYC", investor_id=investor["id"]).status_code == 201
    inproc.advance()
    assert inproc.client.get(f"/investors/{investor['id']}").json()["status"] == "active"


def test_size_limit_is_400_008(make_inproc):
    t = make_inproc(max_upload_bytes=1000)
    assert upload(t.client, content=b"x" * 1000).status_code == 201
    r = upload(t.client, content=b"x" * 1001)
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-008"
    r = upload(t.client, content=b"x" * (1000 + 2 * 1024 * 1024))  # refused from Content-Length alone
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-008"


def test_upload_validation(inproc):
    cases = [
        (upload(inproc.client, content=b""), "BLUM-400-001", "document"),
        (
            inproc.client.post("/documents", files={"other": ("a.pdf", PDF)}, data={"document_type": "X"}),
            "BLUM-400-002",
            "document",
        ),
        (inproc.client.post("/documents", files={"document": ("a.pdf", PDF)}), "BLUM-400-002", "document_type"),
        (upload(inproc.client, purpose="SELFIE"), "BLUM-400-004", "purpose"),
        (upload(inproc.client, metadata="[1]"), "BLUM-400-003", "metadata"),
        (upload(inproc.client, expires_at="tomorrow"), "BLUM-400-003", "expires_at"),
        (upload(inproc.client, investor_id="6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d"), "BLUM-400-003", "investor_id"),
    ]
    for r, code, param in cases:
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == code and r.json()["error"].get("param") == param, r.text
    r = upload(inproc.client, investor_id="inv_01j9x8m2k7qpzwv3t5r6y8n0ab")
    assert r.status_code == 404 and r.json()["error"]["code"] == "BLUM-404-001"


def test_non_multipart_is_400_001(inproc):
    r = inproc.client.post("/documents", json={"document_type": "PASSPORT"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-001"
    assert "multipart/form-data" in r.json()["error"]["message"]
    r = inproc.client.post(
        "/documents", content=b"--nope\r\nbroken", headers={"content-type": "multipart/form-data; boundary=zz"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-001"


def test_list_filters_and_cursor(inproc):
    a = inproc.new_investor()
    b = inproc.new_investor()
    ids = [
        upload(inproc.client, purpose="KYC", investor_id=a["id"]).json()["id"],
        upload(inproc.client, purpose="TAX", investor_id=a["id"], document_type="W9").json()["id"],
        upload(inproc.client, purpose="KYC", investor_id=b["id"]).json()["id"],
    ]
    body = inproc.client.get("/documents").json()
    assert set(body) == {"data", "has_more"} and [d["id"] for d in body["data"]] == ids and body["has_more"] is False
    page = inproc.client.get("/documents", params={"limit": 2}).json()
    assert [d["id"] for d in page["data"]] == ids[:2] and page["has_more"] is True
    rest = inproc.client.get("/documents", params={"limit": 2, "starting_after": ids[1]}).json()
    assert [d["id"] for d in rest["data"]] == ids[2:] and rest["has_more"] is False

    def listed(**params) -> list[str]:
        return [d["id"] for d in inproc.client.get("/documents", params=params).json()["data"]]

    assert listed(investor_id=a["id"]) == ids[:2]
    assert listed(purpose="kyc") == [ids[0], ids[2]] and listed(purpose="TAX") == [ids[1]]
    assert listed(document_type="W9") == [ids[1]]
    assert listed(status="UPLOADED") == ids and listed(status="accepted") == []
    inproc.advance()
    assert listed(status="accepted") == ids
    for params, code in [
        ({"purpose": "nope"}, "BLUM-400-004"),
        ({"status": "nope"}, "BLUM-400-004"),
        ({"limit": 0}, "BLUM-400-003"),
        ({"limit": 201}, "BLUM-400-003"),
        ({"starting_after": "doc_01j9x8m2k7qpzwv3t5r6y8n0ab"}, "BLUM-404-001"),
    ]:
        assert inproc.client.get("/documents", params=params).json()["error"]["code"] == code, params


def test_download_and_delete(inproc):
    doc = upload(inproc.client, name="scan 1.pdf").json()
    r = inproc.client.get(f"/documents/{doc['id']}/download")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="scan 1.pdf"'
    r = inproc.client.delete(f"/documents/{doc['id']}")
    assert r.status_code == 200 and r.json() == {"id": doc["id"], "object": "document", "deleted": True}
    for path in (f"/documents/{doc['id']}", f"/documents/{doc['id']}/download"):
        assert inproc.client.get(path).json()["error"]["code"] == "BLUM-404-001"
    assert inproc.client.delete(f"/documents/{doc['id']}").status_code == 404
    assert inproc.twin.db.one("SELECT COUNT(*) FROM document_blobs")[0] == 0
    inproc.advance()  # the cancelled review does not resurrect it
    assert sandbox(inproc.client, "GET", "/events", params={"type": "document.approved"}).json()["data"] == []


def test_investor_scoped_key_sees_only_its_documents(inproc):
    mine = inproc.new_investor()
    other = inproc.new_investor()
    theirs = upload(inproc.client, investor_id=other["id"]).json()
    key = inproc.client.post(f"/investors/{mine['id']}/api-keys", json={}).json()
    with key_client(inproc, key["public_key"], key["secret_key"]) as c:
        own = upload(c)
        assert own.status_code == 201 and own.json()["investor_id"] == mine["id"]
        assert [d["id"] for d in c.get("/documents").json()["data"]] == [own.json()["id"]]
        assert c.get(f"/documents/{own.json()['id']}/download").content == PDF
        for r in (
            upload(c, investor_id=other["id"]),
            c.get("/documents", params={"investor_id": other["id"]}),
            c.get(f"/documents/{theirs['id']}"),
            c.delete(f"/documents/{theirs['id']}"),
        ):
            assert r.status_code == 403 and r.json()["error"]["code"] == "BLUM-403-001"


def test_sandbox_reset_removes_documents_and_their_bytes(inproc):
    doc = upload(inproc.client).json()
    assert sandbox(inproc.client, "POST", "/reset").status_code == 200
    assert inproc.client.get(f"/documents/{doc['id']}").status_code == 404
    assert inproc.twin.db.one("SELECT COUNT(*) FROM document_blobs")[0] == 0
