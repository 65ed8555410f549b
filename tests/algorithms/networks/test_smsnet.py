"""SMSNet graphs: reproducible from a seed, valid DAGs, counted from their edges; ensembles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from algorithms.networks import count_parameters, create_model, load_model, save_model
from algorithms.networks.ensemble import ModelEnsemble
from algorithms.networks.params import SMSNetParams
from algorithms.networks.smsnet import SMSGraph, draw_graph


def test_same_seed_same_graph_and_outputs() -> None:
    first = create_model("smsnet", {"seed": 11, "depth": 8}, 1, 2)
    second = create_model("smsnet", {"seed": 11, "depth": 8}, 1, 2)
    other = create_model("smsnet", {"seed": 12, "depth": 8}, 1, 2)
    assert first.graph == second.graph
    assert first.graph != other.graph
    second.load_state_dict(first.state_dict())
    x = torch.randn(2, 1, 12, 12)
    first.eval()
    second.eval()
    with torch.no_grad():
        assert torch.equal(first(x), second(x))


def test_weights_are_reproducible_under_a_torch_seed() -> None:
    torch.manual_seed(3)
    first = create_model("smsnet", {"seed": 5, "depth": 6})
    torch.manual_seed(3)
    second = create_model("smsnet", {"seed": 5, "depth": 6})
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("seed", range(6))
def test_drawn_graph_follows_the_hyperparameters(seed: int) -> None:
    params = SMSNetParams(seed=seed, depth=12, k_min=1, k_max=3, p_il=0.5, p_lo=0.5,
                          p_io=False, dilation_choices=[1, 3, 9])
    graph = draw_graph(params)
    output = graph.output_node
    hidden_out: dict[int, int] = {}
    for source, target, dilation in graph.edges:
        assert 0 <= source < target <= output
        assert dilation in (1, 3, 9)
        if target == output:
            assert dilation == 1
        if source > 0 and target < output:
            hidden_out[source] = hidden_out.get(source, 0) + 1
    for node in range(1, graph.depth + 1):
        assert graph.incoming(node), "every hidden node is fed"
        assert any(s == node for s, _, _ in graph.edges), "every hidden node feeds"
        # between min(k_min, d-j) and min(k_max, d-j) edges to later hidden nodes
        assert min(1, 12 - node) <= hidden_out.get(node, 0) <= min(3, 12 - node)
    assert (0, output, 1) not in graph.edges
    assert len(set((s, t) for s, t, _ in graph.edges)) == len(graph.edges)


def test_default_hyperparameters_connect_input_and_output_everywhere() -> None:
    graph = draw_graph(SMSNetParams(seed=2))
    output = graph.output_node
    assert graph.depth == 20
    sources = {t for s, t, _ in graph.edges if s == 0}
    assert set(range(1, 21)) | {output} == sources  # P_IL = 1 and P_IO
    assert {s for s, t, _ in graph.edges if t == output} == set(range(0, 21))  # P_LO = 1


def test_graph_serialises_to_json_and_back() -> None:
    graph = draw_graph(SMSNetParams(seed=4, depth=7))
    assert SMSGraph.from_dict(json.loads(json.dumps(graph.to_dict()))) == graph


def sms_count(graph: SMSGraph, c_in: int, c_out: int, ndim: int = 2) -> int:
    """3x3 edges c_src c_dst 3**ndim, 1x1 edges into O, batch norm 2c per node, output bias."""
    def channels(node: int) -> int:
        return c_in if node == 0 else c_out if node == graph.output_node else graph.channels

    total = 0
    for source, target, _ in graph.edges:
        kernel = 1 if target == graph.output_node else 3**ndim
        total += kernel * channels(source) * channels(target)
    return total + 2 * graph.channels * graph.depth + c_out


@pytest.mark.parametrize("ndim", [2, 3])
def test_parameter_count_from_edges(ndim: int) -> None:
    model = create_model("smsnet", {"seed": 9, "depth": 10, "channels": 4}, 2, 3, ndim)
    assert count_parameters(model) == sms_count(model.graph, 2, 3, ndim)


def test_saved_graph_is_reused_not_redrawn(tmp_path: Path) -> None:
    model = create_model("smsnet", {"seed": 21, "depth": 6}, 1, 2).eval()
    path = save_model(tmp_path / "sms.pt", model, "smsnet", {"seed": 21, "depth": 6})
    payload = torch.load(path, weights_only=True)
    assert SMSGraph.from_dict(payload["architecture"]["graph"]) == model.graph
    loaded, _, _, _ = load_model(path)
    assert loaded.graph == model.graph


def test_ensemble_mean_and_std_of_softmax() -> None:
    ensemble = create_model("smsnet_ensemble", {"members": 3, "depth": 4, "seed": 5}, 1, 3).eval()
    assert [m.graph for m in ensemble.members] == [
        draw_graph(SMSNetParams(depth=4, seed=s)) for s in (5, 6, 7)]
    x = torch.randn(2, 1, 10, 10)
    with torch.no_grad():
        mean, std = ensemble.mean_and_std(x)
        probabilities = torch.stack([torch.softmax(m(x), 1) for m in ensemble.members])
        torch.testing.assert_close(mean, probabilities.mean(0))
        torch.testing.assert_close(std, probabilities.std(0, correction=0))
        torch.testing.assert_close(mean.sum(1), torch.ones(2, 10, 10))
        torch.testing.assert_close(torch.softmax(ensemble(x), 1), mean)


def test_ensemble_of_any_networks() -> None:
    members = [create_model("msdnet", {"layers": 3}, 1, 2), create_model("tunet", {
        "depth": 2, "base_channels": 2}, 1, 2)]
    ensemble = ModelEnsemble(members).eval()
    with torch.no_grad():
        mean, std = ensemble.mean_and_std(torch.randn(1, 1, 8, 8))
    assert mean.shape == std.shape == (1, 2, 8, 8)
    assert (std >= 0).all()
