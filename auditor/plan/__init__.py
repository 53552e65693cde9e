"""Remediation plans: one per token (build), the providers' own requests (emit), and their renderings (render)."""

from auditor.plan.build import attach_plans, build_plans, plan_id
from auditor.plan.catalogue import Catalogue

__all__ = ["Catalogue", "attach_plans", "build_plans", "plan_id"]
