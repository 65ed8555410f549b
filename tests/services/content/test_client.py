"""The typed client against the real app: what front-ends, MLExCompute and workers call."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.common.client import ApiClientError
from services.content.client import ContentClient
from services.content.schemas import (
    AlgorithmCreate,
    AlgorithmPublic,
    ModelCreate,
    ModelLineage,
    ModelPublic,
)
from tests.services.content.conftest import DEMO_DEFAULTS, demo_card


def test_algorithms_through_the_client(content: ContentClient) -> None:
    published = content.publish_algorithm(AlgorithmCreate.model_validate(demo_card()))
    assert isinstance(published, AlgorithmPublic) and published.version == "1.0.0"
    content.publish_algorithm(demo_card(version="1.1.0"))
    with pytest.raises(ApiClientError) as conflict:
        content.publish_algorithm(demo_card())
    assert conflict.value.status_code == 409 and conflict.value.field == "version"
    page = content.list_algorithms(application="segmentation", latest=True)
    assert [card.version for card in page.items] == ["1.1.0"] and page.total == 1
    assert len(list(content.iter_algorithms())) == 2
    assert [c.version for c in content.algorithm_versions("demo_unet")] == ["1.1.0", "1.0.0"]
    assert content.get_algorithm("demo_unet").version == "1.1.0"
    deprecated = content.set_deprecated("demo_unet", "1.1.0", message="use 1.0.0")
    assert deprecated.deprecated and deprecated.deprecation_message == "use 1.0.0"
    assert content.get_algorithm("demo_unet", "1.0.0").parameters == demo_card()["parameters"]


def test_validation_errors_reach_the_client_with_every_field(content: ContentClient) -> None:
    content.publish_algorithm(demo_card())
    result = content.validate_parameters("demo_unet", "1.0.0", {"epochs": 3})
    assert result.parameters == {**DEMO_DEFAULTS, "epochs": 3}
    with pytest.raises(ApiClientError) as invalid:
        content.validate_parameters("demo_unet", "1.0.0", {"epochs": 0, "depth": "deep"})
    error = invalid.value
    assert error.status_code == 422 and error.field == "parameters.depth"
    assert [d["field"] for d in error.details] == ["parameters.depth", "parameters.epochs"]


def test_models_through_the_client(content: ContentClient, client: TestClient) -> None:
    content.publish_algorithm(demo_card())
    body = ModelCreate(
        name="m",
        algorithm="demo_unet",
        algorithm_version="1.0.0",
        weights_uri="file:///models/m.pt",
        parameters={"depth": 2},
        lineage=ModelLineage(job_id="job-1", dataset_uris=["file:///data/a"]),
    )
    model = content.register_model(body)
    assert isinstance(model, ModelPublic) and model.parameters["depth"] == 2
    assert content.get_model(model.id) == model
    assert [m.id for m in content.iter_models(dataset="file:///data/a")] == [model.id]
    assert content.list_models(job="job-1").total == 1
    checked = content.check_model_parameters(model.id, {"epochs": 1})
    assert checked.parameters["depth"] == 2
    with pytest.raises(ApiClientError) as refused:
        content.check_model_parameters(model.id, {"depth": 5})
    assert refused.value.field == "parameters.depth"
    content.delete_model(model.id)
    assert content.list_models(job="job-1").total == 0
    assert content.list_models(job="job-1", include_deleted=True).total == 1
    with pytest.raises(ApiClientError) as missing:
        content.get_model("nope")
    assert missing.value.status_code == 404


def test_a_client_without_a_key_is_told_so(client: TestClient) -> None:
    anonymous = ContentClient(http=client)
    assert anonymous.health()["service"] == "content"
    with pytest.raises(ApiClientError) as denied:
        anonymous.list_algorithms()
    assert denied.value.status_code == 401
