"""Built-in scenarios: `demo` (the first impression) and `testing` (small and fast)."""

from __future__ import annotations

from collections.abc import Callable

from crewdash.sim.scenario import CrewSpec, FaultSpec, InputField, Scenario, TaskSpec

_RESEARCH = CrewSpec(
    name="research",
    label="Market Research Crew",
    inputs=(InputField("topic"), InputField("audience")),
    inputs_style="names",
    status_route="current",
    tasks=(
        TaskSpec(
            "research_task",
            "Senior Research Analyst",
            30,
            "## Sources reviewed: {topic}\n\n"
            "- 14 industry reports (2023-2025), 6 analyst briefings, 3 earnings calls\n"
            "- Strongest signal: adoption is moving from pilots to production budgets\n"
            "- Weakest evidence: claims about cost savings beyond year one\n",
            steps=3,
        ),
        TaskSpec(
            "analysis_task",
            "Data Analyst",
            20,
            "## Key figures\n\n| Metric | 2024 | 2025 (est.) |\n|---|---:|---:|\n"
            "| Market size | $4.2B | $5.9B |\n| YoY growth | 31% | 40% |\n"
            "| Top-3 vendor share | 58% | 52% |\n\nConsolidation is slowing: "
            "challengers are gaining share in mid-market deals.",
        ),
        TaskSpec(
            "report_task",
            "Report Writer",
            20,
            "# {topic}: briefing for {audience}\n\n## Summary\n"
            "Demand is real and budgets are shifting from experiments to production. "
            "Growth is strongest in the mid-market, where challengers win on price and "
            "integration speed.\n\n## Recommendations\n1. Prioritise integrations over features.\n"
            "2. Publish a cost calculator: buyers doubt year-two savings.\n"
            "3. Revisit pricing for teams under 50 seats.\n",
        ),
    ),
)

_TRAVEL = CrewSpec(
    name="trip-planner",
    label="Trip Planner (typed inputs)",
    inputs_style="typed",
    status_route="legacy",
    error_field="error_message",
    stop="405",
    inputs=(
        InputField("destination", "string", description="City or region"),
        InputField("days", "integer", description="Length of the trip", default=5),
        InputField("budget_usd", "number", description="Total budget in US dollars"),
        InputField("include_flights", "boolean", required=False, default=False),
        InputField(
            "pace",
            "enum",
            required=False,
            default="balanced",
            options=("relaxed", "balanced", "packed"),
        ),
        InputField("notes", "text", required=False, description="Anything else we should know"),
        InputField(
            "preferences", "object", required=False, description='JSON, e.g. {"food": "vegetarian"}'
        ),
    ),
    tasks=(
        TaskSpec(
            "destination_research",
            "Local Expert",
            10,
            "## {destination} at a glance\n\n- Best areas to stay: old town, riverside\n"
            "- Getting around: day pass for public transport\n",
        ),
        TaskSpec(
            "itinerary_task",
            "Travel Planner",
            14,
            "## {days}-day itinerary\n\n**Day 1** — arrival, walking tour, dinner by the river\n"
            "**Day 2** — museums in the morning, market and cooking class\n"
            "**Day 3** — day trip to the coast\n",
        ),
        TaskSpec(
            "budget_task",
            "Budget Advisor",
            10,
            "# Trip to {destination}\n\n| Item | Estimate |\n|---|---:|\n"
            "| Lodging | 45% |\n| Food | 25% |\n| Activities | 20% |\n| Transport | 10% |\n\n"
            "Fits within **${budget_usd}** with a 10% reserve.",
        ),
    ),
)

_REVIEW = CrewSpec(
    name="content-review",
    label="Content Review Crew (asks a human)",
    inputs_style="required",
    pause_state="pending_human_input",
    inputs=(InputField("brief"), InputField("channel"), InputField("tone", required=False)),
    tasks=(
        TaskSpec(
            "draft_task",
            "Content Writer",
            12,
            "# Draft for {channel}\n\n**Headline:** Ship faster with fewer surprises\n\n"
            "Teams using automated review catch 3x more issues before release. "
            "Here is how to start this week, without changing your stack.\n",
        ),
        TaskSpec(
            "editorial_review",
            "Editor-in-Chief",
            5,
            '## Editorial check\n\n- Claims sourced: 2 of 3 ("3x more issues" needs a citation)\n'
            "- Tone: matches the brief\n- Length: 142 words, within the {channel} limit\n",
            human_input=True,
            prompt="Approve the draft for {channel}, or send it back with notes.",
        ),
        TaskSpec(
            "publish_task",
            "Publishing Coordinator",
            20,
            "# Ready to publish on {channel}\n\nScheduled for the next slot (Tuesday 09:00). "
            "UTM tags added; the editor's notes are applied.",
        ),
    ),
)

_APPROVAL_FLOW = CrewSpec(
    name="expense-approval",
    label="Expense Approval Flow",
    kind="flow",
    pause_state="awaiting_human_feedback",
    inputs=(InputField("employee"), InputField("amount"), InputField("purpose")),
    tasks=(
        TaskSpec(
            "collect_receipts",
            "Intake Agent",
            6,
            "Receipts for **{employee}** collected: 4 items, total **{amount}**.",
        ),
        TaskSpec(
            "policy_check",
            "Compliance Reviewer",
            10,
            "## Policy check: {purpose}\n\n- Per-diem limits: within\n"
            "- Pre-approval: **missing** for the conference ticket\n"
            "- Risk: low\n",
            human_input=True,
            prompt="Approve, reject or escalate the expense claim of {employee} ({amount}).",
            emit=("approve", "reject", "escalate"),
        ),
        TaskSpec(
            "notify_finance",
            "Finance Ops Agent",
            8,
            "# Expense claim processed\n\nFinance has been notified; reimbursement "
            "will be in the next payroll run.",
        ),
    ),
)

