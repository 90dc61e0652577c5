"""The Files endpoints, through the openai SDK."""

from __future__ import annotations

import openai
import pytest
from openai.types import FileObject

from tagging_assets_tests.support import jsonl, request_line


def test_upload_retrieve_download_and_delete(shared_gateway):
    client = shared_gateway.client()
    content = jsonl([request_line("youtube:a", "Vector search with embeddings.")])
    uploaded = client.files.create(
        file=("input.jsonl", content), purpose="batch", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    assert uploaded.object == "file"
    assert uploaded.purpose == "batch"
    assert uploaded.bytes == len(content)
    assert uploaded.filename == "input.jsonl"
    assert uploaded.status == "processed"
    assert uploaded.expires_at == uploaded.created_at + 3600

    assert client.files.retrieve(uploaded.id) == uploaded
    assert client.files.content(uploaded.id).content == content

    deleted = client.files.delete(uploaded.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (uploaded.id, "file", True)
    with pytest.raises(openai.NotFoundError) as missing:
        client.files.retrieve(uploaded.id)
    assert missing.value.body["message"] == f"No such File object: {uploaded.id}"
    with pytest.raises(openai.NotFoundError):
        client.files.content(uploaded.id)


def test_list_pages_with_a_cursor(shared_gateway):
    client = shared_gateway.client()
    ids = [client.files.create(file=(f"f{n}.jsonl", b"{}\n"), purpose="user_data").id for n in range(5)]
    page = client.files.list(purpose="user_data", limit=2, order="asc")
    assert page.has_more is True
    seen = [file.id for file in page]
    assert seen[-5:] == ids
    newest_first = [file.id for file in client.files.list(purpose="user_data", limit=3).data]
    assert newest_first == ids[::-1][:3]
    assert all(isinstance(file, FileObject) for file in client.files.list(purpose="user_data"))


def test_a_bad_purpose_is_a_400_naming_it(shared_gateway):
    with pytest.raises(openai.BadRequestError) as error:
        shared_gateway.client().files.create(file=("x.jsonl", b"{}\n"), purpose="nonsense")  # type: ignore[arg-type]
    assert error.value.body["param"] == "purpose"
    assert error.value.body["type"] == "invalid_request_error"
