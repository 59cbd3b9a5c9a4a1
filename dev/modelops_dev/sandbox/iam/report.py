"""`make least-privilege`'s report: the checks a test session recorded (MODELOPS_IAM_REPORT),
printed with the grants no call used.

    python -m modelops_dev.sandbox.iam.report out/iam.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def print_report(report: Mapping[str, Any]) -> None:
    print(f"{report['calls']} calls checked, {len(report['denied'])} denied")
    for line in report["denied"]:
        print(f"  DENIED {line}")
    print("granted but never used (per principal):")
    for principal, grants in report["unused"].items():
        print(f"  {principal}")
        for grant in grants:
            print(f"    {grant}")
    print("managed policies (used by Lambda's log and X-Ray agents, not by SDK calls; not checked):")
    for principal, arns in report["managed_policies"].items():
        print(f"  {principal}: {', '.join(a.rsplit('/', 1)[-1] for a in arns)}")
    print("roles only AWS services assume (not exercised in the sandbox):")
    for role in report["service_roles"]:
        print(f"  {role}")


if __name__ == "__main__":
    print_report(json.loads(Path(sys.argv[1]).read_text()))