_FLAKY = CrewSpec(
    name="flaky-scraper",
    label="Web Scraper (flaky)",
    inputs=(InputField("url"),),
    faults=FaultSpec(
        latency=0.15,
        jitter=0.1,
        error_rate=0.12,
        html_error_fraction=0.5,
        rate_limit=8,
        rate_window=1.0,
        bad_body_rate=0.04,
        drop_rate=0.03,
    ),
    tasks=(
        TaskSpec(
            "fetch_pages",
            "Web Scraper",
            20,
            "Fetched 37 pages from {url}.",
            fail_rate=0.35,
            error="Task execution failed: {url} answered 503 three times",
        ),
        TaskSpec(
            "extract_task",
            "Data Extractor",
            20,
            "## Extracted from {url}\n\n- 212 product rows\n- 9 rows without price (skipped)\n",
        ),
    ),
)

_LONG_FLOW = CrewSpec(
    name="quarterly-forecast",
    label="Quarterly Forecast Flow (long)",
    kind="flow",
    inputs=(InputField("quarter"), InputField("region")),
    expire_after=None,
    tasks=tuple(
        TaskSpec(task_id, agent, minutes * 60, text, steps=5)
        for task_id, agent, minutes, text in (
            (
                "load_ledgers",
                "Data Engineer",
                4,
                "Loaded 1.2M ledger lines for {region}, {quarter}.",
            ),
            (
                "clean_data",
                "Data Quality Agent",
                6,
                "Removed 3,418 duplicates; 12 currencies normalised.",
            ),
            (
                "fit_models",
                "Forecasting Analyst",
                10,
                "Fitted 3 models; best MAPE 4.1% (gradient boosting).",
            ),
            ("scenario_runs", "Risk Analyst", 8, "Ran base, upside and downside scenarios."),
            (
                "write_forecast",
                "CFO Briefing Writer",
                5,
                "# {quarter} forecast — {region}\n\n"
                "| Scenario | Revenue | Margin |\n|---|---:|---:|\n"
                "| Downside | $41.8M | 18% |\n| Base | $45.3M | 21% |\n"
                "| Upside | $48.9M | 23% |\n\n"
                "Main risk: FX exposure in two subsidiaries.",
            ),
        )
    ),
)


def demo_scenario() -> Scenario:
    """Six deployments that show every part of crewdash within two minutes at speed 1.

    Trip Planner finishes in ~35 s, the review crew asks a human at ~18 s and finishes ~20 s
    after approval, the flow asks at ~17 s, research takes ~70 s; the forecast flow runs 33 min.
    """
    return Scenario(
        name="demo",
        description="A research crew, typed inputs, a human review, a flow with outcomes, "
        "a flaky crew and a long-running flow.",
        crews=(_RESEARCH, _TRAVEL, _REVIEW, _APPROVAL_FLOW, _FLAKY, _LONG_FLOW),
    )


# The `testing` scenario's crews: frozen, so every call can share them, as the demo's do.
_QUICK_BASIC = CrewSpec(
    "basic",
    inputs=(InputField("topic"),),
    queue_delay=0.5,
    tasks=(
        TaskSpec("first", "Researcher", 1.0, "First about {topic}"),
        TaskSpec("second", "Writer", 1.0, "# Report on {topic}"),
    ),
)

_QUICK_REVIEW = CrewSpec(
    "review",
    inputs_style="required",
    queue_delay=0.5,
    inputs=(InputField("brief"), InputField("tone", required=False)),
    tasks=(
        TaskSpec("draft", "Writer", 1.0, "Draft of {brief}"),
        TaskSpec(
            "review",
            "Editor",
            1.0,
            "Reviewed draft of {brief}",
            human_input=True,
            prompt="Approve the draft?",
        ),
        TaskSpec("publish", "Publisher", 1.0, "Published {brief}"),
    ),
)

_QUICK_FLOW = CrewSpec(
    "flow",
    kind="flow",
    pause_state="awaiting_human_feedback",
    queue_delay=0.5,
    inputs=(InputField("amount"),),
    tasks=(
        TaskSpec(
            "check",
            "Checker",
            1.0,
            "Checked {amount}",
            human_input=True,
            prompt="Decide on {amount}",
            emit=("approve", "reject", "escalate"),
        ),
        TaskSpec("finish", "Closer", 1.0, "Done with {amount}"),
    ),
)

_QUICK_LEGACY = CrewSpec(
    "legacy",
    inputs_style="typed",
    status_route="legacy",
    error_field="error_message",
    stop="405",
    expire_after=30.0,
    queue_delay=0.5,
    inputs=(
        InputField("count", "integer"),
        InputField("ratio", "number"),
        InputField("flag", "boolean", required=False),
        InputField("mode", "enum", required=False, options=("a", "b")),
        InputField("extra", "object", required=False),
    ),
    tasks=(TaskSpec("only", "Solo", 1.0, "Counted {count}"),),
)

_QUICK_FAILING = CrewSpec(
    "failing",
    queue_delay=0.5,
    inputs=(InputField("x"),),
    tasks=(
        TaskSpec("ok", "A", 1.0, "fine"),
        TaskSpec("boom", "B", 1.0, "never", fail_rate=1.0, error="Boom on {x}"),
    ),
)


def quick_scenario() -> Scenario:
    """Small and quick (about 1 simulated second per task) for tests; no faults."""
    return Scenario(
        name="testing",
        crews=(_QUICK_BASIC, _QUICK_REVIEW, _QUICK_FLOW, _QUICK_LEGACY, _QUICK_FAILING),
    )


BUILTIN: dict[str, Callable[[], Scenario]] = {
    "demo": demo_scenario,
    "testing": quick_scenario,
}
