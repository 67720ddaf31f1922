"""Resource Groups Tagging API: everything tagged with an environment's Environment tag, in one query."""

from __future__ import annotations

from live_checks.inventory.base import Inventory, tags

PAGE_SIZE = 100  # GetResources' largest ResourcesPerPage: calls grow with pages of 100 resources


class Tagging(Inventory):
    service = "resourcegroupstaggingapi"

    def fetch(self) -> None:
        values = sorted(self.wanted.get("Environment", set()))
        self.resources = {r["ResourceARN"]: tags(r.get("Tags")) for r in self.pages(
            "get_resources", "ResourceTagMappingList", TagFilters=[{"Key": "Environment", "Values": values}],
            PaginationConfig={"PageSize": PAGE_SIZE})}
