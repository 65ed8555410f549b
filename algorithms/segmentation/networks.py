"""Runner of the network segmentation cards (msdnet, tunet, tunet3plus, smsnet_ensemble).

train: read images and sparse label masks, split labeled pixels into training and validation,
cut windows holding labels, train every member with the engine (metric events per epoch),
optionally calibrate conformal sets on the validation pixels, save the model.
infer: load the model, check the architecture parameters, stream windows through it, stitch,
and write the mask (uint8), probabilities (float16) and uncertainty maps slice by slice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pydantic import BaseModel

from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter
from algorithms.networks import create_model
from algorithms.networks.cards import ZOO_NAMES
from algorithms.networks.params import PARAMETER_MODELS
from algorithms.segmentation.bundle import Bundle, load_bundle, save_bundle
from algorithms.segmentation.inputs import (
    channels_first,
    grid_for,
    normalization_of,
    normalize,
    read_labels,
)
from algorithms.spec import JobSpec
from algorithms.tiling import labeled_windows, predict_slices, predict_volume, unstitch
from algorithms.training.engine import EpochReport, resolve_device, train_segmentation
from algorithms.training.metrics import confusion_matrix, scores_from_confusion
from algorithms.training.params import TrainingParameters
from algorithms.training.sparse import split_labeled_pixels
from algorithms.uncertainty import calibrate_conformal, prediction_sets, sets_to_bitmask

MEMBERS_FIELD = "members"


def run(spec: JobSpec, params: BaseModel, step: str, events: EventEmitter) -> dict[str, Any]:
    """Entry point: ``step`` is ``train`` or ``infer``."""
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 8)))
    if step == "train":
        return train(spec, params, events)
    if step == "infer":
        return infer(spec, params, events)
    raise ParameterError("step", f"network segmentation supports train and infer, not {step}")


def _zoo_name(spec: JobSpec) -> str:
    if spec.algorithm not in ZOO_NAMES:
        raise ParameterError("algorithm", f"{spec.algorithm} is not a network segmentation card")
    return ZOO_NAMES[spec.algorithm]


def architecture_fields(card: str) -> list[str]:
    """Parameters that define the network (they must match between training and inference)."""
    fields = list(
        PARAMETER_MODELS[card if card in PARAMETER_MODELS else ZOO_NAMES[card]].model_fields
    )
    return [*fields, "dimensions"]


def _member_params(zoo_name: str, params: BaseModel, index: int) -> BaseModel:
    model = PARAMETER_MODELS[zoo_name]
    values = {name: getattr(params, name) for name in model.model_fields}
    if zoo_name == "smsnet":
        values["seed"] = params.seed + index  # each member draws its own random graph
    return model.model_validate(values)


def _training_params(params: BaseModel, index: int) -> TrainingParameters:
    values = {name: getattr(params, name) for name in TrainingParameters.model_fields}
    values["seed"] = params.seed + index
    return TrainingParameters.model_validate(values)


def _read_images(spec: JobSpec) -> np.ndarray:
    from algorithms.data import open_dataset

    if not spec.inputs.data_uri:
        raise InputDataError("the job names no images (inputs.data_uri)", "data_uri")
    return channels_first(open_dataset(spec.inputs.data_uri, spec.inputs.tiled_api_key).read())


@torch.no_grad()
def _ensemble_probabilities(
    models: list[torch.nn.Module], batch: np.ndarray, device: torch.device, amp: bool
) -> torch.Tensor:
    """(E, B, K, *window) softmax probabilities of every member."""
    x = torch.from_numpy(np.ascontiguousarray(batch)).to(device)
    outputs = []
    for model in models:
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
            outputs.append(torch.softmax(model(x).float(), dim=1))
    return torch.stack(outputs)


def train(spec: JobSpec, params: BaseModel, events: EventEmitter) -> dict[str, Any]:
    """Train the card's network(s) on sparse labels and save them to ``outputs.model_dir``."""
    zoo_name = _zoo_name(spec)
    if not spec.outputs.model_dir:
        raise InputDataError("training needs outputs.model_dir for the weights", "model_dir")
    seed = spec.seed if spec.seed is not None else params.seed
    params = params.model_copy(update={"seed": seed})
    images = _read_images(spec)
    labels = read_labels(spec, (images.shape[0], *images.shape[2:]))
    n_classes = max(2, int(labels.max()) + 1, len(spec.inputs.extra.get("classes", [])))
    mean, std = normalization_of(images)
    images = normalize(images, mean, std)
    train_labels, val_labels = split_labeled_pixels(labels, params.val_fraction, seed)

    if params.dimensions == 3:  # the stack is one volume (1, C, Z, Y, X)
        images = np.moveaxis(images, 1, 0)[None]
        labels, train_labels, val_labels = (a[None] for a in (labels, train_labels, val_labels))
    grid, notes = grid_for(
        images.shape[2:], params.window, params.step, params.border, params.border_weight
    )
    for note in notes:
        events.log(note, level="warning")
    _, indices = labeled_windows(labels, grid)
    inputs = unstitch(images, grid, indices)
    train_targets = unstitch(train_labels[:, None], grid, indices)[:, 0]
    val_targets = unstitch(val_labels[:, None], grid, indices)[:, 0]
    events.log(
        f"{len(indices)} of {images.shape[0] * len(grid)} windows hold labels; "
        f"{int((train_targets != -1).sum())} training and {int((val_targets != -1).sum())} "
        f"validation pixels, {n_classes} classes"
    )
    device = resolve_device(params.device)
    members = int(getattr(params, MEMBERS_FIELD, 1))
    trained: list[tuple[torch.nn.Module, BaseModel]] = []
    histories = []
    for index in range(members):
        member_params = _member_params(zoo_name, params, index)
        torch.manual_seed(seed + index)
        model = create_model(zoo_name, member_params, images.shape[1], n_classes, grid.ndim)
        step_name = "train" if members == 1 else f"member_{index}"

        def report(epoch: EpochReport, index: int = index, step_name: str = step_name) -> None:
            events.metric(epoch.epoch, {**epoch.metrics, "lr": epoch.learning_rate}, step_name)
            events.progress(0.9 * (index + epoch.epoch / epoch.epochs) / members)

        checkpoint = None
        if spec.work_dir:
            checkpoint = f"{spec.work_dir}/checkpoint_{spec.job_id}_{index:02d}.pt"
        result = train_segmentation(
            model,
            (inputs, train_targets),
            _training_params(params, index),
            n_classes,
            validation=(inputs, val_targets) if (val_targets != -1).any() else None,
            checkpoint_path=checkpoint,
            on_epoch=report,
        )
        histories.append(result)
        trained.append((model.eval(), member_params))

    amp = bool(params.mixed_precision and device.type == "cuda")
    evaluation_targets = val_targets if (val_targets != -1).any() else train_targets
    metrics, probabilities = _evaluate(
        [m for m, _ in trained], inputs, evaluation_targets, n_classes, params, device, amp
    )
    metrics["best_epochs"] = [h.best_epoch for h in histories]
    metrics["stopped_early"] = any(h.stopped_early for h in histories)
    conformal = None
    if params.conformal_coverage > 0:
        if not (val_targets != -1).any():
            raise ParameterError("conformal_coverage", "needs validation pixels (val_fraction > 0)")
        calibration = calibrate_conformal(probabilities, val_targets, params.conformal_coverage)
        conformal = calibration.to_dict()
        metrics["conformal_threshold"] = calibration.threshold
    stored = params.model_dump(mode="json")
    folder = save_bundle(
        spec.outputs.model_dir,
        zoo_name,
        trained,
        {
            "algorithm": spec.algorithm,
            "parameters": stored,
            "n_classes": n_classes,
            "in_channels": int(images.shape[1]),
            "normalization": {"mean": mean, "std": std},
            "conformal": conformal,
            "metrics": metrics,
            "device": str(device),
        },
    )
    events.artifact("model", str(folder), kind="model")
    events.progress(1.0, "model saved")
    return {
        "model": {
            "weights_uri": str(folder),
            "framework": "pytorch",
            "metrics": metrics,
            "parameters": stored,
        }
    }


