"""Fixtures several backends' tests share."""

from __future__ import annotations

import pytest

from tests.fixtures.emulators import Azurite


@pytest.fixture
def azure_storage(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Azurite:
    """Azurite as the storage account of one-segment ``az://``, ``azqueue://`` and ``aztable://``
    URLs, with no other Azure Storage credential in the environment to pick up instead."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    for name in ("AzureWebJobsStorage", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return azurite
