"""The demo's config: every simulated crew, and the webhook receiver on a loopback port so
its runs' step and task webhooks reach the Events tab."""

from __future__ import annotations

from pathlib import Path

from crewdash.commands.demo import demo_config
from crewdash.core.config.load import load_config
from crewdash.sim import SimApp, demo_scenario
from crewdash.sim.address import SimAddress


def test_the_demo_turns_the_receiver_on_when_given_a_port(tmp_path: Path) -> None:
    scenario = demo_scenario()
    address = SimAddress(SimApp(scenario), "127.0.0.1", 40001)
    config = demo_config(address, scenario, tmp_path / "on.toml", receiver_port=40002)
    assert config.receiver.enabled and config.receiver.host == "127.0.0.1"
    assert config.receiver.port == 40002
    assert load_config(tmp_path / "on.toml").receiver == config.receiver  # as written
    assert set(config.crews) == {spec.name for spec in scenario.crews}
    off = demo_config(address, scenario, tmp_path / "off.toml")
    assert not off.receiver.enabled
