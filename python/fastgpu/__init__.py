"""FastGPU's Python client: submit jobs, follow their logs, run services, read usage and
cost.

Standard library only. Quick start::

    import fastgpu

    client = fastgpu.Client()  # FASTGPU_SERVER / FASTGPU_TOKEN, or `fastgpu login`'s file
    job = client.submit(["sh", "-c", "echo hello"], gpu=0.5, memory="1GiB")
    for text in client.logs(job, follow=True):
        print(text, end="")
    print(client.wait(job).state)

See docs/sdk.md for the whole API.
"""

from .client import Client
from .config import ClientConfig, default_config_path, resolve_config
from .errors import (AlreadyExistsError, FailedPreconditionError, FastGPUError, InternalError,
                     InvalidArgumentError, NotFoundError, PermissionDeniedError,
                     ResourceExhaustedError, UnauthenticatedError, UnavailableError,
                     WaitTimeoutError)
from .types import (SERVICE_STATES, TERMINAL_STATES, Allocation, DeletedService, Gpu, Job,
                    JobEvent, JobPage, LogChunk, Node, Prices, Readiness, ReplicaStatus, Service,
                    ServiceScale, ServiceSpec, Shape, Slice, Tenant, Token, UsageReport, UsageRow)
from .units import parse_cpu_milli, parse_gpu, parse_memory_mib

__version__ = "0.1.0"

__all__ = [
    "Client", "ClientConfig", "default_config_path", "resolve_config",
    "FastGPUError", "InvalidArgumentError", "UnauthenticatedError", "PermissionDeniedError",
    "NotFoundError", "AlreadyExistsError", "FailedPreconditionError", "ResourceExhaustedError",
    "InternalError", "UnavailableError", "WaitTimeoutError",
    "TERMINAL_STATES", "Allocation", "Gpu", "Job", "JobEvent", "JobPage", "LogChunk", "Node",
    "Prices", "Shape", "Slice", "Tenant", "Token", "UsageReport", "UsageRow",
    "SERVICE_STATES", "Service", "ServiceSpec", "ServiceScale", "Readiness", "ReplicaStatus",
    "DeletedService",
    "parse_gpu", "parse_memory_mib", "parse_cpu_milli", "__version__",
]
