"""Workflows: a small DAG of jobs whose steps feed each other through ``${step.path}``."""

from __future__ import annotations

import time

from fastapi import APIRouter

from services.common.db import read_only
from services.common.deps import CurrentUser, SessionDep
from services.common.errors import ApiError, Invalid
from services.compute.deps import CardsDep, DispatcherDep, SettingsDep, Submitter
from services.compute.lifecycle import dispatch_of, new_job
from services.compute.models import Job, Workflow, utcnow
from services.compute.references import REFERENCE, referenced_steps, topological_order
from services.compute.schemas import JobCreate, WorkflowCreate, WorkflowPublic
from services.compute.store import get_workflow, new_id

router = APIRouter(prefix="/workflows", tags=["workflows"])


@router.post(
    "",
    status_code=201,
    response_model=WorkflowPublic,
    summary="Submit a workflow",
    description="Steps run when the steps they reference (`${train.model.weights_uri}`) or "
    "name in `depends_on` have completed; a failed or canceled step cancels its dependants. "
    "Steps are validated now (422 with `steps.N.` fields), except those whose parameters or "
    "`model_id` hold references: they are validated when those are resolved.",
)
def submit_workflow(
    data: WorkflowCreate,
    session: SessionDep,
    principal: Submitter,
    cards: CardsDep,
    dispatcher: DispatcherDep,
    settings: SettingsDep,
) -> WorkflowPublic:
    names = [step.name for step in data.steps]
    dependencies: dict[str, set[str]] = {}
    for index, step in enumerate(data.steps):
        if step.name in names[:index]:
            raise Invalid(f"step name {step.name!r} is used twice", field=f"steps.{index}.name")
        needed = (
            referenced_steps(step.parameters)
            | referenced_steps(step.inputs.model_dump())
            | set(step.depends_on)
        )
        unknown = sorted(needed - set(names))
        if unknown:
            raise Invalid(
                f"step {step.name!r} refers to unknown step(s) {', '.join(unknown)}",
                field=f"steps.{index}",
            )
        dependencies[step.name] = needed
    try:
        topological_order(dependencies)
    except ValueError as error:
        raise Invalid(str(error), field="steps") from error

    # Ask MLExContent about every step before writing anything (no lock held meanwhile).
    checks = []
    for index, step in enumerate(data.steps):
        model_id = step.inputs.model_id
        model_later = bool(model_id and REFERENCE.search(model_id))
        # A model from an upstream step fixes architecture parameters: validate with it later.
        later = bool(referenced_steps(step.parameters)) or model_later
        if model_later:
            model_id = None
        try:
            if later:
                checked = cards.card(step.algorithm, step.version, step.step)
            else:
                checked = cards.check(
                    step.algorithm, step.version, step.step, step.parameters, model_id
                )
        except ApiError as error:
            raise _in_step(error, index) from error
        checks.append((step, checked, later))

    workflow = Workflow(id=new_id(), name=data.name, owner=principal.name, created_at=utcnow())
    session.add(workflow)
    session.flush()  # jobs reference it; there is no ORM relationship to order the inserts
    jobs: dict[str, Job] = {}
    for step, checked, later in checks:
        request = JobCreate(**step.model_dump(exclude={"name", "depends_on"}))
        job = new_job(
            principal.name,
            request,
            checked,
            settings,
            workflow_id=workflow.id,
            step_name=step.name,
        )
        if later:
            job.parameters = step.parameters
        if dependencies[step.name]:
            job.template = {
                "parameters": job.parameters,
                "inputs": job.inputs,
                "validate_later": later,
            }
        else:
            job.dispatched_at = time.time()
        jobs[step.name] = job
    for name, job in jobs.items():
        job.depends_on = sorted(jobs[upstream].id for upstream in dependencies[name])
        session.add(job)
    session.commit()
    dispatcher.send([dispatch_of(job) for job in jobs.values() if job.dispatched_at is not None])
    return get_workflow(session, workflow.id, principal)


@router.get("/{workflow_id}", response_model=WorkflowPublic, summary="Read a workflow")
def read_workflow(workflow_id: str, session: SessionDep, principal: CurrentUser) -> WorkflowPublic:
    return get_workflow(read_only(session), workflow_id, principal)


def _in_step(error: ApiError, index: int) -> ApiError:
    """Prefix the fields of a step's validation error with ``steps.N.``."""
    prefix = f"steps.{index}."
    error.field = prefix + (error.field or "")
    for detail in error.details or []:
        detail.field = prefix + (detail.field or "")
    return error
