"""`make demo` (`modelops demo`): the main job on the embedded sandbox, printed for a person
(or as JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import boto3
import yaml

from modelops.domain.periods import add_months
from modelops.pipeline.monitoring import report_html
from modelops.stores import latest, layout, objects, online_features, specs
from modelops_dev.client import runner
from modelops_dev.client.summary import realized_line
from modelops_dev.demo import synthetic
from modelops_dev.sandbox import QUIET, REGION, Sandbox, embedded

SPEC = "models/churn.yaml"


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 10_000
    months: int = 12
    drift: bool = True
    start: date = date(2025, 1, 1)

    @property
    def training_as_of(self) -> date:
        """Train on the first two thirds of the months; the rest are for scoring."""
        return add_months(self.start, max(2, self.months * 2 // 3) - 1)


def _say(as_json: bool, text: str = "") -> None:
    if not as_json:
        print(text, flush=True)


def run(options: DemoOptions, as_json: bool = False) -> int:
    from modelops_dev.sandbox import PROJECT_ROOT

    report: dict[str, Any] = {}
    with embedded(environment=QUIET) as sandbox:
        _say(as_json, "modelops demo — embedded AWS sandbox (moto), the real template.yaml and ASL")
        report["spec"] = runner.put_spec(PROJECT_ROOT / SPEC)
        config = synthetic.DemoConfig(
            customers=options.customers,
            months=options.months,
            start=options.start,
            drift_month=9 if options.drift else None,
        )
        loaded = synthetic.load_demo_data(config)
        report["data"] = {"partitions": len(loaded), "rows": sum(loaded.values())}
        _say(
            as_json,
            f"data lake: {sum(loaded.values()):,} rows in {len(loaded)} monthly partitions "
            f"({options.customers:,} customers, drift {'on' if options.drift else 'off'})",
        )

        as_of = options.training_as_of
        _say(
            as_json, f"\ntraining churn as of {as_of} (Step Functions: {sandbox.ref('TrainingStateMachine')})"
        )
        arn = runner.start(
            sandbox.ref("TrainingStateMachine"), {"model": "churn", "as_of": as_of.isoformat()}
        )
        result = runner.follow(arn, on_state=None if as_json else _print_state)
        report["training"] = {
            "status": result.status,
            "error": result.error,
            "seconds": round(result.seconds, 2),
            "states": result.states,
        }
        if result.status != "SUCCEEDED" or result.output is None:
            _say(as_json, f"training {result.status}: {result.error}: {result.cause}")
            if as_json:
                print(json.dumps(report, indent=2, default=str))
            return 1
        results = result.output["results"]
        deployed, trained = results["deploy_model"], results["train_model"]
        summary = objects.get_json(objects.key_of(result.output["artifacts"]["training"]))
        report["model"] = {**deployed, "params": trained["params"], "metrics": summary["metrics"]}
        report["keys"] = {
            "run": objects.list_keys(f"runs/{result.output['run']['run_id']}/"),
            "model": objects.list_keys(f"models/churn/{deployed['version']}/"),
        }
        if not as_json:
            _print_model(report)
        report["challenger"] = _train_challenger(sandbox, options, as_json)

        report["scoring"] = _score_months(sandbox, options, as_json)
        if any(month["status"] != "SUCCEEDED" for month in report["scoring"]):
            if as_json:
                print(json.dumps(report, indent=2, default=str))
            return 1
        report["top"] = [score.__dict__ for score in latest.top("churn", 10)]
        report["online"] = _online_example(sandbox, report["top"][0]["entity_id"])
        report["queue"] = _queue_depth(sandbox.ref("CampaignQueue"))
        local_report = PROJECT_ROOT / "out" / "churn-drift.html"
        local_report.parent.mkdir(exist_ok=True)
        local_report.write_text(report_html("churn"))
        report["drift_report"] = {"s3": objects.uri(layout.report_key("churn")), "local": str(local_report)}
        if as_json:
            print(json.dumps(report, indent=2, default=str))
            return 0
        _print_scoring(report)
    return 0


def _train_challenger(sandbox: Sandbox, options: DemoOptions, as_json: bool) -> dict[str, Any]:
    """A challenger trained a month earlier (an older window), judged by the promotion gate on
    its own test month against the champion; with the spec's ``shadow: true`` the scoring runs
    score it beside the champion, into the history only."""
    from modelops_dev.sandbox import PROJECT_ROOT

    document = yaml.safe_load((PROJECT_ROOT / SPEC).read_text())
    specs.store_spec(yaml.safe_dump({**document, "shadow": True}, sort_keys=False), "demo: shadow on")
    as_of = add_months(options.training_as_of, -1)
    # its window starts a month before the data: a partial window, allowed for this run
    request = {"model": "churn", "as_of": as_of.isoformat(), "allow_partial": True}
    result = runner.follow(runner.start(sandbox.ref("TrainingStateMachine"), request))
    if result.status != "SUCCEEDED" or result.output is None:
        raise RuntimeError(f"training the challenger {result.status}: {result.error}: {result.cause}")
    deployed: dict[str, Any] = result.output["results"]["deploy_model"]
    role = "the champion now" if deployed["champion"] else "scored beside the champion as its shadow"
    _say(
        as_json,
        f"\nchallenger churn {deployed['version']} trained as of {as_of}: {deployed['status']} — "
        f"{deployed['reason']}; {role}",
    )
    return deployed


def _score_months(sandbox: Sandbox, options: DemoOptions, as_json: bool) -> list[dict[str, Any]]:
    """Score every month after the training window, as the monthly schedule would."""
    months = []
    _say(as_json, f"\nscoring each month after the training window ({sandbox.ref('ScoringStateMachine')})")
    for index in range(1, options.months):
        as_of = add_months(options.training_as_of, index)
        if as_of >= add_months(options.start, options.months):
            break
        arn = runner.start(sandbox.ref("ScoringStateMachine"), {"model": "churn", "as_of": as_of.isoformat()})
        result = runner.follow(arn)
        month: dict[str, Any] = {
            "as_of": as_of.isoformat(),
            "status": result.status,
            "seconds": round(result.seconds, 2),
        }
        if result.status != "SUCCEEDED" or result.output is None:
            month.update(error=result.error, cause=result.cause)
            _say(as_json, f"  {as_of}  {result.status}: {result.error}: {result.cause}")
            months.append(month)
            break
        results = result.output["results"]
        outcomes = results.get("validate_outcomes", {})
        month.update(
            rows=results["deploy_scores"]["rows"],
            chunks=results["get_data"]["chunks"],
            campaign=results["campaign"],
            drift=results["validate_scores"].get("alert"),
            realized={"period": outcomes.get("outcome_period"), **outcomes.get("realized", {})},
            realized_line=realized_line(outcomes or None),
        )
        months.append(month)
        campaign = results["campaign"]
        _say(
            as_json,
            f"  {as_of}  {month['rows']:>7,} scored in {month['chunks']} chunks  "
            f"campaign: {campaign['selected']} selected, {campaign['in_cooldown']} in cooldown, "
            f"{campaign['sent']} sent  ({result.seconds:.1f}s)",
        )
        _say(as_json, f"              drift: {_drift_line(month['drift'])}")
        if month["realized_line"]:
            _say(as_json, f"              {month['realized_line']}")
    return months


def _drift_line(alert: dict[str, Any] | None) -> str:
    if alert is None:
        return "no alert"
    metrics = ", ".join(alert["metrics"])
    if not alert["sent"]:
        return f"still drifting ({metrics}); {alert['reason']}, not re-sent"
    return f"ALERT ({alert['severity']}) sent to SNS + EventBridge: {alert.get('summary') or metrics}"


def _online_example(sandbox: Sandbox, entity_id: str) -> dict[str, Any]:
    """The online API on the top customer: with its own batch values as the real-time part,
    the online score must equal the batch score; a bad value gets a 422 naming the field."""
    from modelops_dev.client import gateway

    table = gateway.routes(sandbox)
    batch = online_features.read("churn", [entity_id])[entity_id]
    realtime = {"support_calls": batch["support_calls"], "data_usage_gb": batch["data_usage_gb"]}

    def post(features: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = json.dumps({"entity_id": entity_id, "features": features})
        event = gateway.api_event(
            "POST", "/models/churn/score", body, {"Content-Type": "application/json"}, table
        )
        response = sandbox.call(gateway.FUNCTION, event)
        return int(response["statusCode"]), json.loads(response["body"])

    status, same = post(realtime)
    batch_score = latest.get("churn", entity_id)
    bad_status, bad = post({**realtime, "support_calls": "many"})
    return {
        "entity_id": entity_id,
        "status": status,
        "online_score": same.get("score"),
        "batch_score": None if batch_score is None else batch_score.score,
        "invalid_request": {"status": bad_status, **bad},
    }


def _queue_depth(queue_url: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _print_scoring(report: dict[str, Any]) -> None:
    latest = report["scoring"][-1]["as_of"]
    print(f"\ntop customers of the latest run (as of {latest})")
    print(f"  {'rank':>4}  {'customer':<10} {'score':>7}  version")
    for rank, score in enumerate(report["top"], 1):
        print(f"  {rank:>4}  {score['entity_id']:<10} {score['score']:>7.4f}  {score['model_version']}")
    print(f"\ncampaign queue: {report['queue']} customer ids handed to the email/SMS application")
    online = report["online"]
    print(
        f"\nonline API (POST /models/churn/score) for customer {online['entity_id']}: {online['status']}, "
        f"score {online['online_score']:.6f} (batch {online['batch_score']:.6f})"
    )
    invalid = online["invalid_request"]
    print(f"  a bad value: {invalid['status']} {invalid['field']}: {invalid['reason']}")
    print(f"drift report: {report['drift_report']['s3']}\n              {report['drift_report']['local']}")


def _print_state(state: str, phase: str, seconds: float) -> None:
    if phase == "done":
        print(f"  ✓ {state:<14} {seconds:6.2f}s", flush=True)


def _print_model(report: dict[str, Any]) -> None:
    model = report["model"]
    champion = "champion" if model["champion"] else "not promoted"
    print(f"\nmodel churn {model['version']} — {champion}: {model['reason']}")
    print(f"  sha256 {model['sha256']}")
    print(f"  hyperparameters {json.dumps(model['params'], sort_keys=True)}")
    print(f"  {'sample':<11} {'rows':>7} {'ROC AUC':>8} {'log loss':>9} {'Brier':>7} {'churn rate':>10}")
    for sample in ("validation", "test"):
        m = model["metrics"][sample]
        print(
            f"  {sample:<11} {int(m['rows']):>7,} {m['roc_auc']:>8.4f} {m['log_loss']:>9.4f} "
            f"{m['brier']:>7.4f} {m['outcome_rate']:>10.2%}"
        )
    print("\nS3 keys written")
    for group in ("model", "run"):
        parts: dict[str, list[str]] = {}  # a folder of numbered parts prints as one line
        for key in report["keys"][group]:
            folder, name = key.rsplit("/", 1)
            if name.startswith("part-"):
                parts.setdefault(folder, []).append(name)
            else:
                print(f"  {objects.uri(key)}")
        for folder, names in parts.items():
            extension = names[0].rsplit(".", 1)[-1]
            print(f"  {objects.uri(folder)}/part-*.{extension} ({len(names)} parts)")