def _evaluate(
    models: list[torch.nn.Module],
    inputs: np.ndarray,
    targets: np.ndarray,
    n_classes: int,
    params: BaseModel,
    device: torch.device,
    amp: bool,
) -> tuple[dict[str, Any], np.ndarray]:
    """Scores of the (mean) prediction on labeled windows, and those window probabilities."""
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    chunks = []
    batch = params.inference_batch_size
    for start in range(0, inputs.shape[0], batch):
        mean = _ensemble_probabilities(models, inputs[start : start + batch], device, amp).mean(0)
        mean = mean.cpu().numpy()
        chunks.append(mean)
        confusion += confusion_matrix(mean.argmax(1), targets[start : start + batch], n_classes)
    scores = scores_from_confusion(confusion)
    metrics = {f"val_{key}": value for key, value in scores.items()}
    return metrics, np.concatenate(chunks)


def check_architecture(card: str, params: BaseModel, saved: dict[str, Any]) -> None:
    """ParameterError naming the first architecture field given in ``params`` that differs."""
    for name in architecture_fields(card):
        if name in params.model_fields_set and name in saved:
            ours = params.model_dump(mode="json")[name]
            if ours != saved[name]:
                raise ParameterError(
                    name, f"the model was trained with {name}={saved[name]!r}, not {ours!r}"
                )


