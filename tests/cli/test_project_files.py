"""Files a user applies as they are: automations.yaml and prefect.yaml are valid for Prefect."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml
from prefect.events.schemas.automations import AutomationCore, EventTrigger

from flows.registry import FLOWS
from tasks.reporting import QUARANTINE_EVENT

ROOT = Path(__file__).resolve().parents[2]


def test_automations_validate_and_watch_quarantines() -> None:
    """The automations parse as Prefect automations; one reacts to failed runs, one marks runs that stopped
    sending heartbeats Crashed, one reacts to quarantined orders; the run ones watch every lw3pl flow."""
    spec = yaml.safe_load((ROOT / "automations.yaml").read_text())
    triggers: list[set[str]] = []
    for automation in spec["automations"]:
        for action in automation["actions"]:
            if "block_document_id" in action:
                action["block_document_id"] = str(uuid.uuid4())
        model = AutomationCore.model_validate(automation)
        assert isinstance(model.trigger, EventTrigger)
        triggers.append(set(model.trigger.expect))
        related = automation["trigger"].get("match_related", {})
        if related.get("prefect.resource.role") == "flow":
            assert sorted(related["prefect.resource.name"]) == sorted(FLOWS), automation["name"]
    assert {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"} in triggers
    assert {"prefect.flow-run.heartbeat", "prefect.flow-run.Completed"} < set().union(*triggers)
    assert {QUARANTINE_EVENT} in triggers


def test_every_deployment_allows_one_run_at_a_time() -> None:
    """Overlapping runs of one deployment are refused (CANCEL_NEW), and every schedule has a slug."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    for deployment in spec["deployments"]:
        limit = deployment["concurrency_limit"]
        assert limit == {"limit": 1, "collision_strategy": "CANCEL_NEW"}, deployment["name"]
        assert all("slug" in schedule for schedule in deployment.get("schedules", [])), deployment["name"]
