"""Azure Pipelines, run here: the runner (runner.py) walks triggers, stages, jobs and steps;
the tasks it knows (tasks.py) and the pipeline cache service (cache_store.py) are apart."""

from azure_standins.pipeline.cache_store import CacheStore
from azure_standins.pipeline.expressions import UnsupportedConstruct
from azure_standins.pipeline.results import JobResult, RunResult, StepResult
from azure_standins.pipeline.runner import PipelineRunner
from azure_standins.pipeline.tasks import ToolCache

__all__ = [
    "CacheStore",
    "JobResult",
    "PipelineRunner",
    "RunResult",
    "StepResult",
    "ToolCache",
    "UnsupportedConstruct",
]