def infer(spec: JobSpec, params: BaseModel, events: EventEmitter) -> dict[str, Any]:
    """Segment the images with a trained model, writing results progressively."""
    from algorithms.data import ResultsWriter, open_dataset

    if not spec.inputs.model_uri:
        raise InputDataError("inference needs a trained model (inputs.model_uri)", "model_uri")
    if not spec.inputs.data_uri:
        raise InputDataError("the job names no images (inputs.data_uri)", "data_uri")
    device = resolve_device(params.device)
    bundle = load_bundle(spec.inputs.model_uri, device)
    if bundle.info.get("algorithm") != spec.algorithm:
        raise ParameterError(
            "algorithm",
            f"the model was trained by {bundle.info.get('algorithm')}, not {spec.algorithm}",
        )
    check_architecture(spec.algorithm, params, bundle.parameters)
    if spec.inputs.model_parameters:
        declared = type(params).model_validate(spec.inputs.model_parameters)
        check_architecture(spec.algorithm, declared, bundle.parameters)
    dataset = open_dataset(spec.inputs.data_uri, spec.inputs.tiled_api_key)
    channels = 1 if len(dataset.item_shape) == 2 else dataset.item_shape[-1]
    if channels != bundle.info["in_channels"]:
        raise InputDataError(
            f"images have {channels} channels, the model expects {bundle.info['in_channels']}",
            "data_uri",
        )
    return _segment(spec, params, bundle, dataset, device, events, ResultsWriter)


def _segment(spec, params, bundle: Bundle, dataset, device, events, writer_class) -> dict:
    """Stream the data set through the bundle and write the outputs."""
    trained = bundle.parameters
    n_classes = int(bundle.info["n_classes"])
    dimensions = int(trained["dimensions"])
    norm = bundle.info["normalization"]
    n_items = len(dataset)
    spatial = tuple(dataset.item_shape[:2])
    if dimensions == 3:
        spatial = (n_items, *spatial)
    # Tiling values given for this job win; the others are the ones the model was trained with.
    tiling = {
        name: getattr(params, name) if name in params.model_fields_set else trained[name]
        for name in ("window", "step", "border", "border_weight")
    }
    grid, notes = grid_for(spatial, **tiling)
    for note in notes:
        events.log(note, level="warning")
    amp = bool(params.mixed_precision and device.type == "cuda")
    ensemble = len(bundle.models) > 1
    want_std = ensemble and params.output_uncertainty
    conformal = bundle.info.get("conformal")
    writer = writer_class(
        spec.outputs.results_uri,
        spec.job_id,
        api_key=spec.outputs.tiled_api_key,
        metadata={
            "algorithm": spec.algorithm,
            "model_uri": spec.inputs.model_uri,
            "data_uri": spec.inputs.data_uri,
        },
    )
    image_shape = tuple(dataset.item_shape[:2])
    outputs: dict[str, Any] = {
        "mask": writer.create_array("mask", (n_items, *image_shape), np.uint8, {"kind": "mask"})
    }
    if params.output_probabilities:
        outputs["probabilities"] = writer.create_array(
            "probabilities",
            (n_items, n_classes, *image_shape),
            np.float16,
            {"kind": "probabilities"},
        )
    if want_std:
        outputs["uncertainty"] = writer.create_array(
            "uncertainty", (n_items, *image_shape), np.float16, {"kind": "ensemble_std"}
        )
    if conformal:
        outputs["prediction_sets"] = writer.create_array(
            "prediction_sets",
            (n_items, *image_shape),
            np.uint8,
            {"kind": "conformal_sets", "coverage": conformal["coverage"]},
        )

    def predict(batch: np.ndarray) -> np.ndarray:
        probabilities = _ensemble_probabilities(bundle.models, batch, device, amp)
        stitched = [probabilities.mean(0)]
        if want_std:
            stitched.append(probabilities.std(0, unbiased=False))
        return torch.cat(stitched, dim=1).cpu().numpy()

    def emit(start: int, block: np.ndarray) -> None:
        """``block`` is (channels, k, Y, X): k consecutive slices from ``start``."""
        probabilities = block[:n_classes]
        outputs["mask"].write_slices(start, probabilities.argmax(0).astype(np.uint8))
        if "probabilities" in outputs:
            outputs["probabilities"].write_slices(start, np.moveaxis(probabilities, 0, 1))
        if "uncertainty" in outputs:
            outputs["uncertainty"].write_slices(start, block[n_classes:].mean(0))
        if "prediction_sets" in outputs:
            sets = prediction_sets(np.moveaxis(probabilities, 0, 1), conformal["threshold"])
            outputs["prediction_sets"].write_slices(start, sets_to_bitmask(sets))

    def progress(fraction: float) -> None:
        events.progress(fraction, "segmenting")

    if dimensions == 2:
        predict_slices(
            lambda i: normalize(channels_first(dataset[i][None]), norm["mean"], norm["std"])[0],
            n_items,
            predict,
            grid,
            lambda i, out: emit(i, out[:, None]),
            batch_size=params.inference_batch_size,
            progress=progress,
        )
    else:

        def read_slab(z0: int, z1: int) -> np.ndarray:
            slab = normalize(channels_first(dataset.read_slices(z0, z1)), norm["mean"], norm["std"])
            return np.moveaxis(slab, 1, 0)

        predict_volume(
            read_slab,
            predict,
            grid,
            emit,
            batch_size=params.inference_batch_size,
            progress=progress,
        )
    uris = {name: handle.uri for name, handle in outputs.items()}
    for name, uri in uris.items():
        events.artifact(name, uri, kind="array")
    return {"outputs": uris, "classes": n_classes, "results_uri": writer.uri}
